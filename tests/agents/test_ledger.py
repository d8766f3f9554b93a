"""The command ledger agent: issued commands, bank acks and re-sends, one command id each."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from types import SimpleNamespace
from typing import Any
from unittest.mock import AsyncMock, patch

import orjson

from antifraud.agents import ledger
from antifraud.core.held_money import MoneyEvent
from antifraud.core.ledger import AckReceived, CommandIssued, LedgerEvent, ResendDue
from antifraud.core.records import Ack
from antifraud.core.serde import dump_ledger_event, load_ledger_entry
from antifraud.streams import metrics
from tests.agents.in_memory import under_test

SOURCE = {"topic": "antifraud.bank-acks", "partition": 0, "offset": 9, "key": None}


def hold(command_id: str, bank_id: str = "HSBKKZKX") -> dict[str, Any]:
    return {"command_id": command_id, "type": "hold_transfer", "bank_id": bank_id, "amount": 50_000}


def ack(command_id: str, status: str = "applied", bank_id: str = "HSBKKZKX") -> AckReceived:
    raw = b'{"an": "ack"}'
    return AckReceived(Ack(command_id, bank_id, status, 0, time.time()), SOURCE, raw)


class Calls:
    """What the ledger agent did besides its table: audits, dead letters, re-sends."""

    def __init__(self) -> None:
        self.audit = AsyncMock()
        self.dead_letter = AsyncMock()
        self.resent: list[tuple[bytes, bytes]] = []
        self.money: list[tuple[str, MoneyEvent]] = []  # acks told to the owners of money

    async def send_money_events(self, items: Iterable[tuple[str, MoneyEvent]]) -> list[Any]:
        self.money.extend(items)
        return []

    async def command_topic_for(self, bank_id: str) -> Any:
        async def send(key: bytes, value: bytes, partition: int | None = None) -> Any:
            self.resent.append((key, value))
            done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            done.set_result(None)
            return done

        return SimpleNamespace(send=send)


def ledger_run(*events: tuple[str, LedgerEvent]) -> Calls:
    """Put `(command id, event)` pairs through the ledger agent."""
    calls = Calls()

    async def scenario() -> None:
        with (
            patch.object(ledger, "audit", calls.audit),
            patch.object(ledger, "dead_letter", calls.dead_letter),
            patch.object(ledger, "command_topic_for", calls.command_topic_for),
            patch.object(ledger, "send_money_events", calls.send_money_events),
        ):
            async with under_test(ledger.ledger) as agent:
                for command_id, event in events:
                    await agent.put(dump_ledger_event(event), key=command_id.encode())

    asyncio.run(scenario())
    return calls


def held_tenge(bank_id: str) -> float:
    value = metrics.REGISTRY.get_sample_value(
        "antifraud_held_amount_tenge_total", {"bank_id": bank_id}
    )
    return value or 0.0


def entry(command_id: str) -> Any:
    return load_ledger_entry(ledger.command_ledger[command_id.encode()])


def test_an_ack_settles_its_command_and_moves_the_figures_once() -> None:
    before = held_tenge("HSBKKZKX")
    calls = ledger_run(
        ("c-agent-1", CommandIssued(hold("c-agent-1"), time.time())),
        ("c-agent-1", ack("c-agent-1")),
        ("c-agent-1", ack("c-agent-1", "too_late")),  # a second ack changes nothing
    )
    assert entry("c-agent-1").status == "applied"
    assert held_tenge("HSBKKZKX") - before == 500.0  # 50,000 minor units
    assert [c.args[0]["kind"] for c in calls.audit.await_args_list] == ["ack"]
    calls.dead_letter.assert_not_awaited()


def test_an_ack_for_a_command_never_issued_or_from_another_bank_is_dead_lettered() -> None:
    calls = ledger_run(
        ("c-agent-2", ack("c-agent-2")),
        ("c-agent-3", CommandIssued(hold("c-agent-3"), time.time())),
        ("c-agent-3", ack("c-agent-3", bank_id="CASPKZKA")),
    )
    dead = [c.args for c in calls.dead_letter.await_args_list]
    assert [(source, payload, code) for source, payload, code, *_ in dead] == [
        (SOURCE, b'{"an": "ack"}', "unknown_command"),
        (SOURCE, b'{"an": "ack"}', "unknown_command"),
    ]
    assert "was not issued to bank CASPKZKA" in dead[1][3]
    assert entry("c-agent-3").status == "pending"
    assert b"c-agent-2" not in ledger.command_ledger


def test_an_overdue_command_is_resent_once_with_its_own_id() -> None:
    command = hold("c-agent-4")
    long_ago = time.time() - 10 * ledger.settings.policy.ack_sla_seconds
    calls = ledger_run(
        ("c-agent-4", CommandIssued(command, long_ago)),
        ("c-agent-4", ResendDue()),
        ("c-agent-4", ResendDue()),  # asked twice: sent once
    )
    assert calls.resent == [(b"HSBKKZKX", orjson.dumps(command))]
    assert entry("c-agent-4").resent is True
    assert [c.args[0] for c in calls.audit.await_args_list] == [
        {"kind": "resend", "command_id": "c-agent-4"}
    ]


def test_a_command_within_its_sla_is_not_resent() -> None:
    calls = ledger_run(
        ("c-agent-5", CommandIssued(hold("c-agent-5"), time.time())),
        ("c-agent-5", ResendDue()),
    )
    assert calls.resent == []
    assert entry("c-agent-5").resent is False


def test_an_ack_that_contradicts_its_command_is_dead_lettered_invalid_ack() -> None:
    before = held_tenge("HSBKKZKX")
    release = {
        "command_id": "c-agent-7",
        "type": "release",
        "bank_id": "HSBKKZKX",
        "releases": "c-agent-6",
    }
    inflated = AckReceived(
        Ack("c-agent-6", "HSBKKZKX", "applied", 10**15, time.time()), SOURCE, b""
    )
    on_release = AckReceived(Ack("c-agent-7", "HSBKKZKX", "applied", 1, time.time()), SOURCE, b"")
    calls = ledger_run(
        ("c-agent-6", CommandIssued(hold("c-agent-6"), time.time())),
        ("c-agent-6", inflated),
        ("c-agent-7", CommandIssued(release, time.time())),
        ("c-agent-7", on_release),
        ("c-agent-7", ack("c-agent-7")),  # its proper ack: recorded, counts no money
    )
    dead = [c.args for c in calls.dead_letter.await_args_list]
    assert [code for _source, _payload, code, *_ in dead] == ["invalid_ack", "invalid_ack"]
    assert "above the command's amount 50000" in dead[0][3] and "on a release" in dead[1][3]
    assert entry("c-agent-6").status == "pending"
    assert entry("c-agent-7").status == "applied"
    assert held_tenge("HSBKKZKX") == before  # neither the inflated ack nor the release's
