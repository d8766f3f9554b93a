"""3. The seek after a rebalance: no record in flight is thrown away, none is skipped.

Also proved end to end by the early-kill test of tests/integration/test_faults.py, which
lost up to 250 of 400 reports without it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from unittest.mock import patch

from faust.transport.drivers import aiokafka as faust_aiokafka

from antifraud.streams.app import app
from antifraud.streams.faust_internals.seek import BatchGate, never_committed, quiesce
from tests.streams.faust_internals.fakes import fast_consumer


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
