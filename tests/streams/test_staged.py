"""A staged view of a table: one batch's reads and writes, written back only when told."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from antifraud.streams.staged import Staged

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
