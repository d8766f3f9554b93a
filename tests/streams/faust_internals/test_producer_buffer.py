"""2. The producer buffer's flush returns only once every record has left."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from antifraud.streams.app import app
from antifraud.streams.faust_internals.producer_buffer import DrainingBuffer


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


def test_the_worker_does_not_use_faust_s_threaded_producer() -> None:
    """DrainingBuffer.size counts only its own queue, which holds everything in this mode."""
    assert app.conf.producer_threaded is False
