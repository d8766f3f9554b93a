"""The report registry agent: decode, decide once per report id, send, record, audit."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import replace
from typing import Any
from unittest.mock import AsyncMock, patch

from antifraud.agents import reports
from antifraud.core.case_file import CaseEvent
from antifraud.core.identifiers import Identifier
from antifraud.core.matching import Event, Revoke, Watch
from antifraud.core.records import Report, ReportedAccount
from antifraud.core.serde import dump_report_event, load_report_entry
from tests.agents.in_memory import under_test

TOPIC = "antifraud.reports"
PHONE = Identifier("phone", "+77011234567")
IBAN = Identifier("iban", "KZ86125KZT5004100100")


def report(report_id: str, action: str = "report") -> Report:
    accounts = (ReportedAccount(PHONE, None), ReportedAccount(IBAN, "HSBKKZKX"))
    return Report(report_id, action, "bank_impersonation", 1_795_942_800.0, "DEP", "C-7", accounts)


# What the registry sent the cases, (report id, event), in the order sent (whole session).
CASE_EVENTS: list[tuple[str, CaseEvent]] = []


async def send_case_events(items: Iterable[tuple[str, CaseEvent]]) -> list[Any]:
    CASE_EVENTS.extend(items)
    return []


def registry_run(*records: Report) -> tuple[list[list[tuple[str, Event]]], list[dict[str, Any]]]:
    """Put `records` through the registry agent: the events it sent, and its audit entries."""
    sent: list[list[tuple[str, Event]]] = []

    async def send_identifier_events(items: list[tuple[str, Event]]) -> list[Any]:
        sent.append(items)
        return []

    async def scenario() -> list[dict[str, Any]]:
        with (
            patch.object(reports, "send_identifier_events", send_identifier_events),
            patch.object(reports, "send_case_events", send_case_events),
            patch.object(reports, "audit", AsyncMock()) as audit,
        ):
            async with under_test(reports.registry) as agent:
                for record in records:
                    await agent.put(dump_report_event(record), key=record.report_id.encode())
        return [call.args[0] for call in audit.await_args_list]

    audits = asyncio.run(scenario())
    return sent, audits


def test_a_report_watches_its_accounts_once_and_is_recorded() -> None:
    sent, audits = registry_run(report("R-agent-1"), report("R-agent-1"))
    watch = Watch("R-agent-1", "bank_impersonation", 1_795_942_800.0, hop=0)
    assert sent == [
        [(PHONE.key, watch), (IBAN.key, replace(watch, bank_id="HSBKKZKX"))],
        [],  # the replay sends nothing
    ]
    assert [a["verdict"] for a in audits] == ["accepted", "duplicate"]
    assert audits[0] == {
        "kind": "report",
        "report_id": "R-agent-1",
        "action": "report",
        "verdict": "accepted",
        "issuer": "DEP",
        "case_number": "C-7",
        "accounts": 2,
    }
    entry = load_report_entry(reports.report_registry[b"R-agent-1"])
    assert entry is not None and entry.status == "live"
    assert entry.accounts == [[PHONE.key, None], [IBAN.key, "HSBKKZKX"]]


def test_a_revocation_revokes_every_account_once() -> None:
    sent, audits = registry_run(
        report("R-agent-2"), report("R-agent-2", "revoke"), report("R-agent-2", "revoke")
    )
    assert sent[1:] == [[(PHONE.key, Revoke("R-agent-2")), (IBAN.key, Revoke("R-agent-2"))], []]
    assert [a["verdict"] for a in audits] == ["accepted", "revoked", "revoke_repeat"]
    entry = load_report_entry(reports.report_registry[b"R-agent-2"])
    assert entry is not None and entry.status == "revoked"


def test_a_record_that_is_not_a_report_event_is_dead_lettered_not_lost() -> None:
    async def scenario() -> list[Any]:
        with patch("antifraud.streams.emit.dead_letter", AsyncMock()) as dead_letter:
            async with under_test(reports.registry) as agent:
                await agent.put(b"not json", key=b"R-agent-3")
        return list(dead_letter.await_args.args)

    _source, payload, code, _message, _topic = asyncio.run(scenario())
    assert (payload, code) == (b"not json", "internal_error")
    assert b"R-agent-3" not in reports.report_registry


def rejected_run(*events: tuple[bytes, bytes]) -> list[list[Any]]:
    """Put raw report events through the registry: the dead letters it wrote."""

    async def scenario() -> list[list[Any]]:
        with (
            patch.object(reports, "dead_letter", AsyncMock()) as dead_letter,
            patch.object(reports, "send_identifier_events", AsyncMock(return_value=[])),
            patch.object(reports, "send_case_events", send_case_events),
            patch.object(reports, "audit", AsyncMock()),
        ):
            async with under_test(reports.registry) as agent:
                for key, value in events:
                    await agent.put(value, key=key)
        return [list(call.args) for call in dead_letter.await_args_list]

    return asyncio.run(scenario())


SOURCE = {"topic": "antifraud.reports", "partition": 2, "offset": 41, "key": "R-agent-4"}


def test_a_revoke_of_a_report_never_seen_is_dead_lettered_and_remembered_nowhere() -> None:
    original = b'{"report_id": "R-agent-4", "action": "revoke", "x": "as the police sent it"}'
    revoke = dump_report_event(report("R-agent-4", "revoke"), (SOURCE, original))
    letters = rejected_run((b"R-agent-4", revoke))
    assert letters == [
        [SOURCE, original, "unknown_report", "report_id R-agent-4 was never reported", TOPIC]
    ]
    assert b"R-agent-4" not in reports.report_registry
    # ...so the real report, arriving later, is acted on.
    sent, audits = registry_run(report("R-agent-4"))
    assert [a["verdict"] for a in audits] == ["accepted"] and len(sent[0]) == 2


def test_a_reused_report_id_with_other_accounts_is_dead_lettered() -> None:
    first = dump_report_event(report("R-agent-5"))
    other = replace(report("R-agent-5"), accounts=(ReportedAccount(PHONE, None),))
    original = b'{"report_id": "R-agent-5", "accounts": ["other"]}'
    source = {**SOURCE, "key": "R-agent-5", "offset": 42}
    letters = rejected_run(
        (b"R-agent-5", first), (b"R-agent-5", dump_report_event(other, (source, original)))
    )
    assert [(letter[0], letter[1], letter[2]) for letter in letters] == [
        (source, original, "duplicate_report")
    ]
    entry = load_report_entry(reports.report_registry[b"R-agent-5"])
    assert entry is not None and entry.accounts == [[PHONE.key, None], [IBAN.key, "HSBKKZKX"]]


def test_an_event_written_without_its_record_is_dead_lettered_as_it_is() -> None:
    # Queued by a worker from before the report events carried their record.
    event = dump_report_event(report("R-agent-6", "revoke"))
    letters = rejected_run((b"R-agent-6", event))
    assert len(letters) == 1
    source, payload, code = letters[0][:3]
    assert (payload, code, source["key"]) == (event, "unknown_report", "R-agent-6")
