"""Whether this worker makes progress: what `/health` adds to "processing", and its metrics.

The decisions are in `antifraud.core.progress`; here they are fed. A timer looks at every
partition the agents consume (not the tables' changelogs) once a second; the agents report
their writes (streams/emit.py): failures, waits for the broker, and records that can be
written neither with their effects nor as a dead letter ("stuck": their partition counts
as stalled at once, and stays so until the record is written).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from antifraud.core.progress import Position, Watch, Writes, look, stalled
from antifraud.streams import metrics
from antifraud.streams.app import app, settings
from antifraud.streams.faust_internals.probes import committed_offset, last_read_offset

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
            consumer.highwater(tp), committed_offset(consumer, tp), last_read_offset(consumer, tp)
        )
        for tp in consumer.assignment()
        if tp.topic in consumed
    }


def _check(now: float) -> tuple[list[Partition], float]:
    """The partitions not moving and how long writes have failed; updates the metrics."""
    global _watches
    seen = positions()
    _watches = look(_watches, seen, now)
    stopped = set(stalled(_watches, seen, now, settings.health_stall_seconds)) | set(_stuck)
    _report_stalled(stopped)
    failing_for = writes.failing_for(now)
    metrics.WRITES_FAILING_SECONDS.set(failing_for)
    return sorted(stopped), failing_for


def problems(now: float | None = None) -> list[str]:
    """Why the worker cannot make progress (empty when it can)."""
    stopped, failing_for = _check(time.time() if now is None else now)
    found = []
    if stopped:
        names = ", ".join(f"{topic}/{partition}" for topic, partition in stopped)
        found.append(f"partitions not moving: {names}")
    if failing_for >= settings.health_write_failure_seconds:
        found.append(f"writes failing for {failing_for:.0f} s")
    return found


def _report_stalled(stopped: set[Partition]) -> None:
    by_topic: dict[str, int] = dict.fromkeys(_topics_reported, 0)
    for topic, _ in stopped:
        by_topic[topic] = by_topic.get(topic, 0) + 1
    for topic, count in by_topic.items():
        metrics.STALLED_PARTITIONS.labels(topic).set(count)
    _topics_reported.update(by_topic)


_said: tuple[list[Partition], bool] = ([], False)


@app.timer(interval=1.0)
async def watch_progress() -> None:
    """Keep the clocks and the metrics current between probes; log when the verdict changes."""
    global _said
    stopped, failing_for = _check(time.time())
    verdict = (stopped, failing_for >= settings.health_write_failure_seconds)
    if verdict == _said:
        return
    _said = verdict
    if stopped or verdict[1]:
        names = ",".join(f"{topic}/{partition}" for topic, partition in stopped)
        log.error(
            "event=worker_stalled partitions=%s writes_failing_s=%.0f", names or "-", failing_for
        )
    else:
        log.info("event=worker_progressing")
