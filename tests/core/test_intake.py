"""Intake: bytes -> validated, normalised record, or a rejection with the contract's code.

Long on purpose: it mirrors core/intake.py, one section per input record (transfer,
report, ack), each with every rejection code the contract names for it.
"""

from __future__ import annotations

import contextlib
import copy
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from antifraud.core import intake
from antifraud.core.bank_directory import BankDirectory
from antifraud.core.identifiers import Identifier
from antifraud.core.intake import Rejected, parse_ack
from antifraud.core.records import Report, Transfer
from antifraud.core.signatures import sign_report
from antifraud.core.timestamps import format_rfc3339, parse_rfc3339
from tests.core.strategies import FAST, json_values

DIRECTORY = BankDirectory.load()
KEYS = {"almaty-1": b"first secret", "astana-1": "екінші құпия".encode()}
# The platform's clock in these tests: an hour after the contract's transfer was created.
NOW = parse_rfc3339("2026-11-29T10:00:00Z")


def parse_transfer(data: bytes | None, *args: Any, now: float = NOW) -> Transfer:
    return intake.parse_transfer(data, *args, now=now)


def parse_report(data: bytes | None, *args: Any, now: float = NOW) -> Report:
    return intake.parse_report(data, *args, now=now)


CONTRACT_TRANSFER: dict[str, Any] = {
    "transfer_id": "T-000123",
    "bank_id": "CASPKZKA",
    "sender": {"kind": "iban", "value": "KZ86125KZT5004100100"},
    "recipient": {"kind": "phone", "value": "+77011234567", "bank_id": "HSBKKZKX"},
    "amount": 25000000,
    "currency": "KZT",
    "status": "initiated",
    "created_at": "2026-11-29T09:00:00Z",
    "purpose": "p2p",
}
CONTRACT_REPORT: dict[str, Any] = {
    "report_id": "R-2026-000042",
    "case_number": "261000131000042",
    "action": "report",
    "fraud_type": "bank_impersonation",
    "reported_at": "2026-11-29T09:05:00Z",
    "issuer": "ALM-PD-CYBER",
    "accounts": [
        {"kind": "phone", "value": "87011234567"},
        {"kind": "iban", "value": "kz86 125k zt50 0410 0100", "bank_id": "HSBKKZKX"},
    ],
}
CONTRACT_ACK: dict[str, Any] = {
    "command_id": "3f7c0000000000000000000000000000",
    "bank_id": "HSBKKZKX",
    "status": "applied",
    "amount_held": 25000000,
    "at": "2026-11-29T09:05:02Z",
}


def raw(record: Any) -> bytes:
    return orjson.dumps(record)


