"""How agents take records from their stream, and when they ack them: only once `guarded`
has returned, that is once each record's effects or its dead letter are written.

Faust acks a record in a `finally`: when its agent raises, and when the agent is cancelled
(a stopping worker) while it still works on it; the commit that follows then skips it. For
batches (`take_events`) it acks the whole batch that way. So our agents read with Faust's
manual acks (`Stream.noack`, `Stream.noack_take`) and ack each record themselves after it
is done: a record whose writes never happened is never acked, and its partition's commits
stop before it (Faust commits up to the first record not acked).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from antifraud.streams.emit import guarded, guarded_batch


async def handle_each(stream: Any, handle: Callable[[Any], Awaitable[None]]) -> None:
    """Every record of `stream` through `guarded(record, handle)`, acked after it."""
    records = stream.noack()
    async for event in records.events():
        await guarded(event, handle)
        await records.ack(event)


async def handle_batches(
    stream: Any,
    size: int,
    within: float,
    handle: Callable[[list[Any]], Awaitable[None]],
) -> None:
    """Batches of up to `size` records (or what came `within` seconds) through
    `guarded_batch`, each record acked after its batch is done."""
    async for events in stream.noack_take(size, within=within):
        await guarded_batch(events, handle)
        for event in events:
            await stream.ack(event)
