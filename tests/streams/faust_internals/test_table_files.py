"""7. What is written into a table's files is what Faust's own store reads back."""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

import faust
from faust.types import TP

from antifraud.streams.faust_internals import table_files
from antifraud.streams.faust_internals.table_files import write_records


class Record(NamedTuple):
    offset: int
    key: bytes
    value: bytes | None


def faust_table(datadir: Path) -> Any:
    app = faust.App("preload-unit", store="rocksdb://", datadir=str(datadir))
    return app.Table("state", partitions=2, key_type=bytes, value_type=bytes)


def test_written_records_are_what_faust_store_reads(tmp_path: Path) -> None:
    table = faust_table(tmp_path)
    store = table.data
    db = store.rocksdb_options.open(store.partition_path(1))
    records = [
        Record(5, b"a", b"first"),
        Record(6, b"b", b"kept"),
        Record(7, b"a", b"second"),  # the later value wins
        Record(8, b"b", None),  # a tombstone deletes
        Record(9, b"c", b"past the end"),
    ]
    written = write_records(db, records, end=9, key=store.offset_key)
    db.close()
    assert written == 4  # offsets 5-8

    tp = TP(table.changelog_topic.get_topic_name(), 1)
    assert store.persisted_offset(tp) == 8
    faust_db = store._db_for_partition(1)
    assert faust_db.get(b"a") == b"second"
    assert faust_db.get(b"b") is None
    assert faust_db.get(b"c") is None  # at or past the reported end: left to Faust


def test_nothing_below_the_end_writes_nothing(tmp_path: Path) -> None:
    table = faust_table(tmp_path)
    store = table.data
    db = store.rocksdb_options.open(store.partition_path(0))
    assert write_records(db, [Record(3, b"a", b"x")], end=3, key=store.offset_key) == 0
    db.close()
    assert store.persisted_offset(TP(table.changelog_topic.get_topic_name(), 0)) is None
    assert store._db_for_partition(0).get(b"a") is None


def test_the_file_helpers_name_what_faust_s_store_uses(tmp_path: Path) -> None:
    table = faust_table(tmp_path)
    store = table.data
    assert table_files.is_rocksdb(table)
    assert table_files.offset_key(table) == store.offset_key
    assert not table_files.has_file(table, 1) and not table_files.is_open(table, 1)
    db = table_files.open_db(table, 1)  # as Faust opens it when it is assigned the partition
    assert table_files.has_file(table, 1) and table_files.is_open(table, 1)
    assert table_files.persisted_offset(db, store.offset_key) is None
    table_files.set_persisted_offset(table, 1, 41)
    assert store.persisted_offset(TP(table_files.changelog_topic(table), 1)) == 41
    assert table_files.persisted_offset(db, store.offset_key) == 41


def test_a_memory_table_has_no_files() -> None:
    app = faust.App("files-memory", store="memory://")
    assert not table_files.is_rocksdb(app.Table("state", partitions=2))
