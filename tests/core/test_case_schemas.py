"""The Cases section's JSON shapes: the contract's examples validate, incomplete ones do not."""

from __future__ import annotations

import copy
from typing import Any

import fastjsonschema
import jsonschema
import pytest

from antifraud.schemas import JsonSchemaError, load_schema, validator
from tests.core.test_intake import CONTRACT_ACK, CONTRACT_REPORT

SANCTION = {
    "authority": "Almaty city prosecutor",
    "reference": "SK-2026-7781",
    "issued_at": "2026-12-03T10:00:00+05:00",
}
CONTRACT_EXTEND: dict[str, Any] = {
    "report_id": "R-2026-000042",
    "action": "extend",
    "sanction": SANCTION,
    "until": "2026-12-31T18:00:00+05:00",
    "reported_at": "2026-12-03T10:05:00+05:00",
    "issuer": "ALM-PD-CYBER",
    "signature": {"key_id": "almaty-1", "hmac_sha256": "00" * 32},
}
CONTRACT_RETURN = {k: v for k, v in CONTRACT_EXTEND.items() if k != "until"} | {"action": "return"}
REPORT_WITH_VICTIMS: dict[str, Any] = {
    **CONTRACT_REPORT,
    "victims": [
        {
            "account": {"kind": "iban", "value": "KZ86125KZT5004100100", "bank_id": "CASPKZKA"},
            "amount_lost": 30000000,
            "currency": "KZT",
        }
    ],
}
CONTRACT_RETURN_FUNDS: dict[str, Any] = {
    "command_id": "9b1e" + "0" * 28,
    "type": "return_funds",
    "bank_id": "HSBKKZKX",
    "account": {"kind": "phone", "value": "+77011234567"},
    "returns": "3f7c" + "0" * 28,
    "transfer": {"bank_id": "CASPKZKA", "transfer_id": "T-000123"},
    "amount": 25000000,
    "currency": "KZT",
    "beneficiary": {
        "account": {"kind": "iban", "value": "KZ86125KZT5004100100"},
        "bank_id": "CASPKZKA",
    },
    "report_ids": ["R-2026-000042"],
    "sanction": SANCTION,
    "reason": "return_sanctioned",
    "hop": 0,
    "issued_at": "2026-12-03T10:05:00.200Z",
}
EXTEND_COMMAND: dict[str, Any] = {
    "command_id": "7a2d" + "0" * 28,
    "type": "extend",
    "bank_id": "HSBKKZKX",
    "account": {"kind": "phone", "value": "+77011234567"},
    "extends": "3f7c" + "0" * 28,
    "transfer": {"bank_id": "CASPKZKA", "transfer_id": "T-000123"},
    "report_ids": ["R-2026-000042"],
    "sanction": SANCTION,
    "reason": "hold_extended",
    "hop": 0,
    "issued_at": "2026-12-03T10:05:00.200Z",
    "expires_at": "2026-12-31T13:00:00.000Z",
}
RETURNED_ACK = {**CONTRACT_ACK, "status": "returned", "amount_returned": 25000000}
FAILED_ACK = {k: v for k, v in CONTRACT_ACK.items() if k != "amount_held"} | {"status": "failed"}
APPLIED_EXTEND_ACK = {k: v for k, v in CONTRACT_ACK.items() if k != "amount_held"}
CONTRACT_CASE_STATUS: dict[str, Any] = {
    "report_id": "R-2026-000042",
    "status": "holding",
    "updated_at": "2026-11-29T09:05:03Z",
    "accounts": [
        {
            "account": {"kind": "phone", "value": "+77011234567"},
            "hop": 0,
            "via": None,
            "banks": ["HSBKKZKX"],
            "holds": 2,
            "freezes": 1,
            "amount_held": 25000000,
            "amount_escaped": 0,
            "amount_returned": 0,
            "expires_at": "2026-12-04T09:05:00Z",
        }
    ],
    "totals": {
        "accounts": 1,
        "commands": 3,
        "acked": 2,
        "amount_held": 25000000,
        "amount_escaped": 0,
        "amount_returned": 0,
        "amount_lost": 30000000,
    },
}


def report_schema_with_case_actions() -> dict[str, Any]:
    """The report schema, which lists `extend` and `return` since the registry handles them."""
    return load_schema("report")