def changed(record: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy with `a.b.0.c` set to `value` (or removed when value is `...`)."""
    out = copy.deepcopy(record)
    *parents, last = path.split(".")
    target: Any = out
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    if isinstance(target, list):
        target[int(last)] = value
    elif value is ...:
        del target[last]
    else:
        target[last] = value
    return out


def rejected_code(parse: Any, data: bytes | None, *args: Any) -> str:
    with pytest.raises(Rejected) as caught:
        parse(data, *args)
    return caught.value.code


def report_parser(keys: dict[str, bytes] | None = None) -> Any:
    return lambda data, *rest: parse_report(
        data, keys if keys is not None else {}, DIRECTORY, *rest
    )


# ---------------------------------------------------------------------------- the contract's examples


def test_contract_transfer_is_accepted_and_normalised() -> None:
    transfer = parse_transfer(raw(CONTRACT_TRANSFER))
    assert transfer.key == "CASPKZKA/T-000123"
    assert transfer.sender == Identifier("iban", "KZ86125KZT5004100100")
    assert transfer.sender_bank == "CASPKZKA"  # defaults to the sending bank
    assert transfer.recipient == Identifier("phone", "+77011234567")
    assert transfer.recipient_bank == "HSBKKZKX"
    assert transfer.amount == 25_000_000 and transfer.currency == "KZT"
    assert transfer.status == "initiated" and transfer.purpose == "p2p"
    assert transfer.created_at == parse_rfc3339("2026-11-29T09:00:00Z")


def test_contract_report_is_accepted_and_normalised() -> None:
    report = parse_report(raw(CONTRACT_REPORT), {}, DIRECTORY)
    assert report.report_id == "R-2026-000042" and report.action == "report"
    assert report.fraud_type == "bank_impersonation"
    assert report.issuer == "ALM-PD-CYBER" and report.case_number == "261000131000042"
    assert [(a.identifier.key, a.bank_id) for a in report.accounts] == [
        ("phone:+77011234567", None),
        ("iban:KZ86125KZT5004100100", "HSBKKZKX"),
    ]
    assert report.reported_at == parse_rfc3339("2026-11-29T09:05:00Z")


def test_contract_ack_is_accepted() -> None:
    ack = parse_ack(raw(CONTRACT_ACK))
    assert (ack.command_id, ack.bank_id, ack.status, ack.amount_held) == (
        CONTRACT_ACK["command_id"],
        "HSBKKZKX",
        "applied",
        25_000_000,
    )
    assert parse_ack(raw(changed(CONTRACT_ACK, "amount_held", ...))).amount_held == 0


def test_unknown_extra_fields_are_ignored() -> None:
    extra = {"x_bank_note": "hello", "nested": {"a": [1, 2]}, "__faust": {"ns": "x"}}
    transfer = {**CONTRACT_TRANSFER, **extra}
    transfer["recipient"] = {**transfer["recipient"], "holder_name": "Айгүл"}
    assert parse_transfer(raw(transfer)).transfer_id == "T-000123"
    report = {**CONTRACT_REPORT, **extra}
    report["accounts"] = [{**a, "note": "x"} for a in report["accounts"]]
    assert len(parse_report(raw(report), {}, DIRECTORY).accounts) == 2
    assert parse_ack(raw({**CONTRACT_ACK, **extra})).status == "applied"


def test_timestamps_with_offsets_and_fractions() -> None:
    for stamp, expected in (
        ("2026-11-29T14:00:00+05:00", "2026-11-29T09:00:00Z"),
        ("2026-11-29T09:00:00.123456789Z", "2026-11-29T09:00:00.123456Z"),
        ("2026-11-29T04:00:00-05:00", "2026-11-29T09:00:00Z"),
    ):
        transfer = parse_transfer(raw(changed(CONTRACT_TRANSFER, "created_at", stamp)))
        assert transfer.created_at == pytest.approx(parse_rfc3339(expected))


def test_optional_purpose_and_sender_bank() -> None:
    transfer = parse_transfer(raw(changed(CONTRACT_TRANSFER, "purpose", ...)))
    assert transfer.purpose is None
    own = changed(CONTRACT_TRANSFER, "sender.bank_id", "IRTYKZKA")
    assert parse_transfer(raw(own)).sender_bank == "IRTYKZKA"
    eleven = changed(CONTRACT_TRANSFER, "bank_id", "CASPKZKAXXX")
    assert parse_transfer(raw(eleven)).bank_id == "CASPKZKAXXX"


def test_report_iban_without_bank_gets_it_from_the_directory() -> None:
    report = changed(
        CONTRACT_REPORT, "accounts.1", {"kind": "iban", "value": "KZ86125KZT5004100100"}
    )
    accounts = parse_report(raw(report), {}, DIRECTORY).accounts
    assert accounts[1].bank_id == DIRECTORY.bank_for_iban("KZ86125KZT5004100100") == "HSBKKZKX"
    # An explicit bank wins over the directory; a phone has no bank unless one is given.
    assert accounts[0].bank_id is None
    explicit = changed(report, "accounts.1", {**report["accounts"][1], "bank_id": "TSESKZKA"})
    assert parse_report(raw(explicit), {}, DIRECTORY).accounts[1].bank_id == "TSESKZKA"


def test_revoke_may_omit_accounts_and_fraud_type() -> None:
    revoke = {
        "report_id": "R-2026-000042",
        "action": "revoke",
        "reported_at": "2026-11-29T10:00:00Z",
    }
    report = parse_report(raw(revoke), {}, DIRECTORY)
    assert report.action == "revoke" and report.accounts == ()
    assert report.fraud_type == "other"


# ---------------------------------------------------------------------------- invalid_json and too_large


@pytest.mark.parametrize(
    "data",
    [
        None,
        b"",
        b"not json",
        b"{",
        b'{"a": 1,}',
        b"\xff\xfe{}",
        b'{"transfer_id": "\xc3\x28"}',  # invalid UTF-8 inside a string
        b"[]",
        b"[1, 2]",
        b"42",
        b"1.5",
        b'"a string"',
        b"null",
        b"true",
        b'{"a": NaN}',
    ],
)
def test_invalid_json(data: bytes | None) -> None:
    for parse in (parse_transfer, parse_ack, report_parser()):
        assert rejected_code(parse, data) == "invalid_json"


def test_too_large() -> None:
    data = raw({**CONTRACT_TRANSFER, "padding": "x" * 2000})
    assert rejected_code(parse_transfer, data, 1000) == "too_large"
    assert rejected_code(parse_ack, data, 1000) == "too_large"
    assert rejected_code(report_parser(), data, 1000) == "too_large"
    # The limit is on the bytes, before parsing: even garbage over the limit is too_large.
    assert rejected_code(parse_transfer, b"x" * 1001, 1000) == "too_large"
    # At the limit exactly, it is accepted.
    exact = raw(CONTRACT_TRANSFER)
    assert parse_transfer(exact, len(exact)).transfer_id == "T-000123"
    # The default limit is 1 MiB.
    big = raw({**CONTRACT_TRANSFER, "padding": "x" * (1024 * 1024)})
    assert rejected_code(parse_transfer, big) == "too_large"


# ---------------------------------------------------------------------------- schema_violation


TRANSFER_VIOLATIONS = [
    ("transfer_id", ...),
    ("bank_id", ...),
    ("sender", ...),
    ("recipient", ...),
    ("amount", ...),
    ("currency", ...),
    ("status", ...),
    ("created_at", ...),
    ("transfer_id", ""),
    ("transfer_id", 123),
    ("amount", 0),
    ("amount", -5),
    ("amount", 10**15 + 1),
    ("amount", True),
    ("amount", "100"),
    ("amount", 1.5),
    ("amount", None),
    ("currency", "kzt"),
    ("currency", "KZ"),
    ("currency", "KZTT"),
    ("status", "pending"),
    ("status", "INITIATED"),
    ("purpose", "gift"),
    ("created_at", "2026-11-29"),
    ("created_at", "2026-11-29 09:00:00Z"),
    ("created_at", "2026-11-29T09:00:00"),  # no offset
    ("created_at", "29.11.2026 09:00"),
    ("created_at", 1795942800),
    ("created_at", "2026-13-01T09:00:00Z"),  # month 13
    ("created_at", "2026-02-30T09:00:00Z"),  # 30 February
    ("created_at", "2026-11-29T25:00:00Z"),
    ("created_at", "2026-11-29T09:00:00+25:00"),
    ("created_at", "2026-11-29T09:00:00Z\n"),
    ("bank_id", "caspkzka"),
    ("bank_id", "CASPKZ"),
    ("bank_id", "CASPKZKAX"),
    ("bank_id", "CASPKZKA\n"),
    ("recipient.bank_id", ...),  # recipient without bank_id
    ("recipient.bank_id", "bad"),
    ("sender.kind", "email"),
    ("sender.value", ""),
    ("sender.value", 123),
    ("sender.value", "1" * 65),
    ("sender", "KZ86125KZT5004100100"),
]


@pytest.mark.parametrize(("path", "value"), TRANSFER_VIOLATIONS)
def test_transfer_schema_violations(path: str, value: Any) -> None:
    assert rejected_code(parse_transfer, raw(changed(CONTRACT_TRANSFER, path, value))) == (
        "schema_violation"
    )


def test_schema_violation_message_names_the_field() -> None:
    with pytest.raises(Rejected) as caught:
        parse_transfer(raw(changed(CONTRACT_TRANSFER, "amount", 0)))
    assert caught.value.message.startswith("amount:")
    assert "data." not in caught.value.message


REPORT_VIOLATIONS = [
    ("report_id", ...),
    ("action", ...),
    ("reported_at", ...),
    ("action", "withdraw"),
    ("fraud_type", "phishing"),
    ("fraud_type", ...),  # required for action report
    ("accounts", ...),  # action report without accounts
    ("accounts", []),
    ("accounts", [{"kind": "phone", "value": "87011234567"}] * 51),
    ("accounts.0.kind", "email"),
    ("accounts.0.bank_id", "x"),
    ("reported_at", "2026-11-31T09:05:00Z"),
    ("reported_at", "yesterday"),
    ("signature", {"key_id": "almaty-1"}),
    ("case_number", 42),
]


@pytest.mark.parametrize(("path", "value"), REPORT_VIOLATIONS)
def test_report_schema_violations(path: str, value: Any) -> None:
    report = changed(CONTRACT_REPORT, path, value)
    assert rejected_code(report_parser(), raw(report)) == "schema_violation"


def test_report_accounts_limits_are_inclusive() -> None:
    fifty = changed(CONTRACT_REPORT, "accounts", [{"kind": "phone", "value": "87011234567"}] * 50)
    assert len(parse_report(raw(fifty), {}, DIRECTORY).accounts) == 50
    one = changed(CONTRACT_REPORT, "accounts", [{"kind": "phone", "value": "87011234567"}])
    assert len(parse_report(raw(one), {}, DIRECTORY).accounts) == 1


ACK_VIOLATIONS = [
    ("command_id", ...),
    ("bank_id", ...),
    ("status", ...),
    ("at", ...),
    ("status", "done"),
    ("amount_held", -1),
    ("amount_held", "5"),
    ("at", "2026-11-29T09:05:02"),
]


@pytest.mark.parametrize(("path", "value"), ACK_VIOLATIONS)
def test_ack_schema_violations(path: str, value: Any) -> None:
    assert rejected_code(parse_ack, raw(changed(CONTRACT_ACK, path, value))) == "schema_violation"


# ---------------------------------------------------------------------------- event times


def with_time(name: str, stamp: str) -> tuple[Any, bytes]:
    """The contract's transfer or report with its event time set to `stamp`, and its parser."""
    if name == "transfer":
        return parse_transfer, raw(changed(CONTRACT_TRANSFER, "created_at", stamp))
    return report_parser(), raw(changed(CONTRACT_REPORT, "reported_at", stamp))


@pytest.mark.parametrize("name", ["transfer", "report"])
@pytest.mark.parametrize(
    "stamp",
    [
        "9999-12-31T23:59:59-01:00",  # UTC year 10000: broke every later report on its account
        "0001-01-01T00:00:00+01:00",  # UTC year 0
        "9999-12-31T23:59:59Z",
        "1999-12-31T23:59:59Z",  # before 2000
        "1970-01-01T00:00:00Z",
        "2026-11-29T10:05:01Z",  # 5 minutes and 1 second ahead of the platform's clock
        "2026-11-29T15:05:01+05:00",  # the same instant, written in Almaty time
        "2026-12-03T14:00:00Z",  # a report dated 100 h ahead turned off every hold
    ],
)
def test_event_times_out_of_bounds_are_schema_violations(name: str, stamp: str) -> None:
    parse, data = with_time(name, stamp)
    with pytest.raises(Rejected) as caught:
        parse(data)
    assert caught.value.code == "schema_violation"
    assert caught.value.message.startswith("created_at" if name == "transfer" else "reported_at")


@pytest.mark.parametrize("name", ["transfer", "report"])
@pytest.mark.parametrize(
    "stamp", ["2000-01-01T00:00:00Z", "2026-11-29T10:05:00Z", "2026-11-29T15:05:00+05:00"]
)
def test_event_times_at_the_bounds_are_accepted(name: str, stamp: str) -> None:
    parse, data = with_time(name, stamp)
    assert parse(data)


@FAST
@given(
    st.floats(min_value=-62_135_596_800.0, max_value=253_402_300_799.0),
    st.integers(min_value=-23 * 60, max_value=23 * 60),
)
def test_an_event_time_is_accepted_exactly_when_it_is_within_the_bounds(
    seconds: float, offset_minutes: int
) -> None:
    stamp = format_rfc3339(seconds)
    if offset_minutes:
        # The same instant written with another offset.
        utc = datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(UTC)
        zone = timezone(timedelta(minutes=offset_minutes))
        try:
            stamp = utc.astimezone(zone).isoformat(timespec="milliseconds")
        except OverflowError:
            return  # not writable with that offset at all
    instant = parse_rfc3339(format_rfc3339(seconds))
    within = parse_rfc3339("2000-01-01T00:00:00Z") <= instant <= NOW + 300
    for name in ("transfer", "report"):
        parse, data = with_time(name, stamp)
        try:
            parse(data)
            accepted = True
        except Rejected as exc:
            assert exc.code == "schema_violation"
            accepted = False
        assert accepted == within, (name, stamp)


def test_the_clock_bound_moves_with_now() -> None:
    data = raw(changed(CONTRACT_TRANSFER, "created_at", "2026-12-03T14:00:00Z"))
    with pytest.raises(Rejected):
        parse_transfer(data)
    later = parse_rfc3339("2026-12-03T13:56:00Z")
    assert parse_transfer(data, now=later).created_at == parse_rfc3339("2026-12-03T14:00:00Z")


def test_an_ack_time_outside_years_1_to_9999_in_utc_is_a_schema_violation() -> None:
    data = raw(changed(CONTRACT_ACK, "at", "9999-12-31T23:59:59-01:00"))
    assert rejected_code(parse_ack, data) == "schema_violation"


# ---------------------------------------------------------------------------- invalid_identifier


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("sender", {"kind": "iban", "value": "KZ87125KZT5004100100"}),  # bad check digits
        ("sender", {"kind": "card", "value": "4400430000000005"}),  # bad Luhn
        ("recipient", {"kind": "phone", "value": "+7701123456", "bank_id": "HSBKKZKX"}),
        ("recipient", {"kind": "phone", "value": "870112345678", "bank_id": "HSBKKZKX"}),
        ("recipient", {"kind": "card", "value": "1234", "bank_id": "HSBKKZKX"}),
    ],
)
def test_transfer_invalid_identifiers(path: str, value: Any) -> None:
    with pytest.raises(Rejected) as caught:
        parse_transfer(raw(changed(CONTRACT_TRANSFER, path, value)))
    assert caught.value.code == "invalid_identifier"
    assert caught.value.message.startswith(path)


