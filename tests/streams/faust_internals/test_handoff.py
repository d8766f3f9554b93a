"""4. A record is handed to its agents directly only when nothing could make it wait."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any
from unittest.mock import patch

import pytest
from faust.types import TP

from antifraud.streams.app import app
from antifraud.streams.faust_internals.handoff import can_hand_over_at_once, drain_messages
from antifraud.streams.faust_internals.probes import last_read_offset
from tests.streams.faust_internals.fakes import fast_consumer


class Flag:
    def __init__(self, value: bool) -> None:
        self.value = value

    def is_set(self) -> bool:
        return self.value

    def is_active(self) -> bool:
        return self.value

    def locked(self) -> bool:
        return self.value


def world(**changes: Any) -> tuple[Any, Any]:
    """A consumer and an app in which a record of TP("t", 0) can be handed over at once."""
    state = {
        "suspended": False,
        "flow_control_active": True,
        "buffered": 10,
        "lock_held": False,
        "queue_full": False,
        **changes,
    }
    consumer = SimpleNamespace(suspend_flow=Flag(state["suspended"]))
    queue = SimpleNamespace(full=lambda: state["queue_full"])
    other_queue = SimpleNamespace(full=lambda: False)
    app = SimpleNamespace(
        flow_control=Flag(state["flow_control_active"]),
        producer=SimpleNamespace(buffer=SimpleNamespace(size=state["buffered"], max_messages=100)),
        topics=SimpleNamespace(
            _tp_to_callback_lock=Flag(state["lock_held"]),
            _tp_index={
                ("t", 0): [SimpleNamespace(queue=other_queue), SimpleNamespace(queue=queue)]
            },
        ),
    )
    return consumer, app


def test_a_record_is_handed_over_at_once_when_nothing_can_make_it_wait() -> None:
    assert can_hand_over_at_once(*world(), ("t", 0))


@pytest.mark.parametrize(
    "change",
    [
        {"suspended": True},
        {"flow_control_active": False},
        {"buffered": 101},
        {"lock_held": True},
        {"queue_full": True},
    ],
)
def test_anything_that_could_make_the_hand_over_wait_keeps_faust_s_way(
    change: dict[str, Any],
) -> None:
    assert not can_hand_over_at_once(*world(**change), ("t", 0))


def test_the_app_s_consumer_drains_with_the_fast_hand_over() -> None:
    assert app.transport.Consumer._drain_messages.__qualname__.startswith("make_transport")


def test_the_drain_loop_hands_records_over_in_order_and_keeps_faust_s_read_offsets() -> None:
    """Records behind the read offset are dropped as Faust drops them; each record's offset
    is read only after its hand-off (the offset the lag figure and Faust's seek rely on)."""
    tp = TP("antifraud.transfers", 0)
    handed: list[tuple[int, int | None]] = []

    async def scenario() -> int | None:
        _, consumer = fast_consumer()
        fetcher = SimpleNamespace(_stopped=asyncio.Event())

        async def callback(message: Any) -> None:
            handed.append((message.offset, last_read_offset(consumer, tp)))

        async def batch(self: Any, timeout: float) -> AsyncIterator[tuple[Any, Any]]:
            for offset in (5, 6, 4, 7):  # 4: behind what was read already
                yield tp, SimpleNamespace(offset=offset, topic=tp.topic)
            fetcher._stopped.set()

        consumer.callback = callback
        with patch.object(type(consumer), "getmany", batch):
            await asyncio.wait_for(drain_messages(consumer, fetcher), timeout=5)
        return last_read_offset(consumer, tp)

    assert asyncio.run(scenario()) == 7
    assert handed == [(5, None), (6, 5), (7, 6)]
