"""The money of each hold and freeze: the reports behind it, its bank's ack, and the gate of
its returns (core/held_money.py). Keyed by the command's id, so each has one owner.

In: links from matching (agents/matching.py), acks from the ledger (agents/ledger.py), the
returns and extensions the cases plan (agents/cases.py). Out: the commands that pass the gate
(through the ledger like every command) and the new view, to the case of every linked report.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from antifraud.core.case_file import MoneyChanged
from antifraud.core.case_serde import dump_money, load_money, load_money_event
from antifraud.core.held_money import HeldMoney, apply_money
from antifraud.streams import metrics, topics
from antifraud.streams.app import app, settings
from antifraud.streams.case_sends import send_case_events
from antifraud.streams.emit import Deliveries, audit, delivered, issue_command
from antifraud.streams.faust_internals.current_event import current_event_set
from antifraud.streams.handling import handle_batches
from antifraud.streams.staged import Staged

log = logging.getLogger("antifraud")

held_money = topics.bytes_table(
    "held-money",
    "Per hold or freeze (command id): the reports behind it, its bank's ack, and the returns "
    "and extensions issued from it.",
)


@app.agent(topics.money_events)
async def money(stream: Any) -> None:
    await handle_batches(stream, settings.batch_size, settings.batch_window_ms / 1000, _money)


async def _money(events: list[Any]) -> None:
    states: Staged[HeldMoney] = Staged(held_money, lambda key, raw: load_money(raw), dump_money)
    before: Deliveries = []
    for event in events:
        with current_event_set(event):
            before += await _money_one(event, states)
    # Commands and views on the broker before the states that record them (streams/emit.py),
    # one wait for the batch: a busy account's holds link here one record each.
    await delivered(before)
    states.write_back()


async def _money_one(event: Any, states: Staged[HeldMoney]) -> Deliveries:
    command_id = event.key.decode()
    money_event = load_money_event(event.value)
    state = states[event.key]
    outcome = apply_money(state, command_id, money_event)
    now = time.time()
    before: Deliveries = []
    for command in outcome.commands:
        before += await issue_command(command, now)
    if outcome.changed:
        view = MoneyChanged(command_id, state)
        before += await send_case_events((report_id, view) for report_id in state.reports)
        states.changed(event.key)
    for command, why in outcome.refused:
        metrics.RETURNS_REFUSED.labels(why).inc()
        log.warning(
            "event=case_command_refused type=%s command_id=%s from=%s reason=%s",
            command["type"],
            command["command_id"],
            command_id,
            why,
        )
        await audit({"kind": "refused", "command_id": command["command_id"], "reason": why})
    return before