@pytest.mark.parametrize(
    "account",
    [
        {"kind": "iban", "value": "kz86 125k zt50 0410 0101"},
        {"kind": "card", "value": "4400 4300 0000 0005"},
        {"kind": "phone", "value": "8 701 123 45 67 8"},
    ],
)
def test_report_invalid_identifiers(account: dict[str, str]) -> None:
    report = changed(CONTRACT_REPORT, "accounts.1", account)
    with pytest.raises(Rejected) as caught:
        parse_report(raw(report), {}, DIRECTORY)
    assert caught.value.code == "invalid_identifier"
    assert caught.value.message.startswith("accounts[1]")


# ---------------------------------------------------------------------------- bad_signature


def signed(
    report: dict[str, Any], key_id: str = "almaty-1", secret: bytes | None = None
) -> dict[str, Any]:
    return sign_report(report, key_id, KEYS[key_id] if secret is None else secret)


def test_signed_reports_are_accepted_with_any_configured_key() -> None:
    for key_id in KEYS:
        report = parse_report(raw(signed(CONTRACT_REPORT, key_id)), KEYS, DIRECTORY)
        assert report.report_id == "R-2026-000042"


def test_unsigned_reports_are_accepted_when_no_keys_are_configured() -> None:
    assert parse_report(raw(CONTRACT_REPORT), {}, DIRECTORY).report_id == "R-2026-000042"
    # ...whatever their signature says.
    forged = {**CONTRACT_REPORT, "signature": {"key_id": "x", "hmac_sha256": "0" * 64}}
    assert parse_report(raw(forged), {}, DIRECTORY).report_id == "R-2026-000042"


