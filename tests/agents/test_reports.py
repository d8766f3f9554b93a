"""The report registry agent: decode, decide once per report id, send, record, audit."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any
from unittest.mock import AsyncMock, patch

from antifraud.agents import reports
from antifraud.core.identifiers import Identifier
from antifraud.core.matching import Event, Revoke, Watch
from antifraud.core.records import Report, ReportedAccount
from antifraud.core.serde import dump_report_event, load_report_entry
from tests.agents.in_memory import under_test

PHONE = Identifier("phone", "+77011234567")
IBAN = Identifier("iban", "KZ86125KZT5004100100")


def report(report_id: str, action: str = "report") -> Report:
    accounts = (ReportedAccount(PHONE, None), ReportedAccount(IBAN, "HSBKKZKX"))
    return Report(report_id, action, "bank_impersonation", 1_795_942_800.0, "DEP", "C-7", accounts)


def registry_run(*records: Report) -> tuple[list[list[tuple[str, Event]]], list[dict[str, Any]]]:
    """Put `records` through the registry agent: the events it sent, and its audit entries."""
    sent: list[list[tuple[str, Event]]] = []

    async def send_identifier_events(items: list[tuple[str, Event]]) -> list[Any]:
        sent.append(items)
        return []

    async def scenario() -> list[dict[str, Any]]:
        with (
            patch.object(reports, "send_identifier_events", send_identifier_events),
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
