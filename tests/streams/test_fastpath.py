"""The Faust overrides in streams/fastpath.py change only what they say they change.

Delivery, acks and rebalances under the overrides are exercised end to end by the
whole integration suite (every worker there runs with them) and by the fault tests.
"""

from __future__ import annotations

import asyncio

from faust.transport.drivers import aiokafka as faust_aiokafka

from streams.app import app, settings
from streams.fastpath import drain, make_transport


def test_the_app_uses_the_fast_transport_and_faust_s_classes_underneath() -> None:
    transport = app.transport
    assert isinstance(transport, faust_aiokafka.Transport)
    assert issubclass(transport.Consumer, faust_aiokafka.Consumer)
    assert issubclass(transport.Producer, faust_aiokafka.Producer)


def test_consumer_fetch_wait_comes_from_the_setting() -> None:
    async def build() -> int:
        transport = make_transport(fetch_max_wait_ms=37)(app.conf.broker_consumer, app)
        consumer = transport.create_consumer(
            callback=app.topics.on_message,
            on_partitions_revoked=app._on_partitions_revoked,
            on_partitions_assigned=app._on_partitions_assigned,
        )
        thread = consumer._new_consumer_thread()
        aiokafka_consumer = thread._create_worker_consumer(transport)
        value = aiokafka_consumer._fetch_max_wait_ms
        await aiokafka_consumer.stop()
        return int(value)

    assert asyncio.run(build()) == 37
    assert settings.fetch_max_wait_ms == 100


class SlowBuffer:
    """Like Faust's ProducerBuffer when the broker is slow: each flush gives up early."""

    def __init__(self, queued: int) -> None:
        self.queued = queued
        self.flush_calls = 0

    @property
    def size(self) -> int:
        return self.queued

    async def flush(self) -> None:
        self.flush_calls += 1
        await asyncio.sleep(0)
        self.queued -= 1  # one record left, then it "timed out" with the rest still queued


def test_drain_waits_until_the_buffer_is_empty() -> None:
    buffer = SlowBuffer(queued=5)
    asyncio.run(drain(buffer))
    assert buffer.size == 0
    assert buffer.flush_calls == 5


def test_drain_of_an_empty_buffer_does_nothing() -> None:
    buffer = SlowBuffer(queued=0)
    asyncio.run(drain(buffer))
    assert buffer.flush_calls == 0
