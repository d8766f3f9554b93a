"""The console's case book: any bytes on the case-status topic are a case or an unreadable row,
never an error; rows come newest first and the filters keep exactly what they say."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from antifraud.core.console_cases import (
    UNREADABLE,
    CaseBook,
    Filters,
    Unreadable,
    hold_amounts,
    parse_day,
    read_case_status,
    timeline,
)
from antifraud.core.timestamps import format_rfc3339

FAST = settings(max_examples=80, deadline=None)
STATUSES = ["tracking", "holding", "returning", "returned", "lapsed", "revoked"]
DAY = 86_400.0
START = datetime(2026, 11, 1, tzinfo=UTC).timestamp()


def status_record(report_id: str, status: str = "holding", held: int = 0) -> dict[str, Any]:
    return {
        "report_id": report_id,
        "status": status,
        "updated_at": "2026-11-29T09:05:03Z",
        "accounts": [
            {
                "account": {"kind": "phone", "value": "+77011234567"},
                "hop": 0,
                "via": None,
                "banks": ["HSBKKZKX"],
                "holds": 1,
                "freezes": 1,
                "amount_held": held,
                "amount_escaped": 0,
                "amount_returned": 0,
                "expires_at": None,
            }
        ],
        "totals": {
            "accounts": 1,
            "commands": 2,
            "acked": 1,
            "amount_held": held,
            "amount_escaped": 0,
            "amount_returned": 0,
            "amount_lost": 0,
        },
    }


def report_record(report_id: str, fraud_type: str, reported_at: float) -> bytes:
    return orjson.dumps(
        {
            "report_id": report_id,
            "action": "report",
            "fraud_type": fraud_type,
            "reported_at": format_rfc3339(reported_at),
            "issuer": "ALM-PD-CYBER",
            "case_number": "1",
            "accounts": [{"kind": "phone", "value": "+77011234567"}],
        }
    )


def cid(name: str) -> str:
    """A command id of the contract's shape (hex) for a readable test name."""
    return hashlib.sha256(name.encode()).hexdigest()[:32]


def command(report_id: str, name: str, kind: str = "hold_transfer", **extra: Any) -> bytes:
    value: dict[str, Any] = {
        "command_id": cid(name),
        "type": kind,
        "bank_id": "HSBKKZKX",
        "account": {"kind": "phone", "value": "+77011234567"},
        "report_ids": [report_id],
        "fraud_type": "bank_impersonation",
        "reason": "reported_account",
        "hop": 0,
        "issued_at": "2026-11-29T09:05:00.120Z",
        "expires_at": "2026-12-04T09:05:00.120Z",
    }
    if kind == "hold_transfer":
        value.update(
            transfer={"bank_id": "CASPKZKA", "transfer_id": f"T-{name}"},
            amount=25_000_000,
            currency="KZT",
        )
    value.update(extra)
    return orjson.dumps(value)


def ack(name: str, status: str, at: str, held: int = 0) -> bytes:
    return orjson.dumps(
        {"command_id": cid(name), "bank_id": "HSBKKZKX", "status": status,
         "amount_held": held, "at": at}
    )  # fmt: skip


@FAST
@given(st.binary(max_size=200))
def test_any_bytes_are_a_case_or_unreadable(raw: bytes) -> None:
    read = read_case_status("R-1", raw, 0.0)
    assert isinstance(read, Unreadable) or read["report_id"] == "R-1"


@FAST
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=5),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
        max_leaves=12,
    )
)
def test_any_json_is_a_case_or_unreadable_and_the_book_still_lists(value: Any) -> None:
    book = CaseBook()
    book.add_case_status("R-good", orjson.dumps(status_record("R-good")), 1.0)
    book.add_case_status("R-odd", orjson.dumps(value), 2.0)
    rows = {row.report_id: row for row in book.rows()}
    assert rows["R-good"].status == "holding"
    assert rows["R-odd"].status == UNREADABLE or rows["R-odd"].status in STATUSES


def test_a_case_status_under_another_key_is_unreadable() -> None:
    read = read_case_status("R-2", orjson.dumps(status_record("R-1")), 0.0)
    assert isinstance(read, Unreadable) and "another key" in read.reason


def test_a_tombstone_forgets_the_case() -> None:
    book = CaseBook()
    book.add_case_status("R-1", orjson.dumps(status_record("R-1")), 0.0)
    book.add_case_status("R-1", None, 1.0)
    assert book.rows() == []


