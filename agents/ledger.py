"""The command ledger agent: issued commands, bank acks, and the re-send of overdue commands."""

from __future__ import annotations

import logging
import time
from typing import Any

import orjson

from antifraud.core.held_money import Acked, bank_ack, money_owner
from antifraud.core.ledger import (
    PENDING,
    AckReceived,
    CommandIssued,
    LedgerEntry,
    ResendDue,
    record_ack,
    record_issue,
    record_resend,
)
from antifraud.core.names import AckStatus, CommandType, DeadLetterCode
from antifraud.core.serde import (
    dump_ledger_entry,
    dump_ledger_event,
    load_ledger_entry,
    load_ledger_event,
)
from antifraud.streams import metrics, topics
from antifraud.streams.app import app, settings
from antifraud.streams.case_sends import send_money_events
from antifraud.streams.emit import (
    Deliveries,
    audit,
    command_topic_for,
    dead_letter,
    delivered,
    write,
)
from antifraud.streams.faust_internals.current_event import current_event_set
from antifraud.streams.handling import handle_batches
from antifraud.streams.staged import Staged

log = logging.getLogger("antifraud")

command_ledger = topics.bytes_table(
    "command-ledger",
    "Per command id: the command, when it was issued, and the bank's acknowledgement.",
)

# Command ids this worker already asked to re-send, so the timer does not ask twice.
_resend_requested: set[bytes] = set()


@app.agent(topics.ledger_events)
async def ledger(stream: Any) -> None:
    await handle_batches(stream, settings.batch_size, settings.batch_window_ms / 1000, _ledger)


Entries = Staged[LedgerEntry | None]


async def _ledger(events: list[Any]) -> None:
    entries: Entries = Staged(command_ledger, _load_entry, _dump_entry)
    # What the entries will record (re-sends, acks told to the money's owner) is on the
    # broker before they do: a crash in between would otherwise lose it for good (a replay
    # finds it done). One wait for the batch: a burst of acks or re-sends one round trip
    # each kept matching waiting for tens of seconds (streams/staged.py).
    before: Deliveries = []
    for event in events:
        with current_event_set(event):
            before += await _ledger_one(event, entries)
    await delivered(before)
    entries.write_back()


def _load_entry(key: bytes, raw: bytes | None) -> LedgerEntry | None:
    return load_ledger_entry(raw)


def _dump_entry(entry: LedgerEntry | None) -> bytes:
    assert entry is not None, "only entries read or issued are written back"
    return dump_ledger_entry(entry)


async def _ledger_one(event: Any, entries: Entries) -> Deliveries:
    ledger_event = load_ledger_event(event.value)
    entry = entries[event.key]
    before: Deliveries = []
    if isinstance(ledger_event, CommandIssued):
        if entry is None:
            metrics.UNACKNOWLEDGED.labels(ledger_event.command["bank_id"]).inc()
        entries[event.key] = record_issue(entry, ledger_event.command, ledger_event.at)
    elif isinstance(ledger_event, AckReceived):
        before += await _on_ack(event.key, entries, ledger_event)
    elif isinstance(ledger_event, ResendDue):
        if record_resend(entry, time.time(), settings.policy.ack_sla_seconds):
            assert entry is not None
            before.append(
                await write(
                    await command_topic_for(entry.bank_id),
                    entry.bank_id.encode(),
                    orjson.dumps(entry.command),
                )
            )
            entries.changed(event.key)
            metrics.OVERDUE.labels(entry.bank_id).inc()
            if entry.command.get("type") == CommandType.RETURN_FUNDS:
                metrics.RETURNS_OVERDUE.labels(entry.bank_id).inc()
            log.warning(
                "event=command_overdue command_id=%s bank=%s action=resent",
                entry.command["command_id"],
                entry.bank_id,
            )
            await audit({"kind": "resend", "command_id": entry.command["command_id"]})
        _resend_requested.discard(event.key)
    return before


async def _on_ack(key: bytes, entries: Entries, received: AckReceived) -> Deliveries:
    ack = received.ack
    entry = entries[key]
    outcome = record_ack(entry, ack)
    if outcome.verdict in {"unknown_command", "wrong_bank", "invalid_ack"}:
        code, message = DeadLetterCode.UNKNOWN_COMMAND, outcome.message
        if outcome.verdict == "unknown_command":
            message = f"command_id {ack.command_id} was never issued"
        elif outcome.verdict == "wrong_bank":
            message = f"command_id {ack.command_id} was not issued to bank {ack.bank_id}"
        else:
            code = DeadLetterCode.INVALID_ACK
            message = f"command_id {ack.command_id}: {message}"
        await dead_letter(
            received.source, received.payload, code, message, settings.topics.bank_acks
        )
        return []
    if outcome.verdict == "duplicate" or entry is None:
        return []
    before: Deliveries = []
    owner = None if entry.command.get("type") == CommandType.RELEASE else money_owner(entry.command)
    if owner is not None:
        # To the owner of the money this ack is about (agents/money.py), and on to its
        # cases; on the broker before the ledger records the ack, or a crash in between would
        # leave the cases without it (a replay finds the ack recorded, a duplicate).
        before += await send_money_events([(owner, Acked(ack.command_id, bank_ack(ack)))])
    entries.changed(key)
    bank = entry.bank_id
    metrics.ACKS.labels(bank, ack.status).inc()
    metrics.UNACKNOWLEDGED.labels(bank).dec()
    if outcome.latency_seconds is not None:
        metrics.ACK_LATENCY.labels(bank).observe(outcome.latency_seconds)
    if outcome.held_tenge:
        metrics.HELD_TENGE.labels(bank).inc(outcome.held_tenge)
    if outcome.escaped_tenge:
        metrics.ESCAPED_TENGE.labels(bank).inc(outcome.escaped_tenge)
    if outcome.returned_tenge:
        metrics.RETURNED_TENGE.labels(bank).inc(outcome.returned_tenge)
    if ack.status == AckStatus.FAILED:
        metrics.RETURNS_FAILED.labels(bank).inc()
        log.warning("event=return_failed command_id=%s bank=%s", ack.command_id, bank)
    await audit(
        {
            "kind": "ack",
            "command_id": ack.command_id,
            "bank_id": bank,
            "status": ack.status,
            "amount_held": ack.amount_held,
            **({"amount_returned": ack.amount_returned} if ack.amount_returned else {}),
        }
    )
    return before


@app.timer(interval=max(0.5, min(5.0, settings.policy.ack_sla_seconds / 4)))
async def find_overdue_commands() -> None:
    """Scan this worker's ledger partitions; ask the ledger agent to re-send what is overdue.

    The timer only asks: the decision and the table write happen in the agent,
    in the command's own partition, like every other change of state.
    """
    now = time.time()
    sla = settings.policy.ack_sla_seconds
    for key, raw in list(command_ledger.items()):
        if key in _resend_requested:
            continue
        entry = load_ledger_entry(raw)
        if entry is not None and entry.status == PENDING and entry.overdue(now, sla):
            _resend_requested.add(key)
            await topics.ledger_events.send(key=key, value=dump_ledger_event(ResendDue()))
