"""10. What /health and the lag timer read of Faust's state
(tests/streams/faust_internals/test_probes.py).

Faust does not declare any as public: the table manager's recovery (its `completed`
event is set once every assigned table partition is recovered), the consumer's read
offsets (the last offset of each partition handed to an agent, kept by the fetcher, 4.)
its committed offsets (what it last committed for each partition) and when the broker
last answered a fetch of each (/health's stall detection, streams/progress.py).
"""

from __future__ import annotations

from typing import Any


def tables_recovered(app: Any) -> bool:
    """Whether Faust's table recovery has finished for the current assignment."""
    return bool(app.tables.recovery.completed.is_set())


def last_read_offset(consumer: Any, tp: Any) -> int | None:
    """The offset of the last record of `tp` handed to an agent, None before the first."""
    offset: int | None = consumer._read_offset.get(tp)
    return offset


def committed_offset(consumer: Any, tp: Any) -> int | None:
    """The offset last committed for `tp` (the next one to process), None before the first."""
    offset: int | None = consumer._committed_offset.get(tp)
    return offset


def last_fetched_at(consumer: Any, tp: Any) -> float | None:
    """When the broker last answered a fetch of `tp` (Unix seconds), None before the first.

    aiokafka's public `last_poll_timestamp`, on the aiokafka consumer Faust keeps in its
    consumer thread.
    """
    try:
        timestamp_ms = consumer._thread._ensure_consumer().last_poll_timestamp(tp)
    except AssertionError:  # aiokafka's: not assigned (any more)
        return None
    return None if timestamp_ms is None else timestamp_ms / 1000
