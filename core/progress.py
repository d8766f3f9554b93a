"""Whether the worker is making progress: what `/health` answers (the contract's "Robustness
promises", 3.), decided over plain values the runtime reports.

Three ways a worker can stop while its process looks fine:
- a partition it owns has records waiting and has not moved for a while (an agent stuck on
  a record, a commit that never comes);
- the broker has answered none of its fetches for a while (the consumer long-polls every
  partition it owns, so an idle worker hears back several times a second): it cannot know
  whether records wait, nor move any;
- its writes have been failing (or waiting for the broker) for a while.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True, slots=True)
class Position:
    """Where one partition stands, as the consumer knows it."""

    highwater: int | None  # the offset the broker gives the next record written
    committed: int | None  # the next offset to process, as last committed
    read: int | None  # the last offset handed to an agent
    fetched_at: float | None = None  # when the broker last answered a fetch of it

    def mark(self) -> int | None:
        """What moves when the partition makes progress."""
        return self.committed if self.committed is not None else self.read

    def waiting(self) -> bool:
        """Records are there that this worker has not finished."""
        if self.highwater is None:
            return False
        if self.committed is not None:
            return self.highwater > self.committed
        # Never committed: the record last handed to an agent is not known to be done.
        return self.read is not None and self.highwater > self.read


@dataclass(frozen=True, slots=True)
class Watch:
    """What the last look saw of a partition: its mark, whether records waited, and since
    when it has not moved while they did."""

    mark: int | None
    waiting: bool
    since: float
    seen_at: float  # the first look at it (since it was assigned)


def look(
    previous: Mapping[K, Watch], positions: Mapping[K, Position], now: float
) -> dict[K, Watch]:
    """The watches after one more look. The clock of a partition starts again when records
    begin to wait and when its mark moves; partitions no longer owned are forgotten."""
    watches: dict[K, Watch] = {}
    for key, position in positions.items():
        mark, waiting = position.mark(), position.waiting()
        before = previous.get(key)
        if before is not None and before.waiting and waiting and before.mark == mark:
            watches[key] = before
        else:
            watches[key] = Watch(mark, waiting, now, now if before is None else before.seen_at)
    return watches


def stalled(
    watches: Mapping[K, Watch], positions: Mapping[K, Position], now: float, after: float
) -> list[K]:
    """The partitions with records waiting that have not moved for `after` seconds."""
    return [
        key
        for key, position in positions.items()
        if position.waiting() and key in watches and now - watches[key].since >= after
    ]


def broker_silent_for(
    watches: Mapping[K, Watch], positions: Mapping[K, Position], now: float
) -> float:
    """Seconds since the broker last answered a fetch of any of these partitions; a partition
    not answered yet counts from the first look at it (a broker frozen before its first
    answer is silent too)."""
    answered = [
        position.fetched_at if position.fetched_at is not None else watches[key].seen_at
        for key, position in positions.items()
        if key in watches
    ]
    return max(0.0, now - max(answered)) if answered else 0.0


@dataclass(slots=True)
class Writes:
    """How the worker's writes fare: failing since when, and which are being waited for.

    A write failure not followed by a success makes writes "failing" from that failure on;
    a write waited for is failing once it has waited that long (the producer retries a
    broker that refuses writes for minutes before it reports anything).
    """

    failing_since: float | None = None
    _waits: dict[int, float] = field(default_factory=dict)
    _next_wait: int = 0

    def failed(self, now: float) -> None:
        if self.failing_since is None:
            self.failing_since = now

    def succeeded(self) -> None:
        self.failing_since = None

    def wait_started(self, now: float) -> int:
        self._next_wait += 1
        self._waits[self._next_wait] = now
        return self._next_wait

    def wait_ended(self, token: int) -> None:
        self._waits.pop(token, None)

    def failing_for(self, now: float) -> float:
        """Seconds the writes have been failing or waited for; 0 when they pass."""
        since = [t for t in (self.failing_since, *self._waits.values()) if t is not None]
        return max(0.0, now - min(since)) if since else 0.0
