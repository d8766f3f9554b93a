"""The Faust overrides in streams/fastpath.py change only what they say they change.

The seek fix (3.) is also proved end to end by the early-kill test of
tests/integration/test_faults.py, which lost up to 250 of 400 reports without it.

Delivery, acks and rebalances under the overrides are exercised end to end by the
whole integration suite (every worker there runs with them) and by the fault tests.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from unittest.mock import patch

import faust
import pytest
from faust.streams import _current_event
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP

from antifraud.streams.app import app, settings
from antifraud.streams.fastpath import (
    BatchGate,
    DirectTable,
    DrainingBuffer,
    can_hand_over_at_once,
    make_transport,
    never_committed,
    quiesce,
)


def fast_consumer() -> tuple[Any, Any]:
    """Our transport class and a consumer of it, on the app (not started)."""
    transport = make_transport(fetch_max_wait_ms=37)(app.conf.broker_consumer, app)
    consumer = transport.create_consumer(
        callback=app.topics.on_message,
        on_partitions_revoked=app._on_partitions_revoked,
        on_partitions_assigned=app._on_partitions_assigned,
    )
    return transport, consumer


def test_the_app_uses_the_fast_transport_and_faust_s_classes_underneath() -> None:
    transport = app.transport
    assert isinstance(transport, faust_aiokafka.Transport)
    assert issubclass(transport.Consumer, faust_aiokafka.Consumer)
    assert issubclass(transport.Producer, faust_aiokafka.Producer)


def test_consumer_fetch_wait_comes_from_the_setting() -> None:
    async def build() -> int:
        transport, consumer = fast_consumer()
        thread = consumer._new_consumer_thread()
        aiokafka_consumer = thread._create_worker_consumer(transport)
        value = aiokafka_consumer._fetch_max_wait_ms
        await aiokafka_consumer.stop()
        return int(value)

    assert asyncio.run(build()) == 37
    assert settings.fetch_max_wait_ms == 100


class SlowChannel:
    """A topic whose broker takes `delay` seconds to accept each record (or never, if None)."""

    def __init__(self, delay: float | None) -> None:
        self.delay = delay
        self.published: list[int] = []

    async def publish_message(self, fut: Any, wait: bool = False) -> None:
        if self.delay is None:
            await asyncio.Event().wait()  # a broker that never answers
        await asyncio.sleep(self.delay)
        self.published.append(fut.n)


def queued(channel: SlowChannel, n: int) -> Any:
    return SimpleNamespace(n=n, message=SimpleNamespace(channel=channel))


async def started_buffer() -> DrainingBuffer:
    buffer = DrainingBuffer()
    buffer.app = SimpleNamespace(conf=SimpleNamespace(producer_threaded=False))
    await buffer.start()
    return buffer


def test_flush_returns_only_after_every_record_has_left() -> None:
    """Faust's flush gave up after 0.1 s without progress, records still queued (2.)."""

    async def scenario() -> tuple[list[int], int]:
        buffer = await started_buffer()
        channel = SlowChannel(delay=0.15)  # slower than Faust's 0.1 s patience
        for n in range(4):
            buffer.put(queued(channel, n))
        await asyncio.wait_for(buffer.flush(), timeout=5)
        published, outstanding = list(channel.published), buffer.outstanding
        await buffer.stop()
        return published, outstanding

    assert asyncio.run(scenario()) == ([0, 1, 2, 3], 0)


def test_flush_counts_the_record_being_handed_to_the_client() -> None:
    """The queue is empty once the last record is taken; that record has not left yet."""

    async def scenario() -> tuple[bool, int, int]:
        buffer = await started_buffer()
        channel = SlowChannel(delay=None)
        buffer.put(queued(channel, 0))
        await asyncio.sleep(0.05)  # taken from the queue, stuck in the client
        finished = True
        try:
            await asyncio.wait_for(buffer.flush(), timeout=0.3)
        except TimeoutError:
            finished = False
        size, outstanding = buffer.size, buffer.outstanding
        await buffer.stop()
        return finished, size, outstanding

    assert asyncio.run(scenario()) == (False, 0, 1)


def test_wait_until_ebb_lets_agents_on_once_the_buffer_is_back_under_its_limit() -> None:
    async def scenario() -> tuple[int, int]:
        buffer = await started_buffer()
        buffer.max_messages = 3
        channel = SlowChannel(delay=0.001)
        for n in range(10):
            buffer.put(queued(channel, n))
        await asyncio.wait_for(buffer.wait_until_ebb(), timeout=5)
        left = buffer.outstanding
        await buffer.flush()
        sent = len(channel.published)
        await buffer.stop()
        return left, sent

    left, sent = asyncio.run(scenario())
    assert left <= 3
    assert sent == 10


def test_the_app_s_producer_uses_the_draining_buffer() -> None:
    assert isinstance(app.producer.buffer, DrainingBuffer)


# ------------------------------------------------------------ 3. the seek after a rebalance


class FakeConsumer:
    def __init__(self, flow_active: bool) -> None:
        self.flow_active = flow_active
        self.stopped = 0

    def stop_flow(self) -> None:
        self.flow_active = False
        self.stopped += 1


class FakeFlowControl:
    def __init__(self) -> None:
        self.suspended = 0

    def suspend(self) -> None:
        self.suspended += 1


class FakeApp:
    def __init__(self) -> None:
        self.flow_control = FakeFlowControl()


