"""11. The current event set for one record of a batch is the one Faust's tables read."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import faust
from faust.streams import current_event

from antifraud.streams.faust_internals.current_event import current_event_set


class _Event:
    """What Faust reads of an event here (weakly referenced, like Faust's own)."""

    def __init__(self, partition: int) -> None:
        self.message = SimpleNamespace(partition=partition, topic="t")


def _event(partition: int) -> _Event:
    return _Event(partition)


def test_the_event_is_current_inside_and_the_previous_one_after() -> None:
    first, second = _event(0), _event(1)
    with current_event_set(first):
        assert current_event() is first
        with current_event_set(second):
            assert current_event() is second
        assert current_event() is first
    assert current_event() is None


def test_a_table_write_goes_to_the_changelog_partition_of_the_event_set() -> None:
    async def scenario() -> list[int | None]:
        app = faust.App("current-event-unit", store="memory://")
        table = app.Table("rows", partitions=4)
        without = None
        try:
            table.partition_for_key(b"k")
        except TypeError:
            without = -1  # outside any event: Faust refuses to pick a partition
        seen: list[int | None] = [without]
        for partition in (2, 3):
            with current_event_set(_event(partition)):
                seen.append(table.partition_for_key(b"k"))
        return seen

    assert asyncio.run(scenario()) == [-1, 2, 3]
