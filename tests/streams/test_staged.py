"""A staged view of a table: one batch's reads and writes, written back only when told."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from antifraud.streams.staged import Decoded, Staged

KEYS = st.sampled_from([b"a", b"b", b"c"])
# A batch: per step, a key and the number added to its value (0: read only).
STEPS = st.lists(st.tuples(KEYS, st.integers(min_value=0, max_value=5)), max_size=30)


def _view(table: dict[bytes, bytes]) -> Staged[int]:
    return Staged(table, lambda key, raw: int(raw) if raw else 0, lambda value: b"%d" % value)


@given(st.dictionaries(KEYS, st.integers(0, 9).map(lambda n: b"%d" % n)), STEPS)
def test_write_back_leaves_the_table_as_the_steps_one_by_one_would(
    start: dict[bytes, bytes], steps: list[tuple[bytes, int]]
) -> None:
    one_by_one = dict(start)
    for key, added in steps:
        if added:
            one_by_one[key] = b"%d" % (int(one_by_one.get(key, b"0")) + added)

    table = dict(start)
    view = _view(table)
    for key, added in steps:
        if added:
            view[key] = view[key] + added
    assert table == start, "nothing reaches the table before write_back"
    view.write_back()
    assert table == one_by_one


def test_a_value_changed_in_place_is_written_back_only_when_marked() -> None:
    table: dict[bytes, bytes] = {b"k": b"[1]"}
    lists: Staged[list[int]] = Staged(
        table,
        lambda key, raw: [int(x) for x in raw.strip(b"[]").split(b",") if x] if raw else [],
        lambda value: ("[" + ",".join(map(str, value)) + "]").encode(),
    )
    lists[b"k"].append(2)
    lists.write_back()
    assert table == {b"k": b"[1]"}, "not marked: not written"
    lists[b"k"].append(3)
    lists.changed(b"k")
    lists.write_back()
    assert table == {b"k": b"[1,2,3]"}


def test_a_key_read_twice_is_loaded_once() -> None:
    loads: list[bytes] = []

    def load(key: bytes, raw: bytes | None) -> int:
        loads.append(key)
        return 0

    view: Staged[int] = Staged({}, load, lambda value: b"%d" % value)
    assert view[b"x"] == view[b"x"] == 0
    assert loads == [b"x"]


# --------------------------------------------------- values decoded once, kept across batches


def _load_list(key: bytes, raw: bytes | None) -> list[int]:
    return [int(x) for x in raw.split(b",") if x] if raw else []


def _dump_list(value: list[int]) -> bytes:
    return b",".join(b"%d" % n for n in value)


# A batch: its steps (key, number appended in place, 0: read only), whether it fails before
# its write-back, and a write by someone else (another worker, after a rebalance) after it.
BATCHES = st.lists(
    st.tuples(STEPS, st.booleans(), st.none() | st.tuples(KEYS, st.integers(0, 9))),
    max_size=12,
)


def _run(batches: list[Any], decoded: Decoded[list[int]] | None) -> list[dict[bytes, bytes]]:
    table: dict[bytes, bytes] = {}
    tables = []
    for steps, fails, foreign in batches:
        view = Staged(table, _load_list, _dump_list, decoded)
        for key, added in steps:
            if added:
                view[key].append(added)
                view.changed(key)
            else:
                view[key]
        if not fails:
            view.write_back()
        if foreign is not None:
            table[foreign[0]] = b"%d" % foreign[1]
        tables.append(dict(table))
    return tables


@given(BATCHES, st.integers(0, 16))
def test_values_kept_decoded_leave_every_table_as_decoding_each_time_would(
    batches: list[Any], max_bytes: int
) -> None:
    assert _run(batches, Decoded(max_bytes)) == _run(batches, None)


def test_a_batch_takes_the_value_the_last_one_wrote_without_decoding_it() -> None:
    loads: list[bytes] = []

    def load(key: bytes, raw: bytes | None) -> list[int]:
        loads.append(key)
        return _load_list(key, raw)

    table: dict[bytes, bytes] = {}
    decoded: Decoded[list[int]] = Decoded(max_bytes=1024)
    for n in range(3):
        view = Staged(table, load, _dump_list, decoded)
        view[b"k"].append(n)
        view.changed(b"k")
        view.write_back()
    assert table == {b"k": b"0,1,2"}
    assert loads == [b"k"], "decoded once, by the first batch"
    table[b"k"] = b"7"  # written by someone else: decoded again
    assert Staged(table, load, _dump_list, decoded)[b"k"] == [7]
    assert loads == [b"k", b"k"]


def test_values_are_kept_up_to_their_bytes_the_least_recently_used_dropped_first() -> None:
    decoded: Decoded[str] = Decoded(max_bytes=10)
    decoded.keep(b"a", b"aaaa", "A")
    decoded.keep(b"b", b"bbbb", "B")
    decoded.keep(b"c", b"cccc", "C")  # 12 bytes: a goes
    decoded.keep(b"huge", b"h" * 11, "H")  # never kept
    assert decoded.take(b"a", b"aaaa") is None
    assert decoded.take(b"huge", b"h" * 11) is None
    assert (decoded.take(b"b", b"bbbb"), decoded.take(b"c", b"cccc")) == ("B", "C")
