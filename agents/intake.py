"""Intake: the contract's input topics -> validated records -> the keyed internal streams.

Bad input is dead-lettered here and never reaches matching. Valid input is re-keyed
by what owns its state: transfers by both identifiers, reports by report id, acks
by command id.
"""

from __future__ import annotations

import time
from typing import Any

from antifraud.core.intake import parse_ack, parse_report, parse_transfer
from antifraud.core.ledger import AckReceived
from antifraud.core.matching import Event, TransferIn, TransferOut
from antifraud.core.records import Transfer
from antifraud.core.serde import dump_ledger_event, dump_report_event
from antifraud.streams import metrics, topics
from antifraud.streams.app import app, settings
from antifraud.streams.emit import guarded, parsed, send_identifier_events, source_of

transfers_in = topics.raw_topic(settings.topics.transfers)
_batch_window = settings.batch_window_ms / 1000
reports_in = topics.raw_topic(settings.topics.reports)
acks_in = topics.raw_topic(settings.topics.bank_acks)


_transfers_accepted = metrics.RECORDS.labels(settings.topics.transfers, "accepted")
_last_transfer_by_bank: dict[str, Any] = {}


def _saw_transfer_from(bank_id: str, now: float) -> None:
    gauge = _last_transfer_by_bank.get(bank_id)
    if gauge is None:
        gauge = _last_transfer_by_bank[bank_id] = metrics.LAST_TRANSFER.labels(bank_id)
    gauge.set(now)


async def _transfers(events: list[Any]) -> None:
    """A batch of transfers: each to its recipient (holds) and from its sender (the money trail)."""
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


async def _report(event: Any) -> None:
    report = parse_report(
        event.value,
        settings.report_keys,
        settings.bank_directory,
        settings.max_record_bytes,
        now=time.time(),
        key_issuers=settings.report_key_issuers,
    )
    # The police system's own record goes along, for the registry's dead letters (a revoke
    # of an unknown report, a reused report id).
    origin = (source_of(event.message), event.value)
    await topics.report_events.send(
        key=report.report_id.encode(), value=dump_report_event(report, origin)
    )
    metrics.RECORDS.labels(settings.topics.reports, "accepted").inc()


async def _ack(event: Any) -> None:
    ack = parse_ack(event.value, settings.max_record_bytes)
    # source and payload kept so the ledger can dead-letter an ack for a command it never issued
    received = AckReceived(ack, source_of(event.message), event.value)
    await topics.ledger_events.send(key=ack.command_id.encode(), value=dump_ledger_event(received))
    metrics.RECORDS.labels(settings.topics.bank_acks, "accepted").inc()


@app.agent(transfers_in)
async def intake_transfers(stream: Any) -> None:
    # Batches: acked only after the whole batch is handled (Faust's take_events).
    async for events in stream.take_events(settings.batch_size, within=_batch_window):
        await _transfers(events)


@app.agent(reports_in)
async def intake_reports(stream: Any) -> None:
    async for event in stream.events():
        await guarded(event, _report)


@app.agent(acks_in)
async def intake_acks(stream: Any) -> None:
    async for event in stream.events():
        await guarded(event, _ack)
