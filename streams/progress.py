"""Whether this worker makes progress: what `/health` adds to "processing", and its metrics.

The decisions are in `antifraud.core.progress`; here they are fed. A timer looks at every
partition the agents consume (not the tables' changelogs) once a second: one with records
waiting that has not moved, or every one when the broker has answered no fetch, for
ANTIFRAUD_HEALTH_STALL_SECONDS is stalled. The agents report
their writes (streams/emit.py): failures, waits for the broker, and records that can be
written neither with their effects nor as a dead letter ("stuck": their partition counts
as stalled at once, and stays so until the record is written).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from antifraud.core.progress import Position, Watch, Writes, broker_silent_for, look, stalled
from antifraud.streams import metrics
from antifraud.streams.app import app, settings
from antifraud.streams.faust_internals.probes import (
    committed_offset,
    last_fetched_at,
    last_read_offset,
)

log = logging.getLogger("antifraud")

writes = Writes()
Partition = tuple[str, int]  # (topic, partition)
_watches: dict[Partition, Watch] = {}
_stuck: dict[Partition, int] = {}  # -> offset of the stuck record
_topics_reported: set[str] = set()


def stuck(topic: str, partition: int, offset: int) -> None:
    _stuck[(topic, partition)] = offset


def unstuck(topic: str, partition: int) -> None:
    _stuck.pop((topic, partition), None)


def positions() -> dict[Partition, Position]:
    """Every partition an agent of this worker consumes, as the consumer knows it."""
    consumer: Any = app.consumer
    consumed = app.topics.acking_topics
    return {
        (tp.topic, tp.partition): Position(
            consumer.highwater(tp),
            committed_offset(consumer, tp),
            last_read_offset(consumer, tp),
            last_fetched_at(consumer, tp),
        )
        for tp in consumer.assignment()
        if tp.topic in consumed
    }


@dataclass(frozen=True, slots=True)
class Verdict:
    stalled: list[Partition]  # with records waiting and not moving, or stuck
    broker_silent_for: float  # seconds since the broker answered a fetch
    writes_failing_for: float  # seconds the writes have failed or waited

    def problems(self) -> list[str]:
        """Why the worker cannot make progress (empty when it can)."""
        found = []
        if self.broker_silent_for >= settings.health_stall_seconds:
            found.append(f"no answer from the broker for {self.broker_silent_for:.0f} s")
        if self.stalled:
            names = ", ".join(f"{topic}/{partition}" for topic, partition in self.stalled)
            found.append(f"partitions not moving: {names}")
        if self.writes_failing_for >= settings.health_write_failure_seconds:
            found.append(f"writes failing for {self.writes_failing_for:.0f} s")
        return found


def judge(now: float | None = None) -> Verdict:
    """Look at the partitions and the writes now; updates the clocks and the metrics."""
    global _watches
    now = time.time() if now is None else now
    seen = positions()
    _watches = look(_watches, seen, now)
    silent_for = broker_silent_for(_watches, seen, now)
    stopped = set(stalled(_watches, seen, now, settings.health_stall_seconds)) | set(_stuck)
    if silent_for >= settings.health_stall_seconds:
        stopped |= set(seen)  # none can move, waiting or not
    _report_stalled(stopped)
    failing_for = writes.failing_for(now)
    metrics.WRITES_FAILING_SECONDS.set(failing_for)
    verdict = Verdict(sorted(stopped), silent_for, failing_for)
    _say_if_changed(verdict)
    return verdict


def _report_stalled(stopped: set[Partition]) -> None:
    by_topic: dict[str, int] = dict.fromkeys(_topics_reported, 0)
    for topic, _ in stopped:
        by_topic[topic] = by_topic.get(topic, 0) + 1
    for topic, count in by_topic.items():
        metrics.STALLED_PARTITIONS.labels(topic).set(count)
    _topics_reported.update(by_topic)


_said: tuple[list[Partition], bool, bool] = ([], False, False)


def _say_if_changed(verdict: Verdict) -> None:
    """Log when the verdict changes (which problems, not how many seconds they have lasted).

    Said by whoever looks first, the timer or a `/health` probe: a stall shorter than the
    timer's second would otherwise answer 503 and leave no line in the log."""
    global _said
    said = (
        verdict.stalled,
        verdict.broker_silent_for >= settings.health_stall_seconds,
        verdict.writes_failing_for >= settings.health_write_failure_seconds,
    )
    if said == _said:
        return
    _said = said
    problems = verdict.problems()
    if problems:
        log.error("event=worker_stalled problems=%r", "; ".join(problems))
    else:
        log.info("event=worker_progressing")


@app.timer(interval=1.0)
async def watch_progress() -> None:
    """Keep the clocks, the metrics and the log current between probes."""
    judge()
