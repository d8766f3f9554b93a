"""Which table partitions are loaded in bulk, from where, and how the worker log says so.

What the load writes is tested with Faust's file layout (faust_internals/test_table_files.py)."""

from __future__ import annotations

from faust.types import TP

from antifraud.streams.table_preload import (
    first_offset_to_read,
    partitions_behind,
    partitions_to_load,
    recovered_in_bulk,
)


def test_an_empty_disk_loads_every_partition() -> None:
    assert partitions_to_load([3, 0, 2, 1], [], None) == [0, 1, 2, 3]
    assert partitions_to_load([3, 0, 2, 1], [], {1}) == [0, 1, 2, 3]


def test_otherwise_only_the_files_present_are_brought_up_to_date() -> None:
    assert partitions_to_load([0, 1, 2, 3], [2, 0, 7], None) == [0, 2]


def test_and_of_those_only_the_partitions_this_worker_was_last_given() -> None:
    # Files of partitions another worker owns stay as they are (Faust recovers them if ever
    # they come back); a clean restart does not read their changelogs.
    assert partitions_to_load([0, 1, 2, 3], [0, 1, 2, 3], {1, 3}) == [1, 3]
    assert partitions_to_load([0, 1, 2, 3], [0, 1], {1, 3}) == [1]


def test_reading_starts_after_the_persisted_offset_and_never_before_the_log_start() -> None:
    assert first_offset_to_read(None, 0) == 0
    assert first_offset_to_read(None, 40) == 40  # compacted or deleted head
    assert first_offset_to_read(41, 0) == 42
    assert first_offset_to_read(10, 40) == 40


def test_after_a_join_only_partitions_far_behind_are_loaded_in_bulk() -> None:
    a, b, c, d = (TP("changelog", p) for p in range(4))
    offsets = {a: None, b: 99, c: 4_000, d: None}  # the last record each file holds
    highwaters = {a: 999, b: 1_099, c: 4_999, d: 998}  # the changelog's last offsets
    # a: 1,000 records behind (0-999); b: 1,000 (100-1,099); c: 999; d: 999.
    assert partitions_behind(offsets, highwaters, 1_000) == [a, b]
    assert partitions_behind(offsets, highwaters, 999) == [a, b, c, d]
    assert partitions_behind({a: None}, {}, 1) == []  # no highwater known: left to Faust


def test_the_bulk_loads_after_a_join_are_read_back_from_the_worker_log() -> None:
    log = "\n".join(
        [
            "[..] event=table_preloaded table=identifier-state partition=0 start=0 end=9 "
            "records=9 seconds=0.1",
            "[..] event=table_recovered_in_bulk table=identifier-state partition=2 start=0 "
            "end=1500 records=1500 seconds=0.2",
            "[..] event=table_recovered_in_bulk table=audit-heads partition=2 start=0 "
            "end=1200 records=1200 seconds=0.1",
            "[..] event=table_recovered_in_bulk table=identifier-state partition=3 start=7 "
            "end=1407 records=1400 seconds=0.2",
            "[..] event=tables_recovered_in_bulk tables=2 partitions=3 records=4100 seconds=0.5",
        ]
    )
    assert recovered_in_bulk(log) == {2: 1500, 3: 1400}
    assert recovered_in_bulk(log, "audit-heads") == {2: 1200}
