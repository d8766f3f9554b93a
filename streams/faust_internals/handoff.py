"""4. Handing a record to its agents (tests/streams/faust_internals/test_handoff.py).

Faust's fetcher awaits every record's hand-off together with the "flow suspended" event
(`wait_first`), so that a rebalance can interrupt a hand-off that waits on flow control, a
full agent queue or a full producer buffer; that creates three tasks per record (22 % of a
worker's CPU while it recovers tables, 4-8 % while it processes transfers). When none of
those waits can happen (flow running, the record's agent queues and the producer buffer
below their limits), the hand-off runs to its end without yielding, so nothing can
interrupt it: we await it directly. Otherwise Faust's way is kept. `drain_messages` is
Faust 0.15.3's `Consumer._drain_messages`, with that change; read offsets, gaps and
commits are kept as Faust keeps them.
"""

from __future__ import annotations

import asyncio
from typing import Any

from faust.transport.consumer import CONSUMER_FETCHING


def can_hand_over_at_once(consumer: Any, app: Any, tp: Any) -> bool:
    """Whether handing a record of `tp` to its agents cannot wait on anything."""
    if consumer.suspend_flow.is_set() or not app.flow_control.is_active():
        return False
    buffer = app.producer.buffer
    if buffer.size > buffer.max_messages:  # the conductor would wait for it to ebb
        return False
    conductor = app.topics
    if conductor._tp_to_callback_lock.locked():
        return False
    return not any(channel.queue.full() for channel in conductor._tp_index.get(tp, ()))


async def drain_messages(consumer: Any, fetcher: Any) -> None:
    """Faust's fetcher loop for `consumer` (its `_drain_messages`), but for the hand-off."""
    self = consumer  # kept as Faust's code reads, to compare it line by line
    callback = self.callback
    consumer_should_stop = self._stopped.is_set
    fetcher_should_stop = fetcher._stopped.is_set
    get_read_offset = self._read_offset.__getitem__
    set_read_offset = self._read_offset.__setitem__
    commit_every = self._commit_every
    acks_enabled_for = self.app.topics.acks_enabled_for
    app = self.app
    yield_every = 100
    num_since_yield = 0
    try:
        while not (consumer_should_stop() or fetcher_should_stop()):
            self.diag.set_flag(CONSUMER_FETCHING)
            batch = self.getmany(timeout=1.0)
            # Faust: getmany may return at once in a loop, never yielding otherwise.
            await self.sleep(0)
            if self.should_stop:
                continue
            async for tp, message in batch:
                num_since_yield += 1
                if num_since_yield > yield_every:
                    await asyncio.sleep(0)
                    num_since_yield = 0
                offset = message.offset
                r_offset = get_read_offset(tp)
                if r_offset is not None and offset < r_offset:
                    self.log.dev("DROPPED MESSAGE ROFF %r", offset)
                    continue
                gap = offset - (r_offset or 0)
                if gap > 1 and r_offset and acks_enabled_for(message.topic):
                    await self._add_gap(tp, r_offset + 1, offset)
                if commit_every is not None and self._n_acked >= commit_every:
                    self._n_acked = 0
                    await self.commit()
                if can_hand_over_at_once(self, app, tp):
                    await callback(message)
                else:
                    await self.wait_first(callback(message), self.suspend_flow.wait())
                set_read_offset(tp, offset)
            self.diag.unset_flag(CONSUMER_FETCHING)
    except self.consumer_stopped_errors:
        if self.transport.app.should_stop:
            self.log.info("Broker stopped consumer, shutting down...")
            return
        raise
    except asyncio.CancelledError:
        if self.transport.app.should_stop:
            self.log.info("Consumer shutting down for user cancel.")
            return
        raise
    except Exception as exc:
        self.log.exception("Drain messages raised: %r", exc)
        raise
    finally:
        self.diag.unset_flag(CONSUMER_FETCHING)