def test_bad_signatures_are_rejected_when_keys_are_configured() -> None:
    good = signed(CONTRACT_REPORT)
    wrong_hmac = changed(good, "signature.hmac_sha256", "0" * 64)
    upper = changed(good, "signature.hmac_sha256", good["signature"]["hmac_sha256"].upper())
    cases = {
        "missing": CONTRACT_REPORT,
        "unknown key": signed(CONTRACT_REPORT, "almaty-1")
        | {"signature": {**good["signature"], "key_id": "shymkent-9"}},
        "other key's secret": signed(CONTRACT_REPORT, "almaty-1", KEYS["astana-1"]),
        "wrong hmac": wrong_hmac,
        "upper-case hex": upper,
        "tampered account": changed(good, "accounts.0.value", "87011234568"),
        "tampered fraud type": changed(good, "fraud_type", "other"),
        "added field": {**good, "extra": 1},
        "removed field": changed(good, "issuer", ...),
        "action flipped": changed(good, "action", "revoke"),
    }
    for name, report in cases.items():
        assert rejected_code(report_parser(KEYS), raw(report)) == "bad_signature", name
    # A null signature is not an object: the schema already refuses it.
    null = {**CONTRACT_REPORT, "signature": None}
    assert rejected_code(report_parser(KEYS), raw(null)) in {"schema_violation", "bad_signature"}


