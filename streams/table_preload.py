"""Fill local tables from their changelogs in bulk, before Faust's own recovery starts.

Faust recovers a table record by record through its consumer, conductor and recovery
buffers: about 6,000 records/s here (docs/performance.md), so the state of 1M watched
identifiers and 5M transfers in flight (3M records) took 520 s to rebuild on a new
machine or after every `kill -9`, which discards local tables (streams/local_state.py).

Before the worker joins its group, a plain consumer reads each changelog partition from
where the local file stands to the end the broker reports, and writes what it reads into
the same RocksDB files Faust will open, the way `Store.apply_changelog_batch` does: one
write batch per fetch, the persisted offset after the data (how Faust lays out its files:
streams/faust_internals/table_files.py). Faust's recovery then starts from that offset and
replays only what arrived since.

After a join, Faust recovers the partitions it was given from their files' persisted
offsets. A partition taken over from a worker that died is as far behind as everything
that worker wrote since this one last had the partition (or since it loaded it at its
start): at 6,000 records/s, minutes of stalled holds for a busy hour. `recover_in_bulk`
loads, the same way, every newly assigned partition at least `BULK_RECOVERY_MIN_RECORDS`
behind, into the files Faust has just opened, before Faust's recovery reads its start
offsets (streams/faust_internals/bulk_recovery.py).

Which partitions before the join: the assignment is not known yet. With no local file for a
table at all (an empty disk), every partition is loaded, so the worker is warm whatever it
is given. Otherwise only the files of the partitions it was last given (recorded at each
assignment, streams/local_state.py) are brought up to date, which is what Faust would
replay for them anyway; the files of partitions other workers own stay as they are, like
Faust leaves a revoked partition's file, and are read only from their persisted offset.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from faust.types import TP

from antifraud.streams.faust_internals import table_files

log = logging.getLogger("antifraud")

# A partition that stops yielding records before its end offset (a broker losing data under
# us, a compacted tail) is left to Faust's recovery after this many empty fetches.
MAX_EMPTY_FETCHES = 20
FETCH_TIMEOUT_MS = 500
# Faust replays this many records in about 0.2 s: below it, a consumer of our own costs more.
BULK_RECOVERY_MIN_RECORDS = 1_000
BULK_EVENT = "table_recovered_in_bulk"  # the log line of each partition loaded after a join


@dataclass(frozen=True)
class PartitionLoad:
    table: str
    partition: int
    start: int  # first offset read
    end: int  # the end offset the broker reported; records at or past it are left to Faust
    records: int
    seconds: float


def partitions_to_load(
    all_partitions: Sequence[int], with_local_file: Iterable[int], last_assigned: set[int] | None
) -> list[int]:
    """Every partition on an empty disk, else those with a local file that were last ours."""
    present = set(with_local_file)
    if not present:
        return sorted(all_partitions)
    if last_assigned is not None:
        present &= last_assigned
    return sorted(p for p in all_partitions if p in present)


def first_offset_to_read(persisted: int | None, beginning: int) -> int:
    """After the persisted offset (the last record the file holds), never before the log start."""
    return max(beginning, persisted + 1 if persisted is not None else 0)


def recovered_in_bulk(log: str, table: str = "identifier-state") -> dict[int, int]:
    """From a worker's log: partition -> records loaded in bulk after a join, for `table`."""
    recovered = {}
    for line in log.splitlines():
        if f"event={BULK_EVENT} table={table} " in line:
            fields = dict(field.split("=", 1) for field in line.split() if "=" in field)
            recovered[int(fields["partition"])] = int(fields["records"])
    return recovered


def partitions_behind(
    offsets: Mapping[TP, int | None], highwaters: Mapping[TP, int], min_records: int
) -> list[TP]:
    """The partitions whose file is at least `min_records` behind its changelog's last offset."""
    behind = []
    for tp, persisted in offsets.items():
        last = highwaters.get(tp)
        if last is not None and last - (-1 if persisted is None else persisted) >= min_records:
            behind.append(tp)
    return sorted(behind)


async def recover_in_bulk(
    tables: Mapping[TP, Any],
    offsets: MutableMapping[TP, int | None],
    highwaters: Mapping[TP, int],
    bootstrap: str,
    client_options: dict[str, Any],
    min_records: int = BULK_RECOVERY_MIN_RECORDS,
) -> list[PartitionLoad]:
    """Load the assigned changelog partitions (`tables`: which table each belongs to) that are
    far behind into the files Faust has open, moving `offsets` (Faust's recovery start
    offsets, the last record each file holds) along with each write."""
    behind = [
        tp
        for tp in partitions_behind(offsets, highwaters, min_records)
        if table_files.is_rocksdb(tables[tp])
    ]
    if not behind:
        return []

    async def load(consumer: AIOKafkaConsumer, table: Any) -> list[PartitionLoad]:
        topic = table_files.changelog_topic(table)
        mine = [tp for tp in behind if tables[tp] is table]
        dbs = {tp.partition: table_files.open_db(table, tp.partition) for tp in mine}

        def progressed(partition: int, offset: int) -> None:
            offsets[TP(topic, partition)] = offset

        # No further than the highwaters Faust took: its consistency check fails a recovery
        # whose start offset is past them (a record a revoked owner was still flushing).
        until = {tp.partition: highwaters[tp] + 1 for tp in mine}
        return await _fill(
            consumer,
            table.name,
            topic,
            dbs,
            table_files.offset_key(table),
            progressed,
            BULK_EVENT,
            until,
        )

    by_table = {id(tables[tp]): tables[tp] for tp in behind}.values()
    return await _load_tables(by_table, load, bootstrap, client_options, "tables_recovered_in_bulk")