cases = st.lists(
    st.tuples(
        st.sampled_from(STATUSES),
        st.sampled_from(["bank_impersonation", "fake_online_store", "other"]),
        st.floats(min_value=0, max_value=60 * DAY),
    ),
    max_size=12,
)


@FAST
@given(
    cases,
    st.sampled_from(["", *STATUSES]),
    st.sampled_from(["", "bank_impersonation", "other"]),
    st.one_of(st.none(), st.integers(0, 60)),
    st.one_of(st.none(), st.integers(0, 60)),
)
def test_rows_newest_first_and_filters_keep_exactly_what_they_say(
    made: list[tuple[str, str, float]],
    status: str,
    fraud_type: str,
    since_days: int | None,
    until_days: int | None,
) -> None:
    book = CaseBook()
    for n, (case_status, kind, offset) in enumerate(made):
        report_id = f"R-{n}"
        book.add_case_status(report_id, orjson.dumps(status_record(report_id, case_status)), 0)
        book.add_report(report_record(report_id, kind, START + offset))

    def day(days: int | None) -> date | None:
        return None if days is None else datetime.fromtimestamp(START + days * DAY, UTC).date()

    filters = Filters(status, fraud_type, day(since_days), day(until_days))
    rows = book.rows(filters)
    times = [row.reported_at for row in rows]
    assert times == sorted(times, reverse=True)  # type: ignore[type-var]
    expected = set()
    for n, (case_status, kind, offset) in enumerate(made):
        reported = datetime.fromtimestamp(START + offset, UTC).date()
        if (
            (not status or case_status == status)
            and (not fraud_type or kind == fraud_type)
            and (filters.since is None or reported >= filters.since)
            and (filters.until is None or reported <= filters.until)
        ):
            expected.add(f"R-{n}")
    assert {row.report_id for row in rows} == expected


def test_time_to_first_hold_counts_only_applied_holds_and_freezes() -> None:
    book = CaseBook()
    reported = START + 100
    book.add_case_status("R-1", orjson.dumps(status_record("R-1")), 0)
    book.add_report(report_record("R-1", "other", reported))
    book.add_command(command("R-1", "c1"))
    book.add_command(command("R-1", "c2", "freeze_account"))
    book.add_ack(ack("c1", "too_late", format_rfc3339(reported + 5)))
    assert book.first_hold_seconds("R-1") is None
    book.add_ack(ack("c2", "applied", format_rfc3339(reported + 42), held=10))
    assert book.first_hold_seconds("R-1") == 42.0
    row = book.row("R-1")
    assert row is not None and row.first_hold_seconds == 42.0 and row.fraud_type == "other"


def test_a_bad_command_ack_or_report_is_left_out() -> None:
    book = CaseBook()
    for raw in (b"{", b"[]", orjson.dumps({"command_id": "x"})):
        book.add_command(raw)
        book.add_ack(raw)
        book.add_report(raw)
    assert (book.commands, book.acks, book.reports) == ({}, {}, {})


def test_timeline_puts_each_ack_after_its_command_whatever_the_bank_clock() -> None:
    book = CaseBook()
    book.add_command(command("R-1", "c1"))
    book.add_ack(ack("c1", "applied", "2026-11-29T09:04:00Z", held=5))  # a bank clock behind
    book.add_command(command("R-2", "c9"))  # another case's command is not in this timeline
    entries = timeline(book, "R-1")
    assert [(e.what, e.command_id) for e in entries] == [("command", cid("c1")), ("ack", cid("c1"))]


def test_hold_amounts_count_each_transfer_once_and_a_freeze_limit_first() -> None:
    held = command("R-1", "c1")
    same_transfer_other_bank = orjson.loads(command("R-1", "c2"))
    same_transfer_other_bank["transfer"] = orjson.loads(held)["transfer"]
    suspect_freeze = orjson.loads(command("R-1", "c3", "freeze_account", amount_limit=700))
    suspect_freeze["account"] = {"kind": "card", "value": "4000001234567899"}
    amounts = hold_amounts([orjson.loads(held), same_transfer_other_bank, suspect_freeze])
    assert amounts == {"phone:+77011234567": 25_000_000, "card:4000001234567899": 700}


def test_a_typed_date_that_is_no_date_is_no_filter() -> None:
    assert parse_day("2026-11-29") == date(2026, 11, 29)
    assert parse_day("29.11.2026") is None
    assert parse_day("") is None