def test_a_forged_report_is_rejected_before_its_identifiers_are_checked() -> None:
    forged = changed(CONTRACT_REPORT, "accounts.0.value", "not a phone")
    assert rejected_code(report_parser(KEYS), raw(forged)) == "bad_signature"


@pytest.mark.parametrize(
    "number", [2**64, 2**64 + 1, 10**30, -(2**63) - 1, -(10**40), 2**63, 2**64 - 1]
)
def test_a_signed_report_with_an_integer_beyond_64_bits_verifies(number: int) -> None:
    # orjson reads such integers as floats; the signed bytes must still be reproduced exactly.
    report = signed({**CONTRACT_REPORT, "x_case_ref": number, "x_nested": {"n": [number]}})
    data = json.dumps(report, ensure_ascii=False).encode()
    assert parse_report(data, KEYS, DIRECTORY).report_id == "R-2026-000042"
    tampered = data.replace(str(number).encode(), str(number + 1).encode())
    assert rejected_code(report_parser(KEYS), tampered) == "bad_signature"


def test_a_signed_report_nested_deeper_than_the_stdlib_reads_is_a_bad_signature() -> None:
    deep = b'{"x": ' + b"[" * 1000 + b"]" * 1000 + b"}"
    report = signed(CONTRACT_REPORT)
    data = raw(report)[:-1] + b', "x_deep": ' + deep + b"}"
    assert rejected_code(report_parser(KEYS), data) == "bad_signature"


