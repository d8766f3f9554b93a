"""Sending to the cases' topics: money events (keyed by command id), case events (keyed by
report id) and the police's case status. One place for the agents to call, and for their
tests to replace (tests/agents). Through `emit.write`, like every send of an agent: the
record being handled waits for them, and a send that waits counts for /health."""

from __future__ import annotations

from collections.abc import Awaitable, Iterable
from typing import Any

import orjson

from antifraud.core.case_file import CaseEvent
from antifraud.core.case_serde import dump_case_event, dump_money_event
from antifraud.core.held_money import MoneyEvent
from antifraud.streams import topics
from antifraud.streams.emit import write

Deliveries = list[Awaitable[Any]]


async def send_money_events(items: Iterable[tuple[str, MoneyEvent]]) -> Deliveries:
    """Each `(command id, event)` to the owner of that hold's or freeze's money."""
    return [
        await write(topics.money_events, command_id.encode(), dump_money_event(event))
        for command_id, event in items
    ]


async def send_case_events(items: Iterable[tuple[str, CaseEvent]]) -> Deliveries:
    """Each `(report id, event)` to that report's case."""
    return [
        await write(topics.case_events, report_id.encode(), dump_case_event(event))
        for report_id, event in items
    ]


async def write_case_status(report_id: str, status: dict[str, Any]) -> Awaitable[Any]:
    """The police's view of one case, keyed by report id (latest wins)."""
    return await write(topics.case_status, report_id.encode(), orjson.dumps(status))
