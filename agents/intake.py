"""Intake: the contract's input topics -> validated records -> the keyed internal streams.

Bad input is dead-lettered here and never reaches matching. Valid input is re-keyed
by what owns its state: transfers by both identifiers, reports by report id, acks
by command id.
"""

from __future__ import annotations

import time
from typing import Any

import orjson

from core.intake import parse_ack, parse_report, parse_transfer
from core.matching import TransferIn, TransferOut
from core.serde import dump_event
from streams import metrics, topics
from streams.app import app, settings
from streams.emit import guarded, payload_text, source_of

transfers_in = topics.raw_topic(settings.topics.transfers)
reports_in = topics.raw_topic(settings.topics.reports)
acks_in = topics.raw_topic(settings.topics.bank_acks)


async def _transfer(event: Any) -> None:
    transfer = parse_transfer(event.value, settings.max_record_bytes)
    await topics.identifier_events.send(
        key=transfer.recipient.key.encode(), value=dump_event(TransferIn(transfer))
    )
    await topics.identifier_events.send(
        key=transfer.sender.key.encode(), value=dump_event(TransferOut(transfer))
    )
    metrics.RECORDS.labels(settings.topics.transfers, "accepted").inc()
    metrics.LAST_TRANSFER.labels(transfer.bank_id).set(time.time())


async def _report(event: Any) -> None:
    report = parse_report(
        event.value, settings.report_keys, settings.bank_directory, settings.max_record_bytes
    )
    body = {
        "report_id": report.report_id,
        "action": report.action,
        "fraud_type": report.fraud_type,
        "reported_at": report.reported_at,
        "issuer": report.issuer,
        "case_number": report.case_number,
        "accounts": [[a.identifier.key, a.bank_id] for a in report.accounts],
    }
    await topics.report_events.send(key=report.report_id.encode(), value=orjson.dumps(body))
    metrics.RECORDS.labels(settings.topics.reports, "accepted").inc()


async def _ack(event: Any) -> None:
    ack = parse_ack(event.value, settings.max_record_bytes)
    payload, encoding = payload_text(event.value)
    body = {
        "e": "ack",
        "ack": {
            "command_id": ack.command_id,
            "bank_id": ack.bank_id,
            "status": ack.status,
            "amount_held": ack.amount_held,
            "at": ack.at,
        },
        # kept so the ledger can dead-letter an ack for a command it never issued
        "src": source_of(event.message),
        "payload": payload,
        "payload_encoding": encoding,
    }
    await topics.ledger_events.send(key=ack.command_id.encode(), value=orjson.dumps(body))
    metrics.RECORDS.labels(settings.topics.bank_acks, "accepted").inc()


@app.agent(transfers_in)
async def intake_transfers(stream: Any) -> None:
    async for event in stream.events():
        await guarded(event, _transfer)


@app.agent(reports_in)
async def intake_reports(stream: Any) -> None:
    async for event in stream.events():
        await guarded(event, _report)


@app.agent(acks_in)
async def intake_acks(stream: Any) -> None:
    async for event in stream.events():
        await guarded(event, _ack)