def test_a_signed_revocation_is_accepted() -> None:
    revoke = {"report_id": "R-1", "action": "revoke", "reported_at": "2026-11-29T10:00:00Z"}
    assert parse_report(raw(signed(revoke)), KEYS, DIRECTORY).action == "revoke"
    assert rejected_code(report_parser(KEYS), raw(revoke)) == "bad_signature"


# ---------------------------------------------------------------------------- anything at all


@FAST
@given(st.binary(max_size=300))
def test_arbitrary_bytes_only_ever_raise_rejected(data: bytes) -> None:
    for parse in (parse_transfer, parse_ack, report_parser(), report_parser(KEYS)):
        with contextlib.suppress(Rejected):
            parse(data)


@FAST
@given(json_values)
def test_arbitrary_json_only_ever_raises_rejected(value: Any) -> None:
    for parse in (parse_transfer, parse_ack, report_parser(), report_parser(KEYS)):
        with contextlib.suppress(Rejected):
            parse(raw(value))


FIELDS = {
    "transfer": (CONTRACT_TRANSFER, parse_transfer),
    "report": (CONTRACT_REPORT, report_parser()),
    "ack": (CONTRACT_ACK, parse_ack),
}


def _paths(value: Any, prefix: str = "") -> list[str]:
    out = []
    items = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else []
    )
    for key, child in items:
        path = f"{prefix}{key}"
        out.append(path)
        out += _paths(child, path + ".")
    return out


@FAST
@given(st.sampled_from(sorted(FIELDS)), st.data())
def test_any_field_replaced_by_any_json_only_ever_raises_rejected(
    name: str, data: st.DataObject
) -> None:
    record, parse = FIELDS[name]
    path = data.draw(st.sampled_from(_paths(record)))
    value = data.draw(json_values | st.just(...))
    try:
        mutated = changed(record, path, value)
    except (KeyError, TypeError):
        return  # `...` inside a list: nothing to delete
    if value is ... and path.rsplit(".", 1)[-1].isdigit():
        return
    with contextlib.suppress(Rejected):
        parse(raw(mutated))
