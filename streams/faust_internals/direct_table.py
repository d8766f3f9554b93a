"""5. Table writes past Faust's per-key layers (tests/streams/faust_internals/test_direct_table.py).

Faust writes a table key to RocksDB, then queues its changelog record for the producer
buffer (a `FutureMessage`, a `PendingMessage`, sensor calls), and writes a persisted offset
to RocksDB when each record is acknowledged: every transfer writes two identifiers' state,
so this was the largest cost left in the worker's profile. `DirectTable` writes the
partition's RocksDB file and hands the changelog record straight to the Kafka client, in
order, so compaction keeps the last value as Faust's would. The persisted offset is written
once per partition when the agent asks (after each bundle) for records acknowledged so far:
behind is safe, the restart replays a few changelog records, which is idempotent.
At-least-once is unchanged: Faust's commit flushes the Kafka client, so these records are
acknowledged before the offsets of the input that caused them are committed.

Every write of such a table must go through it: a mix with Faust's buffered path could
reorder a key's records. So the table is handed to `DirectTable` when it is declared and
kept private to it (agents/matching.py); no name outside holds the raw table. Stores other
than RocksDB keep Faust's path.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from faust.streams import current_event

from antifraud.streams.faust_internals import table_files

log = logging.getLogger("antifraud")


class DirectTable:
    """A Faust table's rows in the partition being processed, written past Faust's layers."""

    def __init__(self, table: Any) -> None:
        self._table = table  # private: every read and write goes through this object
        self._acked: dict[int, int] = {}  # partition -> last changelog offset acknowledged
        self._persisted: dict[int, int] = {}

    @property
    def direct(self) -> bool:
        return table_files.is_rocksdb(self._table)

    def _partition(self) -> int:
        event = current_event()
        if event is None:
            raise TypeError("table rows are read and written while processing an event")
        return int(event.message.partition)

    def get(self, key: bytes) -> bytes | None:
        if not self.direct:
            return self._table.get(key)
        return table_files.open_db(self._table, self._partition()).get(key)

    async def set(self, key: bytes, value: bytes | None) -> None:
        """Write `value` (None deletes) locally and to the changelog; returns once queued."""
        if not self.direct:
            if value is not None:
                self._table[key] = value
            elif key in self._table:
                del self._table[key]
            return
        partition = self._partition()
        db = table_files.open_db(self._table, partition)
        if value is not None:
            db.put(key, value)
        elif db.get(key) is None:
            return  # nothing to delete: no tombstone either
        else:
            db.delete(key)
        client = self._table.app.producer._producer  # the aiokafka producer
        topic = table_files.changelog_topic(self._table)
        sent = await client.send(topic, value=value, key=key, partition=partition)
        sent.add_done_callback(lambda fut: self._on_sent(partition, fut))

    def _on_sent(self, partition: int, fut: asyncio.Future[Any]) -> None:
        if fut.cancelled():
            return
        exc = fut.exception()
        if exc is not None:
            # As Faust's own changelog callback: the write is lost to the changelog, and
            # the input that caused it was not committed if the worker stops before its
            # next commit. Say it loudly.
            log.error("event=changelog_write_failed partition=%d", partition, exc_info=exc)
            return
        offset = fut.result().offset
        if offset > self._acked.get(partition, -1):
            self._acked[partition] = offset

    def persist_offsets(self) -> None:
        """Record the changelog offsets acknowledged so far in each partition's file."""
        if not self.direct:
            return
        for partition, offset in list(self._acked.items()):
            if not table_files.is_open(self._table, partition):
                # revoked since: its file is closed, not ours
                del self._acked[partition]
                self._persisted.pop(partition, None)
            elif self._persisted.get(partition) != offset:
                table_files.set_persisted_offset(self._table, partition, offset)
                self._persisted[partition] = offset
