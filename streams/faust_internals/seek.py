"""3. The seek after a rebalance (tests/streams/faust_internals/test_seek.py).

When table recovery ends, Faust resumes the stream partitions while records are still
flowing, seeks them to their committed offsets, and only then resumes flow control, which
empties every agent's queue. Records that reached a queue during the seek are thrown away,
while the consumer's read offset has already moved past them, so their re-fetched copies
are dropped as "already read": they are never processed and never acked (the early-kill
fault test lost up to 250 of 400 reports this way). Our seek (`transport.Consumer.
perform_seek`) first stops the flow, as Faust does when partitions are revoked, and waits
until the fetcher has finished handing out the batch it was in; nothing is delivered
between the seek and the queue clearing then, and everything after the committed offset is
fetched and processed again.

One more hole in the same place: aiokafka's `seek_to_committed` seeks only partitions
whose committed offset is above 0, so a partition never committed (a worker killed before
its first commit) kept the position past the records thrown away, and Faust's commit check
is skipped when nothing was committed: those records were skipped for good (the
restart-after-kill test saw it once in CI). We seek such stream partitions to their
beginning, which is what "earliest" means for a partition with no commit.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

log = logging.getLogger("antifraud")

# A fetched batch ends within one fetch wait once the flow stops; this only bounds a bug.
BATCH_END_TIMEOUT = 30.0


class BatchGate:
    """Knows whether the fetcher is between fetching a batch and handing out its last record.

    The fetcher sets a record's read offset after handing it to the agents; a seek that
    lands while a batch is still being handed out has its read offsets overwritten by
    the stale batch.
    """

    def __init__(self) -> None:
        self._open = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def opened(self) -> None:
        self._open += 1
        self._idle.clear()

    def closed(self) -> None:
        self._open -= 1
        if self._open == 0:
            self._idle.set()

    async def wait_idle(self, timeout: float = BATCH_END_TIMEOUT) -> bool:
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
            return True
        except TimeoutError:
            return False


class FlowControlled(Protocol):
    flow_active: bool

    def stop_flow(self) -> None: ...


async def quiesce(consumer: FlowControlled, app: Any, batches: BatchGate) -> None:
    """Stop delivering records to agents before a seek.

    Whoever asked for the seek resumes flow control (which clears the agents' queues)
    and the flow afterwards, as Faust's recovery does. When the flow is already stopped
    (a rebalance, or the fetcher itself seeking back while stopped) nothing is being
    delivered and there is nothing to do; waiting would also deadlock the fetcher.
    """
    if not consumer.flow_active:
        return
    consumer.stop_flow()
    app.flow_control.suspend()
    if not await batches.wait_idle():
        log.warning("event=seek_while_fetching waited_s=%s", BATCH_END_TIMEOUT)


def never_committed(
    assignment: Iterable[Any], committed: Mapping[Any, int | None], is_changelog: Any
) -> list[Any]:
    """The assigned stream partitions with no commit above offset 0."""
    return sorted(tp for tp in assignment if not is_changelog(tp) and committed.get(tp) is None)
