"""10. /health reads Faust's recovery as Faust sets it; the lag reads Faust's read offsets."""

from __future__ import annotations

import asyncio

import faust
from faust.types import TP

from antifraud.streams.faust_internals.probes import (
    committed_offset,
    last_fetched_at,
    last_read_offset,
    tables_recovered,
)
from tests.streams.faust_internals.fakes import fast_consumer


def test_tables_are_recovered_once_faust_s_recovery_says_so() -> None:
    async def scenario() -> list[bool]:
        app = faust.App("probes-unit", store="memory://")
        seen = [tables_recovered(app)]
        app.tables.recovery.completed.set()  # what Faust's recovery does when it is done
        seen.append(tables_recovered(app))
        app.tables.recovery.completed.clear()  # and undoes on the next rebalance
        seen.append(tables_recovered(app))
        return seen

    assert asyncio.run(scenario()) == [False, True, False]


def test_the_read_offset_is_none_before_the_first_record_of_a_partition() -> None:
    _, consumer = fast_consumer()
    tp = TP("antifraud.transfers", 3)
    assert last_read_offset(consumer, tp) is None
    consumer._read_offset[tp] = 41  # as the fetcher records a record handed over
    assert last_read_offset(consumer, tp) == 41
    assert last_read_offset(consumer, TP("antifraud.transfers", 4)) is None


def test_the_committed_offset_is_what_faust_last_committed_none_before() -> None:
    _, consumer = fast_consumer()
    tp = TP("antifraud.transfers", 3)
    assert committed_offset(consumer, tp) is None
    # What Faust's commit records once the broker took it (the next offset to process).
    consumer._committed_offset.update({tp: 42})
    assert committed_offset(consumer, tp) == 42
    assert committed_offset(consumer, TP("antifraud.transfers", 4)) is None
    consumer._committed_offset.pop(tp)  # a revoked partition's is forgotten
    assert committed_offset(consumer, tp) is None


def test_the_last_fetch_is_aiokafka_s_last_poll_timestamp_in_seconds() -> None:
    from types import SimpleNamespace

    tp = TP("antifraud.transfers", 3)
    polls = {tp: 1_795_942_802_500}

    def last_poll_timestamp(partition: TP) -> int | None:
        assert partition in polls, "Partition is not assigned"  # as aiokafka does
        return polls[partition]

    aiokafka_consumer = SimpleNamespace(last_poll_timestamp=last_poll_timestamp)
    consumer = SimpleNamespace(_thread=SimpleNamespace(_ensure_consumer=lambda: aiokafka_consumer))
    assert last_fetched_at(consumer, tp) == 1_795_942_802.5
    assert last_fetched_at(consumer, TP("antifraud.transfers", 4)) is None  # not assigned
    polls[tp] = None  # type: ignore[assignment]
    assert last_fetched_at(consumer, tp) is None
