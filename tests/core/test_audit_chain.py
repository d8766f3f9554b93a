"""Audit hash chain: round trip, and every kind of tampering caught at the right seq."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from antifraud.core.audit_chain import GENESIS, AuditChain, ChainVerdict, chain_record, verify_chain

# Fewer examples than hypothesis' default 100 keep both core suites under ~5 s on a busy CI
# runner; no deadline because timing on shared runners is noise, not a property.
FAST = settings(max_examples=60, deadline=None)

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=12)
    | st.sampled_from(["Алматы қаласы", "hold_transfer", "+77011234567"])
)
# Flat-ish entries: the chain's properties are about links between records, not about deep
# nesting (the JSON round trip of nested values is covered by the signature tests), and keeping
# entries small keeps the whole suite fast.
json_values = json_scalars | st.lists(json_scalars, max_size=3)
entries = st.dictionaries(st.text(max_size=8), json_values, max_size=3)
# At least two records so there is always a neighbour to delete or swap.
entry_lists = st.lists(entries, min_size=2, max_size=6)


def build(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    chain = AuditChain()
    return [chain.append(e) for e in items]


def over_the_wire(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # Verification happens on what was read back from the topic, not on our own objects.
    return [json.loads(json.dumps(r, ensure_ascii=False)) for r in records]


def broken_at(seq: int, reason: str) -> ChainVerdict:
    return ChainVerdict(intact=False, checked=seq, first_broken_seq=seq, reason=reason)


def test_record_hash_matches_an_independent_computation() -> None:
    entry = {"type": "freeze_account", "bank_id": "HSBKKZKX", "note": "Алматы қаласы"}
    record = chain_record(GENESIS, 0, entry)
    body = json.dumps(
        {"seq": 0, "prev_hash": GENESIS, "entry": entry},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    expected = hashlib.sha256((GENESIS + body).encode("utf-8")).hexdigest()
    assert record == {"seq": 0, "prev_hash": GENESIS, "entry": entry, "hash": expected}
    nxt = chain_record(expected, 1, {"type": "release"})
    assert nxt["prev_hash"] == expected


@FAST
@given(items=st.lists(entries, max_size=8))
def test_round_trip_is_intact(items: list[dict[str, Any]]) -> None:
    records = build(items)
    assert [r["seq"] for r in records] == list(range(len(items)))
    expected = ChainVerdict(intact=True, checked=len(items), first_broken_seq=None, reason="ok")
    assert verify_chain(over_the_wire(records)) == expected
    assert verify_chain(iter(records)) == expected  # any iterable, e.g. a topic reader


@FAST
@given(items=entry_lists, data=st.data())
def test_tampered_entry_is_caught_at_its_seq(
    items: list[dict[str, Any]], data: st.DataObject
) -> None:
    records = over_the_wire(build(items))
    k = data.draw(st.integers(0, len(records) - 1))
    new_entry = data.draw(entries.filter(lambda e: e != records[k]["entry"]))
    records[k]["entry"] = new_entry
    assert verify_chain(records) == broken_at(k, "bad_hash")


@FAST
@given(items=entry_lists, data=st.data())
def test_tampered_and_rehashed_record_breaks_the_next_link(
    items: list[dict[str, Any]], data: st.DataObject
) -> None:
    # Without a secret a forger can recompute the edited record's own hash; the record after
    # it still commits to the original, so the break shows one seq later.
    records = over_the_wire(build(items))
    k = data.draw(st.integers(0, len(records) - 2))
    new_entry = data.draw(entries.filter(lambda e: e != records[k]["entry"]))
    records[k] = chain_record(records[k]["prev_hash"], k, new_entry)
    assert verify_chain(records) == broken_at(k + 1, "bad_prev_hash")


@FAST
@given(items=entry_lists, data=st.data())
def test_deleted_record_is_caught_at_its_seq(
    items: list[dict[str, Any]], data: st.DataObject
) -> None:
    records = build(items)
    k = data.draw(st.integers(0, len(records) - 2))
    del records[k]
    assert verify_chain(records) == broken_at(k, "bad_seq")


@FAST
@given(items=entry_lists, data=st.data())
def test_swapped_records_are_caught_at_the_first_of_them(
    items: list[dict[str, Any]], data: st.DataObject
) -> None:
    records = build(items)
    i, j = sorted(
        data.draw(st.lists(st.integers(0, len(records) - 1), min_size=2, max_size=2, unique=True))
    )
    records[i], records[j] = records[j], records[i]
    assert verify_chain(records) == broken_at(i, "bad_seq")


@FAST
@given(items=entry_lists, data=st.data())
def test_renumbered_records_are_caught_by_the_hash(
    items: list[dict[str, Any]], data: st.DataObject
) -> None:
    # Deleting record k and renumbering the rest hides the gap in seq, not in the hashes.
    records = over_the_wire(build(items))
    k = data.draw(st.integers(0, len(records) - 2))
    del records[k]
    for seq, record in enumerate(records[k:], start=k):
        record["seq"] = seq
    assert verify_chain(records) == broken_at(k, "bad_prev_hash")


@FAST
@given(items=entry_lists, data=st.data())
def test_bad_prev_link_is_caught(items: list[dict[str, Any]], data: st.DataObject) -> None:
    records = over_the_wire(build(items))
    k = data.draw(st.integers(0, len(records) - 1))
    records[k]["prev_hash"] = "f" * 64
    assert verify_chain(records) == broken_at(k, "bad_prev_hash")


def test_first_record_must_start_from_genesis() -> None:
    records = [chain_record("a" * 64, 0, {"x": 1})]
    assert verify_chain(records) == broken_at(0, "bad_prev_hash")
    assert verify_chain([chain_record(GENESIS, 1, {"x": 1})]) == broken_at(0, "bad_seq")


def test_only_the_first_break_is_reported() -> None:
    records = over_the_wire(build([{"n": n} for n in range(6)]))
    records[4]["entry"] = {"n": 40}
    records[2]["entry"] = {"n": 20}
    assert verify_chain(records) == broken_at(2, "bad_hash")


def test_truncated_tail_needs_an_external_anchor() -> None:
    # Documented limitation (SECURITY.md): a chain cut short is still a valid chain. Only the
    # head hash kept elsewhere (AuditChain.last_hash) reveals it.
    chain = AuditChain()
    records = [chain.append({"n": n}) for n in range(4)]
    assert verify_chain(records[:3]).intact
    assert records[2]["hash"] != chain.last_hash


@pytest.mark.parametrize(
    "mutate",
    [
        lambda r: r.pop("hash"),
        lambda r: r.pop("entry"),
        lambda r: r.pop("prev_hash"),
        lambda r: r.update(seq="1"),
        lambda r: r.update(seq=True),
        lambda r: r.update(hash=None),
        lambda r: r.update(entry={"x": float("nan")}),
    ],
)
def test_malformed_record(mutate: Any) -> None:
    records = build([{"n": 0}, {"n": 1}, {"n": 2}])
    mutate(records[1])
    assert verify_chain(records) == broken_at(1, "malformed")


def test_non_mapping_record_is_malformed() -> None:
    records: list[Any] = [*build([{"n": 0}]), "not a record"]
    assert verify_chain(records) == broken_at(1, "malformed")


@FAST
@given(before=entry_lists, after=st.lists(entries, max_size=4))
def test_resume_continues_the_same_chain(
    before: list[dict[str, Any]], after: list[dict[str, Any]]
) -> None:
    first = build(before)
    resumed = AuditChain.resume(over_the_wire(first)[-1])
    assert resumed.next_seq == len(first)
    assert resumed.last_hash == first[-1]["hash"]
    records = first + [resumed.append(e) for e in after]
    assert verify_chain(records).intact
    assert verify_chain(records).checked == len(before) + len(after)


def test_resume_from_nothing_starts_at_genesis() -> None:
    chain = AuditChain.resume(None)
    assert (chain.last_hash, chain.next_seq) == (GENESIS, 0)


def test_resume_refuses_a_tampered_last_record() -> None:
    last = build([{"n": 0}, {"n": 1}])[-1]
    last["entry"] = {"n": 99}
    with pytest.raises(ValueError, match="seq 1: bad_hash"):
        AuditChain.resume(last)
    with pytest.raises(ValueError, match="malformed"):
        AuditChain.resume({"seq": -1, "prev_hash": GENESIS, "entry": {}, "hash": GENESIS})


def test_verify_a_segment_from_a_trusted_checkpoint() -> None:
    records = build([{"n": n} for n in range(5)])
    segment = records[2:]
    assert not verify_chain(segment).intact
    verdict = verify_chain(segment, start_seq=2, start_prev_hash=records[1]["hash"])
    assert verdict == ChainVerdict(intact=True, checked=3, first_broken_seq=None, reason="ok")
    broken = verify_chain(segment[1:], start_seq=2, start_prev_hash=records[1]["hash"])
    assert broken == ChainVerdict(intact=False, checked=0, first_broken_seq=2, reason="bad_seq")


def test_entry_is_detached_from_the_callers_object() -> None:
    entry: dict[str, Any] = {"report_ids": ("R-1",), "nested": {"a": 1}}
    chain = AuditChain()
    record = chain.append(entry)
    entry["nested"]["a"] = 2
    assert record["entry"] == {"report_ids": ["R-1"], "nested": {"a": 1}}
    assert verify_chain([record]).intact


@pytest.mark.parametrize(
    ("prev", "seq", "entry"),
    [
        ("0" * 63, 0, {}),
        ("A" * 64, 0, {}),
        (GENESIS, -1, {}),
        (GENESIS, True, {}),
        (GENESIS, 0, {"x": float("inf")}),
        (GENESIS, 0, {"x": object()}),
    ],
)
def test_chain_record_rejects_bad_input(prev: str, seq: int, entry: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        chain_record(prev, seq, entry)


def test_a_failed_append_leaves_the_chain_unchanged() -> None:
    chain = AuditChain()
    chain.append({"n": 0})
    head = (chain.last_hash, chain.next_seq)
    with pytest.raises(ValueError):
        chain.append({"bad": float("nan")})
    assert (chain.last_hash, chain.next_seq) == head