async def preload_tables(
    tables: Iterable[Any],
    bootstrap: str,
    client_options: dict[str, Any],
    last_assigned: set[int] | None = None,
) -> list[PartitionLoad]:
    """Bring the local RocksDB files of `tables` up to their changelogs' current end."""
    rocksdb_tables = [table for table in tables if table_files.is_rocksdb(table)]
    if not rocksdb_tables:
        return []

    async def load(consumer: AIOKafkaConsumer, table: Any) -> list[PartitionLoad]:
        return await _preload_table(consumer, table, last_assigned)

    return await _load_tables(rocksdb_tables, load, bootstrap, client_options, "tables_preloaded")


async def _load_tables(
    tables: Iterable[Any],
    load: Callable[[AIOKafkaConsumer, Any], Awaitable[list[PartitionLoad]]],
    bootstrap: str,
    client_options: dict[str, Any],
    event: str,
) -> list[PartitionLoad]:
    """`load` each table with one consumer of our own; one summary line for them all."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_partition_fetch_bytes=8 * 1024 * 1024,
        fetch_max_bytes=64 * 1024 * 1024,
        **client_options,
    )
    await consumer.start()
    try:
        began = time.monotonic()
        loads: list[PartitionLoad] = []
        count = 0
        for table in tables:
            loads += await load(consumer, table)
            count += 1
        log.info(
            "event=%s tables=%d partitions=%d records=%d seconds=%.1f",
            event,
            count,
            len(loads),
            sum(partition.records for partition in loads),
            time.monotonic() - began,
        )
        return loads
    finally:
        await consumer.stop()


async def _preload_table(
    consumer: AIOKafkaConsumer, table: Any, last_assigned: set[int] | None
) -> list[PartitionLoad]:
    topic = table_files.changelog_topic(table)
    # The count the worker created the changelog with (streams/app.py): metadata for a
    # topic created a moment ago may not have reached this client yet.
    partitions = list(range(table.partitions or table.app.conf.topic_partitions))
    present = (p for p in partitions if table_files.has_file(table, p))
    chosen = partitions_to_load(partitions, present, last_assigned)
    dbs = {p: table_files.open_file_apart(table, p) for p in chosen}
    try:
        return await _fill(consumer, table.name, topic, dbs, table_files.offset_key(table))
    finally:
        for db in dbs.values():
            db.close()  # Faust opens the files itself once it is assigned them


async def _fill(
    consumer: AIOKafkaConsumer,
    name: str,
    topic: str,
    dbs: dict[int, Any],
    offset_key: bytes,
    progressed: Callable[[int, int], None] | None = None,
    event: str = "table_preloaded",
    until: Mapping[int, int] | None = None,
) -> list[PartitionLoad]:
    """Read each partition of `dbs` from after its persisted offset to the reported end, or
    to `until[partition]` (exclusive) when that is earlier.

    `progressed(partition, offset)` is told the persisted offset after each write."""
    tps = {TopicPartition(topic, p): db for p, db in dbs.items()}
    if not tps:
        return []
    consumer.assign(list(tps))  # first: it makes the client fetch the topic's metadata
    beginnings = await consumer.beginning_offsets(list(tps))
    ends = await consumer.end_offsets(list(tps))
    if until is not None:
        ends = {tp: min(end, until.get(tp.partition, end)) for tp, end in ends.items()}
    starts: dict[TopicPartition, int] = {}
    for tp, db in tps.items():
        persisted = table_files.persisted_offset(db, offset_key)
        start = first_offset_to_read(persisted, beginnings[tp])
        if start < ends[tp]:
            starts[tp] = start
    consumer.pause(*(tp for tp in tps if tp not in starts))
    for tp, start in starts.items():
        consumer.seek(tp, start)
    began = time.monotonic()
    counts = dict.fromkeys(starts, 0)
    seconds: dict[TopicPartition, float] = {}
    empty_fetches = 0
    pending = set(starts)
    while pending:
        fetched = await consumer.getmany(*pending, timeout_ms=FETCH_TIMEOUT_MS)
        empty_fetches = 0 if fetched else empty_fetches + 1
        for tp, records in fetched.items():
            written = table_files.write_records(tps[tp], records, ends[tp], offset_key)
            counts[tp] += written
            if written and progressed is not None:
                # the offset `write_records` persisted: the last record it wrote
                progressed(tp.partition, records[written - 1].offset)
        for tp in list(pending):
            position = await consumer.position(tp)
            if position < ends[tp] and empty_fetches < MAX_EMPTY_FETCHES:
                continue
            if position < ends[tp]:
                log.warning(
                    "event=table_preload_stalled table=%s partition=%d position=%d end=%d "
                    "action=left_to_faust_recovery",
                    name,
                    tp.partition,
                    position,
                    ends[tp],
                )
            pending.discard(tp)
            consumer.pause(tp)
            seconds[tp] = time.monotonic() - began
    loads = [
        PartitionLoad(name, tp.partition, starts[tp], ends[tp], counts[tp], round(seconds[tp], 3))
        for tp in sorted(starts, key=lambda tp: tp.partition)
    ]
    for load in loads:
        log.info(
            "event=%s table=%s partition=%d start=%d end=%d records=%d seconds=%.1f",
            event,
            load.table,
            load.partition,
            load.start,
            load.end,
            load.records,
            load.seconds,
        )
    return loads
