"""7. Faust's RocksDB table files, as its store lays them out
(tests/streams/faust_internals/test_table_files.py).

One file per table partition, the partition's rows under their keys, and the offset of the
last changelog record the file holds under `Store.offset_key`, as text. `DirectTable` (5.)
writes the files Faust has open; the bulk loads (6., and the preload before the group join
in streams/table_preload.py) write them the way `Store.apply_changelog_batch` does: one
write batch, the persisted offset after the data, so a crash in between leaves a file
behind its offset, never ahead (replaying a changelog record is idempotent). Stores other
than RocksDB have no files: callers keep Faust's own path for them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import rocksdict
from faust.stores.rocksdb import Store as RocksDBStore
from faust.types import TP


def is_rocksdb(table: Any) -> bool:
    return isinstance(table.data, RocksDBStore)


def changelog_topic(table: Any) -> str:
    return str(table.changelog_topic.get_topic_name())


def offset_key(table: Any) -> bytes:
    """The key under which a file holds the offset of its last changelog record."""
    return bytes(table.data.offset_key)


def open_db(table: Any, partition: int) -> Any:
    """The file of `partition` as Faust has it open (Faust opens it if it has not yet)."""
    return table.data._db_for_partition(partition)


def is_open(table: Any, partition: int) -> bool:
    """Whether Faust has the file open: it closes the file of a partition it revokes."""
    return partition in table.data._dbs


def has_file(table: Any, partition: int) -> bool:
    return bool(table.data.partition_path(partition).exists())


def open_file_apart(table: Any, partition: int) -> Any:
    """The file of `partition`, opened before Faust opens it; the caller closes it."""
    store: RocksDBStore = table.data
    return store.rocksdb_options.open(store.partition_path(partition))


def persisted_offset(db: Any, key: bytes) -> int | None:
    """The offset of the last changelog record `db` holds, None when it holds none."""
    raw = db.get(key)
    return int(raw) if raw else None


def set_persisted_offset(table: Any, partition: int, offset: int) -> None:
    table.data.set_persisted_offset(TP(changelog_topic(table), partition), offset)


def write_records(db: Any, records: Iterable[Any], end: int, key: bytes) -> int:
    """Apply changelog records below `end` in one write batch; returns how many it applied.

    The persisted offset (under `key`) is written after the data: a crash in between leaves
    the file behind its offset-key, never ahead, and replaying a changelog record is
    idempotent.
    """
    batch = rocksdict.WriteBatch(raw_mode=True)
    written, last = 0, -1
    for record in records:
        if record.offset >= end:
            break
        if record.value is None:
            batch.delete(record.key)
        else:
            batch.put(record.key, record.value)
        written, last = written + 1, record.offset
    if written:
        db.write(batch)
        db.put(key, str(last).encode())
    return written
