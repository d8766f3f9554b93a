"""The bulk table load against a real broker: what it writes is what Faust's store then reads."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from pathlib import Path
from typing import Any

import faust
from faust.types import TP

from antifraud.harness.kafka_io import blocking_producer
from antifraud.streams.table_preload import preload_tables, recover_in_bulk
from antifraud.streams.topic_admin import ensure_topics
from tests.integration.conftest import Broker


def send_one_by_one(broker: Broker, topic: str, records: list[tuple]) -> None:
    # One produce batch per record: the embedded broker reports a partition's end as its
    # last batch's base offset + 1, and a bulk load stops at the reported end.
    producer = blocking_producer(broker.bootstrap)
    try:
        for partition, key, value in records:
            producer.send(topic, key=key, value=value, partition=partition)
            producer.flush(timeout=30)
    finally:
        producer.close(timeout=5)


def two_partition_table(broker: Broker, tmp_path: Path) -> tuple[Any, str]:
    """A Faust table in RocksDB files under `tmp_path`, and its changelog, created."""
    app = faust.App(f"load-{uuid.uuid4().hex[:8]}", store="rocksdb://", datadir=str(tmp_path))
    table: Any = app.Table("state", partitions=2, key_type=bytes, value_type=bytes)
    topic = table.changelog_topic.get_topic_name()
    asyncio.run(ensure_topics(broker.bootstrap, [topic], 2, 1))
    return table, topic


def test_preload_writes_the_changelog_into_faust_files_and_then_only_the_tail(
    broker: Broker, tmp_path: Path
) -> None:
    table, topic = two_partition_table(broker, tmp_path)
    send_one_by_one(
        broker,
        topic,
        [(0, b"a", b"1"), (0, b"b", b"1"), (0, b"a", b"2"), (0, b"b", None), (1, b"c", b"1")],
    )
    loads = asyncio.run(preload_tables([table], broker.bootstrap, {}))
    assert [(load.partition, load.start, load.records) for load in loads] == [
        (0, 0, 4),
        (1, 0, 1),
    ]
    store = table.data
    assert store.persisted_offset(TP(topic, 0)) == 3
    assert store.persisted_offset(TP(topic, 1)) == 0
    assert store._db_for_partition(0).get(b"a") == b"2"
    assert store._db_for_partition(0).get(b"b") is None
    assert store._db_for_partition(1).get(b"c") == b"1"
    for db in store._dbs.values():
        db.close()
    store._dbs.clear()

    # A disk that holds partition 0 only: that file is brought up to date from where it
    # stands, and partition 1 is left to whoever is assigned it.
    shutil.rmtree(store.partition_path(1))
    send_one_by_one(broker, topic, [(0, b"d", b"1"), (1, b"e", b"1")])
    loads = asyncio.run(preload_tables([table], broker.bootstrap, {}))
    assert [(load.partition, load.start, load.end, load.records) for load in loads] == [
        (0, 4, 5, 1)
    ]
    assert store.persisted_offset(TP(topic, 0)) == 4
    assert store._db_for_partition(0).get(b"d") == b"1"
    assert store._db_for_partition(0).get(b"a") == b"2"
    assert not store.partition_path(1).exists()


def test_after_a_join_a_far_behind_partition_is_loaded_up_to_faust_s_highwater(
    broker: Broker, tmp_path: Path
) -> None:
    table, topic = two_partition_table(broker, tmp_path)
    send_one_by_one(broker, topic, [(0, f"k{i}".encode(), b"v") for i in range(10)])
    send_one_by_one(broker, topic, [(1, b"x", b"1")])
    behind, near = TP(topic, 0), TP(topic, 1)
    # Faust's view at the join: no file yet for either; it took the last offsets as 5 and 0
    # (records after its highwater would fail its consistency check, so they are left).
    offsets: dict[TP, int | None] = {behind: None, near: None}
    loads = asyncio.run(
        recover_in_bulk(
            {behind: table, near: table}, offsets, {behind: 5, near: 0}, broker.bootstrap, {}, 2
        )
    )
    assert [(load.partition, load.start, load.end, load.records) for load in loads] == [
        (0, 0, 6, 6)
    ]
    assert offsets == {behind: 5, near: None}  # partition 1 is one record behind: Faust's
    store = table.data
    assert store.persisted_offset(behind) == 5
    assert store._db_for_partition(0).get(b"k5") == b"v"
    assert store._db_for_partition(0).get(b"k6") is None
    for db in store._dbs.values():
        db.close()