def test_quiesce_waits_for_the_batch_being_handed_out_before_the_seek() -> None:
    async def scenario() -> list[str]:
        order: list[str] = []
        gate = BatchGate()
        consumer, app = FakeConsumer(flow_active=True), FakeApp()
        gate.opened()  # the fetcher is inside a batch

        async def fetcher_finishes_its_batch() -> None:
            await asyncio.sleep(0.05)
            order.append("batch handed out")
            gate.closed()

        finishing = asyncio.create_task(fetcher_finishes_its_batch())
        await quiesce(consumer, app, gate)
        order.append("seek may start")
        await finishing
        assert consumer.stopped == 1 and app.flow_control.suspended == 1
        return order

    assert asyncio.run(scenario()) == ["batch handed out", "seek may start"]


def test_quiesce_does_nothing_when_the_flow_is_already_stopped() -> None:
    async def scenario() -> tuple[int, int]:
        gate = BatchGate()
        gate.opened()  # the fetcher itself seeks back from inside its batch: no waiting
        consumer, app = FakeConsumer(flow_active=False), FakeApp()
        await asyncio.wait_for(quiesce(consumer, app, gate), timeout=1)
        return consumer.stopped, app.flow_control.suspended

    assert asyncio.run(scenario()) == (0, 0)


def test_batch_gate_is_idle_only_when_every_batch_is_closed() -> None:
    async def scenario() -> list[bool]:
        gate = BatchGate()
        seen = [await gate.wait_idle(timeout=0.01)]
        gate.opened()
        gate.opened()
        gate.closed()
        seen.append(await gate.wait_idle(timeout=0.01))
        gate.closed()
        seen.append(await gate.wait_idle(timeout=0.01))
        return seen

    assert asyncio.run(scenario()) == [True, False, True]


def test_the_consumer_closes_the_gate_even_when_a_batch_is_abandoned() -> None:
    """A fetcher cancelled mid-batch must not leave the next seek waiting forever."""

    async def scenario() -> bool:
        _, consumer = fast_consumer()
        records = iter([("tp", "m1"), ("tp", "m2")])

        async def two_records(self: object, timeout: float) -> AsyncIterator[tuple[str, str]]:
            for record in records:
                yield record

        with patch.object(faust_aiokafka.Consumer, "getmany", two_records):
            batch = consumer.getmany(timeout=1.0)
            assert await batch.__anext__() == ("tp", "m1")
            assert not await consumer.batches.wait_idle(timeout=0.01)
            await batch.aclose()  # what cancelling the fetcher's task does to it
        return await consumer.batches.wait_idle(timeout=0.01)

    assert asyncio.run(scenario())


# ------------------------------------------------------------ 4. handing a record to its agents


class Flag:
    def __init__(self, value: bool) -> None:
        self.value = value

    def is_set(self) -> bool:
        return self.value

    def is_active(self) -> bool:
        return self.value

    def locked(self) -> bool:
        return self.value


def world(**changes: Any) -> tuple[Any, Any]:
    """A consumer and an app in which a record of TP("t", 0) can be handed over at once."""
    state = {
        "suspended": False,
        "flow_control_active": True,
        "buffered": 10,
        "lock_held": False,
        "queue_full": False,
        **changes,
    }
    consumer = SimpleNamespace(suspend_flow=Flag(state["suspended"]))
    queue = SimpleNamespace(full=lambda: state["queue_full"])
    other_queue = SimpleNamespace(full=lambda: False)
    app = SimpleNamespace(
        flow_control=Flag(state["flow_control_active"]),
        producer=SimpleNamespace(buffer=SimpleNamespace(size=state["buffered"], max_messages=100)),
        topics=SimpleNamespace(
            _tp_to_callback_lock=Flag(state["lock_held"]),
            _tp_index={
                ("t", 0): [SimpleNamespace(queue=other_queue), SimpleNamespace(queue=queue)]
            },
        ),
    )
    return consumer, app


def test_a_record_is_handed_over_at_once_when_nothing_can_make_it_wait() -> None:
    assert can_hand_over_at_once(*world(), ("t", 0))


@pytest.mark.parametrize(
    "change",
    [
        {"suspended": True},
        {"flow_control_active": False},
        {"buffered": 101},
        {"lock_held": True},
        {"queue_full": True},
    ],
)
def test_anything_that_could_make_the_hand_over_wait_keeps_faust_s_way(
    change: dict[str, Any],
) -> None:
    assert not can_hand_over_at_once(*world(**change), ("t", 0))


def test_the_app_s_consumer_drains_with_the_fast_hand_over() -> None:
    assert app.transport.Consumer._drain_messages.__qualname__.startswith("make_transport")


def test_the_worker_does_not_use_faust_s_threaded_producer() -> None:
    """DrainingBuffer.size counts only its own queue, which holds everything in this mode."""
    assert app.conf.producer_threaded is False


def test_partitions_never_committed_are_the_stream_ones_without_a_commit_above_zero() -> None:
    """aiokafka's seek_to_committed leaves those where the fetcher left them (see 3.)."""
    assignment = [("transfers", 0), ("transfers", 1), ("transfers", 2), ("t-changelog", 0)]
    committed = {("transfers", 0): 17, ("transfers", 1): None}  # 2: nothing recorded at all

    def is_changelog(tp: tuple[str, int]) -> bool:
        return tp[0].endswith("changelog")

    assert never_committed(assignment, committed, is_changelog) == [
        ("transfers", 1),
        ("transfers", 2),
    ]


def test_the_worker_starts_partitions_without_a_commit_from_the_beginning() -> None:
    """The rewind of never-committed partitions is 'earliest'; it must stay the app's policy."""
    assert app.conf.consumer_auto_offset_reset == "earliest"


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
