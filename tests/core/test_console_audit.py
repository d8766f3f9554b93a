"""The console's audit check, one record at a time, agrees with `verify_chain` on the whole."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from antifraud.core.audit_chain import AuditChain, verify_chain
from antifraud.core.console_audit import AuditWatch

FAST = settings(max_examples=80, deadline=None)

COMMAND = "ab" * 16


def chain_of(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    chain = AuditChain()
    out = []
    for e in entries:
        record = chain.append(e)
        record["chain"] = "chain-0"
        out.append(record)
    return out


def case_entries(report_id: str, count: int) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = [{"kind": "report", "report_id": report_id}]
    entries.append(
        {"kind": "command", "command": {"command_id": COMMAND, "report_ids": [report_id]}}
    )
    entries += [{"kind": "ack", "command_id": COMMAND, "status": "applied"}] * count
    return entries


@FAST
@given(st.integers(0, 5), st.integers(0, 7), st.sampled_from(["edit", "drop", "swap", "none"]))
def test_incremental_verdict_matches_verify_chain(acks: int, at: int, tamper: str) -> None:
    records = chain_of(case_entries("R-1", acks))
    at = at % len(records)
    if tamper == "edit":
        records[at] = {**records[at], "entry": {"kind": "report", "report_id": "R-1", "x": 1}}
    elif tamper == "drop" and len(records) > 1:
        del records[at]
    elif tamper == "swap" and at + 1 < len(records):
        records[at], records[at + 1] = records[at + 1], records[at]
    watch = AuditWatch()
    for record in records:
        watch.add(orjson.dumps(record), "chain-0", 0)
    # The first record read is where the check starts (a chain trimmed by retention looks
    # the same as one whose head was deleted; the verdict then says from which seq).
    first = records[0]
    whole = verify_chain(records, start_seq=first["seq"], start_prev_hash=first["prev_hash"])
    verdict = watch.case("R-1")
    assert verdict.intact == whole.intact
    assert bool(verdict.from_seq) == (first["seq"] != 0)
    if not whole.intact:
        assert verdict.broken == (f"chain-0: {whole.reason} at seq {whole.first_broken_seq}",)


def test_entries_are_counted_for_their_case_only() -> None:
    watch = AuditWatch()
    for record in chain_of([*case_entries("R-1", 2), {"kind": "report", "report_id": "R-2"}]):
        watch.add(orjson.dumps(record), "chain-0", 0)
    assert watch.case("R-1").entries == 4
    assert watch.case("R-2").entries == 1
    assert watch.case("R-3").entries == 0 and watch.case("R-3").intact


def test_a_chain_read_from_a_later_seq_is_checked_from_there() -> None:
    records = chain_of(case_entries("R-1", 3))
    watch = AuditWatch()
    for record in records[1:]:
        watch.add(orjson.dumps(record), "chain-0", 0)
    verdict = watch.case("R-1")
    assert verdict.intact and verdict.from_seq == ("chain-0 from seq 1",)


def test_garbage_on_the_audit_topic_breaks_its_chain_not_the_console() -> None:
    watch = AuditWatch()
    records = chain_of(case_entries("R-1", 1))
    watch.add(orjson.dumps(records[0]), "chain-0", 0)
    watch.add(b"\xff not json", "chain-0", 0)
    watch.add(orjson.dumps(records[1]), "chain-0", 0)
    assert watch.case("R-1").broken == ("chain-0: malformed at seq 1",)
