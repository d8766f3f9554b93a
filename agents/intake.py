"""Intake: the contract's input topics -> validated records -> the keyed internal streams.

Bad input is dead-lettered here and never reaches matching. Valid input is re-keyed
by what owns its state: transfers by both identifiers, reports by report id, acks
by command id.
"""

from __future__ import annotations

import time
from typing import Any

from antifraud.core.dead_letters import Payload
from antifraud.core.intake import parse_ack, parse_report, parse_transfer
from antifraud.core.ledger import AckReceived
from antifraud.core.matching import Event, TransferIn, TransferOut
from antifraud.core.records import Ack, Report, Transfer
from antifraud.core.serde import dump_ledger_event, dump_report_event
from antifraud.streams import metrics, topics
from antifraud.streams.app import app, settings
from antifraud.streams.emit import parsed, send_identifier_events, source_of, write
from antifraud.streams.handling import handle_batches

transfers_in = topics.raw_topic(settings.topics.transfers)
_batch_window = settings.batch_window_ms / 1000
reports_in = topics.raw_topic(settings.topics.reports)
acks_in = topics.raw_topic(settings.topics.bank_acks)


_transfers_accepted = metrics.RECORDS.labels(settings.topics.transfers, "accepted")
_reports_accepted = metrics.RECORDS.labels(settings.topics.reports, "accepted")
_acks_accepted = metrics.RECORDS.labels(settings.topics.bank_acks, "accepted")
_last_transfer_by_bank: dict[str, Any] = {}


def _saw_transfer_from(bank_id: str, now: float) -> None:
    gauge = _last_transfer_by_bank.get(bank_id)
    if gauge is None:
        gauge = _last_transfer_by_bank[bank_id] = metrics.LAST_TRANSFER.labels(bank_id)
    gauge.set(now)


async def _transfers(events: list[Any]) -> None:
    """A batch of transfers: each to its recipient (holds) and from its sender (the money trail).

    Done once its bundles and dead letters are written (streams/emit.py, `guarded_batch`).
    """
    identifier_events: list[tuple[str, Event]] = []
    now = time.time()
    for event in events:
        transfer = await parsed(event, lambda e: _parse_transfer(e, now))
        if transfer is None:
            continue  # dead-lettered
        identifier_events.append((transfer.recipient.key, TransferIn(transfer)))
        identifier_events.append((transfer.sender.key, TransferOut(transfer)))
        _transfers_accepted.inc()
        _saw_transfer_from(transfer.bank_id, now)
    await send_identifier_events(identifier_events)


def _parse_transfer(event: Any, now: float) -> Transfer:
    return parse_transfer(event.value, settings.max_record_bytes, now=now)


async def _reports(events: list[Any]) -> None:
    """A batch of police records, each to the registry (keyed by report id) or dead-lettered."""
    now = time.time()
    for event in events:
        report = await parsed(event, lambda e: _parse_report(e, now))
        if report is None:
            continue  # dead-lettered
        # The police system's own record goes along, for the registry's dead letters (a
        # revoke of an unknown report, a reused report id).
        origin = (source_of(event.message), event.value)
        await write(
            topics.report_events, report.report_id.encode(), dump_report_event(report, origin)
        )
        _reports_accepted.inc()


def _parse_report(event: Any, now: float) -> Report:
    return parse_report(
        event.value,
        settings.report_keys,
        settings.bank_directory,
        settings.max_record_bytes,
        now=now,
        key_issuers=settings.report_key_issuers,
    )


async def _acks(events: list[Any]) -> None:
    """A batch of bank acks, each to the ledger (keyed by command id) or dead-lettered."""
    for event in events:
        ack = await parsed(event, _parse_ack)
        if ack is None:
            continue  # dead-lettered
        # Source and payload kept so the ledger can dead-letter an ack for a command it never
        # issued; beyond 64 KiB only what that dead letter would hold, so the event always fits.
        received = AckReceived(ack, source_of(event.message), Payload.carried(event.value))
        await write(topics.ledger_events, ack.command_id.encode(), dump_ledger_event(received))
        _acks_accepted.inc()


def _parse_ack(event: Any) -> Ack:
    return parse_ack(event.value, settings.max_record_bytes)


# Each agent takes its records in batches: a batch is done once everything it wrote is on
# the broker (one wait for the whole batch), and only then are its records acked
# (streams/handling.py).


@app.agent(transfers_in)
async def intake_transfers(stream: Any) -> None:
    await handle_batches(stream, settings.batch_size, _batch_window, _transfers)


@app.agent(reports_in)
async def intake_reports(stream: Any) -> None:
    await handle_batches(stream, settings.batch_size, _batch_window, _reports)


@app.agent(acks_in)
async def intake_acks(stream: Any) -> None:
    await handle_batches(stream, settings.batch_size, _batch_window, _acks)
