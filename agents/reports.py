"""The report registry: one entry per report id, so replays and revocations act exactly once."""

from __future__ import annotations

import logging
from typing import Any

from antifraud.core.reports import REJECTED_VERDICTS, decide
from antifraud.core.serde import (
    dump_report_entry,
    load_report_entry,
    load_report_event,
    load_report_origin,
)
from antifraud.streams import topics
from antifraud.streams.app import app, settings
from antifraud.streams.case_sends import send_case_events
from antifraud.streams.emit import (
    audit,
    dead_letter,
    delivered,
    send_identifier_events,
    source_of,
)
from antifraud.streams.handling import handle_each

log = logging.getLogger("antifraud")

report_registry = topics.bytes_table(
    "report-registry",
    "Per report id: live or revoked, and the accounts it named.",
)


@app.agent(topics.report_events)
async def registry(stream: Any) -> None:
    await handle_each(stream, _register)


async def _register(event: Any) -> None:
    report = load_report_event(event.value)
    existing = load_report_entry(report_registry.get(event.key))
    decision = decide(existing, report, settings.supervisory_issuers)
    if decision.verdict in REJECTED_VERDICTS:
        await _reject(event, decision.verdict, decision.message)
        return
    # The watches, revocations and case events reach the broker before the registry records
    # the report as handled, or a crash in between would make the replay look like a duplicate.
    deliveries = await send_identifier_events(list(decision.events))
    deliveries += await send_case_events((report.report_id, e) for e in decision.case_events)
    await delivered(deliveries)
    if decision.entry is not None:
        report_registry[event.key] = dump_report_entry(decision.entry)
    log.info(
        "event=report report_id=%s action=%s verdict=%s accounts=%d partition=%s offset=%s",
        report.report_id,
        report.action,
        decision.verdict,
        len(report.accounts),
        event.message.partition,
        event.message.offset,
    )
    await audit(
        {
            "kind": "report",
            "report_id": report.report_id,
            "action": report.action,
            "verdict": decision.verdict,
            "issuer": report.issuer,
            "case_number": report.case_number,
            "accounts": len(report.accounts),
            **({"sanction": report.sanction.as_json()} if report.sanction else {}),
        }
    )


async def _reject(event: Any, code: str, message: str) -> None:
    """Dead-letter the police system's own record; the registry keeps nothing of it."""
    origin = load_report_origin(event.value)
    if origin is None:  # an event queued by an earlier version, which did not carry it
        origin = source_of(event.message), event.value
    source, raw = origin
    await dead_letter(source, raw, code, message, settings.topics.reports)