def ok(schema: dict[str, Any], record: Any) -> bool:
    fast = fastjsonschema.compile(schema)
    try:
        fast(record)
        fast_ok = True
    except JsonSchemaError:
        fast_ok = False
    assert fast_ok == jsonschema.Draft202012Validator(schema).is_valid(record)
    return fast_ok


def without(record: dict[str, Any], *path: str | int) -> dict[str, Any]:
    out = copy.deepcopy(record)
    inner: Any = out
    for key in path[:-1]:
        inner = inner[key]
    del inner[path[-1]]
    return out


def test_the_contracts_extend_and_return_validate_once_listed() -> None:
    schema = report_schema_with_case_actions()
    assert ok(schema, CONTRACT_EXTEND)
    assert ok(schema, CONTRACT_RETURN)
    assert ok(schema, CONTRACT_REPORT)
    assert ok(
        schema, {"report_id": "R-1", "action": "revoke", "reported_at": "2026-11-29T09:05:00Z"}
    )


@pytest.mark.parametrize("field", ["authority", "reference", "issued_at"])
def test_a_sanction_needs_all_three_fields(field: str) -> None:
    schema = report_schema_with_case_actions()
    for record in (CONTRACT_EXTEND, CONTRACT_RETURN):
        assert not ok(schema, without(record, "sanction", field))
    assert not ok(schema, without(CONTRACT_EXTEND, "sanction"))
    assert not ok(schema, without(CONTRACT_RETURN, "sanction"))
    assert not ok(schema, {**CONTRACT_RETURN, "sanction": {**SANCTION, field: 7}})


def test_extend_needs_until_and_a_timestamp_there() -> None:
    schema = report_schema_with_case_actions()
    assert not ok(schema, without(CONTRACT_EXTEND, "until"))
    assert not ok(schema, {**CONTRACT_EXTEND, "until": "31 December"})
    assert not ok(schema, {**CONTRACT_EXTEND, "sanction": {**SANCTION, "issued_at": "today"}})


def test_reports_may_name_victims() -> None:
    report = validator("report")
    report(REPORT_WITH_VICTIMS)
    assert ok(load_schema("report"), REPORT_WITH_VICTIMS)
    victim = REPORT_WITH_VICTIMS["victims"][0]
    broken = [
        [],
        [victim] * 51,
        [without(victim, "account", "bank_id")],
        [without(victim, "amount_lost")],
        [without(victim, "currency")],
        [{**victim, "amount_lost": 0}],
        [{**victim, "amount_lost": 10**15 + 1}],
        [{**victim, "currency": "kzt"}],
    ]
    for victims in broken:
        assert not ok(load_schema("report"), {**REPORT_WITH_VICTIMS, "victims": victims}), victims
    assert ok(load_schema("report"), {**REPORT_WITH_VICTIMS, "victims": [victim] * 50})


def test_the_contracts_return_funds_and_an_extend_command_validate() -> None:
    command = load_schema("command")
    assert ok(command, CONTRACT_RETURN_FUNDS)
    assert ok(command, EXTEND_COMMAND)
    for field in ("returns", "amount", "currency", "beneficiary", "sanction"):
        assert not ok(command, without(CONTRACT_RETURN_FUNDS, field)), field
    assert not ok(command, without(CONTRACT_RETURN_FUNDS, "beneficiary", "bank_id"))
    for field in ("extends", "expires_at"):
        assert not ok(command, without(EXTEND_COMMAND, field)), field
    assert not ok(command, {**CONTRACT_RETURN_FUNDS, "reason": "returned"})


def test_banks_ack_returns_with_returned_or_failed() -> None:
    ack = load_schema("ack")
    assert ok(ack, RETURNED_ACK)
    assert ok(ack, FAILED_ACK)
    assert ok(ack, APPLIED_EXTEND_ACK)
    assert not ok(ack, without(RETURNED_ACK, "amount_returned"))
    assert not ok(ack, {**RETURNED_ACK, "amount_returned": -1})
    assert not ok(ack, {**FAILED_ACK, "status": "lost"})


def test_the_contracts_case_status_validates() -> None:
    schema = load_schema("case_status")
    assert ok(schema, CONTRACT_CASE_STATUS)
    assert not ok(schema, {**CONTRACT_CASE_STATUS, "status": "closed"})
    assert not ok(schema, without(CONTRACT_CASE_STATUS, "totals", "amount_lost"))
    assert not ok(schema, without(CONTRACT_CASE_STATUS, "accounts", 0, "via"))
    assert not ok(schema, {**CONTRACT_CASE_STATUS, "__faust": {"ns": "x"}})
