"""5. Direct table writes: the event's partition file and its changelog, in order; offsets
persisted only once acknowledged; other stores keep Faust's own path."""

from __future__ import annotations

import asyncio
import sys
import weakref
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import faust
from faust.streams import _current_event
from faust.types import TP

from antifraud.streams.faust_internals.direct_table import DirectTable


class RecordingClient:
    """Stands in for the aiokafka producer: keeps what was sent, acknowledges on demand."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes, bytes | None, int]] = []
        self.futures: list[asyncio.Future[Any]] = []

    async def send(self, topic: str, value: Any, key: bytes, partition: int) -> Any:
        self.sent.append((topic, key, value, partition))
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.futures.append(fut)
        return fut

    def acknowledge(self, index: int, offset: int) -> None:
        self.futures[index].set_result(SimpleNamespace(offset=offset))


def direct_table(tmp_path: Path, store: str = "rocksdb://") -> tuple[Any, RecordingClient]:
    other_app = faust.App(f"direct-{store[:3]}", store=store, datadir=str(tmp_path))
    table = other_app.Table("rows", partitions=4, key_type=bytes, value_type=bytes)
    client = RecordingClient()
    other_app.producer._producer = client
    return table, client


class ProcessedEvent:
    def __init__(self, partition: int) -> None:
        self.message = SimpleNamespace(partition=partition)


def processing(partition: int) -> Any:
    """Pretend an agent is processing a record of `partition`, as Faust's stream sets it."""
    event = ProcessedEvent(partition)
    _current_event.set(weakref.ref(event))
    return event  # keep it referenced while in use


def test_direct_writes_go_to_the_event_s_partition_file_and_its_changelog_in_order(
    tmp_path: Path,
) -> None:
    async def scenario() -> tuple[Any, RecordingClient]:
        table, client = direct_table(tmp_path)
        rows = DirectTable(table)
        event = processing(2)
        await rows.set(b"a", b"one")
        await rows.set(b"b", b"two")
        await rows.set(b"a", None)
        await rows.set(b"never-there", None)  # no tombstone for what does not exist
        assert rows.get(b"b") == b"two"
        assert rows.get(b"a") is None
        del event
        return table, client

    table, client = asyncio.run(scenario())
    changelog = table.changelog_topic.get_topic_name()
    assert client.sent == [
        (changelog, b"a", b"one", 2),
        (changelog, b"b", b"two", 2),
        (changelog, b"a", None, 2),
    ]
    # What Faust itself reads from that partition's file:
    assert table.data._db_for_partition(2).get(b"b") == b"two"
    assert table.data._db_for_partition(0).get(b"b") is None


def test_only_acknowledged_changelog_offsets_are_persisted_and_only_for_open_partitions(
    tmp_path: Path,
) -> None:
    async def scenario() -> list[int | None]:
        table, client = direct_table(tmp_path)
        rows = DirectTable(table)
        tp = TP(table.changelog_topic.get_topic_name(), 1)
        event = processing(1)
        for n in range(3):
            await rows.set(b"k%d" % n, b"v")
        seen = []
        rows.persist_offsets()
        seen.append(table.data.persisted_offset(tp))  # nothing acknowledged yet
        client.acknowledge(1, offset=41)
        client.acknowledge(0, offset=40)  # acknowledgements may come out of order
        await asyncio.sleep(0)  # done callbacks run on the loop
        rows.persist_offsets()
        seen.append(table.data.persisted_offset(tp))
        client.futures[2].set_exception(OSError("broker gone"))
        await asyncio.sleep(0)
        rows.persist_offsets()
        seen.append(table.data.persisted_offset(tp))  # a failed send never advances it
        table.data._dbs.pop(1).close()  # revoked: Faust closed its file
        rows._acked[1] = 99
        rows.persist_offsets()
        seen.append(table.data.persisted_offset(tp))
        assert 1 not in rows._acked
        del event
        return seen

    assert asyncio.run(scenario()) == [None, 41, 41, 41]


def test_other_stores_keep_faust_s_own_table_path(tmp_path: Path) -> None:
    async def scenario() -> tuple[RecordingClient, bytes | None, bytes | None]:
        table, client = direct_table(tmp_path, store="memory://")
        rows = DirectTable(table)
        event = processing(0)
        # Faust's own path, minus the Kafka parts a unit test has no broker for.
        table.partition_for_key = lambda key: 0
        table.send_changelog = lambda *args, **kwargs: SimpleNamespace(
            message=SimpleNamespace(partition=0)
        )
        await rows.set(b"a", b"one")
        first = rows.get(b"a")
        await rows.set(b"a", None)
        second = rows.get(b"a")
        del event
        return client, first, second

    client, first, second = asyncio.run(scenario())
    assert (first, second) == (b"one", None)
    assert client.sent == []  # through the table, not the Kafka client directly


def test_no_module_holds_a_table_that_a_direct_table_writes() -> None:
    """A table written through `DirectTable` is reachable only through it: a module-level
    name for the raw table would invite a write on Faust's path, which could reorder a key's
    changelog records."""
    import antifraud.agents
    from antifraud.streams.cli import import_all

    import_all(antifraud.agents)
    modules = [m for name, m in list(sys.modules.items()) if name.startswith("antifraud.")]
    wrapped = {
        id(value._table)
        for module in modules
        for value in vars(module).values()
        if isinstance(value, DirectTable)
    }
    assert wrapped, "the identifier-state table is written through a DirectTable"
    exposed = [
        f"{module.__name__}.{name}"
        for module in modules
        for name, value in vars(module).items()
        if id(value) in wrapped
    ]
    assert exposed == []
