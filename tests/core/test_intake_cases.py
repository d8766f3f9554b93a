"""Intake of the cases' records: extend and return with their sanction, victims on reports,
acks of returns; and their trip through the internal formats."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from antifraud.core.bank_directory import BankDirectory
from antifraud.core.cases import Sanction, Victim
from antifraud.core.identifiers import Identifier
from antifraud.core.intake import Rejected, parse_ack, parse_report
from antifraud.core.ledger import AckReceived
from antifraud.core.serde import (
    dump_ledger_event,
    dump_report_event,
    load_ledger_event,
    load_report_event,
)
from antifraud.core.timestamps import parse_rfc3339

NOW = parse_rfc3339("2026-12-03T10:06:00+05:00")
SANCTION = {
    "authority": "Almaty city prosecutor",
    "reference": "SK-2026-7781",
    "issued_at": "2026-12-03T10:00:00+05:00",
}
EXTEND: dict[str, Any] = {
    "report_id": "R-2026-000042",
    "action": "extend",
    "sanction": SANCTION,
    "until": "2026-12-31T18:00:00+05:00",
    "reported_at": "2026-12-03T10:05:00+05:00",
    "issuer": "ALM-PD-CYBER",
}
RETURN = {k: v for k, v in EXTEND.items() if k != "until"} | {"action": "return"}
REPORT: dict[str, Any] = {
    "report_id": "R-2026-000042",
    "action": "report",
    "fraud_type": "bank_impersonation",
    "reported_at": "2026-12-03T10:05:00+05:00",
    "accounts": [{"kind": "phone", "value": "87011234567"}],
    "victims": [
        {
            "account": {"kind": "iban", "value": "kz86 125k zt50 0410 0100", "bank_id": "CASPKZKA"},
            "amount_lost": 30_000_000,
            "currency": "KZT",
        }
    ],
}


def parse(record: dict[str, Any]) -> Any:
    return parse_report(orjson.dumps(record), {}, BankDirectory.load(), now=NOW)


def code(record: dict[str, Any]) -> str:
    with pytest.raises(Rejected) as rejected:
        parse(record)
    return rejected.value.code


def test_extend_and_return_carry_their_sanction_and_new_lifetime() -> None:
    extend = parse(EXTEND)
    assert extend.action == "extend" and extend.accounts == ()
    assert extend.sanction == Sanction(**SANCTION)
    assert extend.until == parse_rfc3339("2026-12-31T18:00:00+05:00")
    ret = parse(RETURN)
    assert (ret.action, ret.sanction, ret.until) == ("return", Sanction(**SANCTION), None)
    # Unknown extra fields in a sanction are ignored, never rejected.
    assert parse({**RETURN, "sanction": {**SANCTION, "note": "x"}}).sanction == ret.sanction


@pytest.mark.parametrize("field", ["authority", "reference", "issued_at"])
def test_without_a_complete_sanction_an_order_is_a_schema_violation(field: str) -> None:
    for record in (EXTEND, RETURN):
        partial = {**record, "sanction": {k: v for k, v in SANCTION.items() if k != field}}
        assert code(partial) == "schema_violation"
        assert code({k: v for k, v in record.items() if k != "sanction"}) == "schema_violation"
    assert code({k: v for k, v in EXTEND.items() if k != "until"}) == "schema_violation"


def test_victims_are_normalised_and_a_bad_one_is_an_invalid_identifier() -> None:
    report = parse(REPORT)
    assert report.victims == (
        Victim(Identifier("iban", "KZ86125KZT5004100100"), "CASPKZKA", 30_000_000, "KZT"),
    )
    assert report.amount_lost == 30_000_000
    broken = {**REPORT, "victims": [{**REPORT["victims"][0], "account": {
        "kind": "iban", "value": "KZ00125KZT5004100100", "bank_id": "CASPKZKA"}}]}  # fmt: skip
    assert code(broken) == "invalid_identifier"


def test_the_case_fields_survive_the_report_event() -> None:
    for record in (REPORT, EXTEND, RETURN):
        report = parse(record)
        assert load_report_event(dump_report_event(report)) == report


def test_a_returned_ack_carries_its_amount_through_the_ledger_event() -> None:
    raw = orjson.dumps(
        {
            "command_id": "9b" * 16,
            "bank_id": "HSBKKZKX",
            "status": "returned",
            "amount_returned": 25_000_000,
            "at": "2026-12-03T10:07:00Z",
        }
    )
    ack = parse_ack(raw)
    assert (ack.status, ack.amount_held, ack.amount_returned) == ("returned", 0, 25_000_000)
    event = AckReceived(ack, {"topic": "antifraud.bank-acks"}, raw)
    assert load_ledger_event(dump_ledger_event(event)) == event
    without = orjson.loads(raw)
    del without["amount_returned"]
    with pytest.raises(Rejected):  # a `returned` ack must say how much
        parse_ack(orjson.dumps(without))
