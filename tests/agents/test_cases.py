"""The cases under Faust's test_context(), no broker: the registry's orders and who may give
them, the ledger telling acks to the owners of money, the money's gate, and a case's status."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from dataclasses import replace
from itertools import pairwise
from typing import Any
from unittest.mock import AsyncMock, patch

from antifraud.agents import cases, ledger, money
from antifraud.core.case_file import (
    CaseEvent,
    ExtendOrdered,
    MoneyChanged,
    Opened,
    ReturnOrdered,
    Tick,
)
from antifraud.core.case_links import CaseLink
from antifraud.core.case_serde import (
    dump_case_event,
    dump_money_event,
    load_case,
    load_case_event,
    load_money,
)
from antifraud.core.cases import BankAck, Sanction, Victim
from antifraud.core.held_money import Acked, Derive, HeldMoney, Linked, MoneyEvent, apply_money
from antifraud.core.ledger import AckReceived, CommandIssued
from antifraud.core.matching import Watch
from antifraud.core.records import Ack
from antifraud.core.serde import dump_ledger_event, dump_report_event
from antifraud.core.timestamps import format_rfc3339
from tests.agents import test_reports
from tests.agents.in_memory import under_test
from tests.agents.test_reports import CASE_EVENTS, PHONE, registry_run, rejected_run, report

SANCTION = Sanction("Almaty city prosecutor", "SK-2026-7781", "2026-12-03T10:00:00+05:00")
VICTIM = Victim(PHONE, "CASPKZKA", 30_000_000)
UNTIL = time.time() + 30 * 86400
SOURCE = {"topic": "antifraud.reports", "partition": 1, "offset": 7, "key": "R-case-2"}


def case_events_of(report_id: str) -> list[CaseEvent]:
    return [event for rid, event in CASE_EVENTS if rid == report_id]


def test_a_report_opens_its_case_and_weighs_its_accounts_by_what_its_victims_lost() -> None:
    filed = replace(report("R-case-1"), victims=(VICTIM, replace(VICTIM, amount_lost=5)))
    sent, _ = registry_run(filed)
    assert {w.lost for _, w in sent[0] if isinstance(w, Watch)} == {30_000_005}
    assert case_events_of("R-case-1") == [Opened(filed.reported_at, filed.victims)]


def test_the_filing_unit_extends_and_returns_and_anyone_else_is_forbidden() -> None:
    extend = replace(report("R-case-2", "extend"), sanction=SANCTION, until=UNTIL, accounts=())
    ret = replace(report("R-case-2", "return"), sanction=SANCTION, accounts=())
    _, audits = registry_run(report("R-case-2"), extend, ret, ret)
    assert [a["verdict"] for a in audits] == ["accepted", "extend", "return", "return"]
    assert case_events_of("R-case-2")[1:] == [
        ExtendOrdered(SANCTION, UNTIL),
        ReturnOrdered(SANCTION),
        ReturnOrdered(SANCTION),  # the case finds nothing new the second time
    ]
    original = b'{"report_id": "R-case-2", "action": "revoke", "issuer": "OTHER-UNIT"}'
    foreign = [
        dump_report_event(replace(r, issuer="OTHER-UNIT"), (SOURCE, original))
        for r in (report("R-case-2", "revoke"), extend, ret)
    ]
    before = len(CASE_EVENTS)
    letters = rejected_run(*((b"R-case-2", raw) for raw in foreign))
    assert [(letter[0], letter[1], letter[2]) for letter in letters] == [
        (SOURCE, original, "forbidden")
    ] * 3
    assert "may not revoke report_id R-case-2" in letters[0][3]
    assert len(CASE_EVENTS) == before  # nothing reached the case


def test_an_extension_or_return_of_a_report_never_seen_is_unknown_report() -> None:
    ret = replace(report("R-case-3", "return"), sanction=SANCTION, accounts=())
    letters = rejected_run((b"R-case-3", dump_report_event(ret, (SOURCE, b"{}"))))
    assert [letter[2] for letter in letters] == ["unknown_report"]
    assert test_reports.reports.report_registry.get(b"R-case-3") is None


def ledger_money(*events: tuple[str, Any]) -> list[tuple[str, MoneyEvent]]:
    told: list[tuple[str, MoneyEvent]] = []

    async def send_money_events(items: Iterable[tuple[str, MoneyEvent]]) -> list[Any]:
        told.extend(items)
        return []

    async def scenario() -> None:
        with (
            patch.object(ledger, "audit", AsyncMock()),
            patch.object(ledger, "dead_letter", AsyncMock()),
            patch.object(ledger, "send_money_events", send_money_events),
        ):
            async with under_test(ledger.ledger) as agent:
                for command_id, event in events:
                    await agent.put(dump_ledger_event(event), key=command_id.encode())

    asyncio.run(scenario())
    return told


def test_the_ledger_tells_each_ack_to_the_owner_of_the_money_it_is_about() -> None:
    hold = {"command_id": "h-case-1", "type": "hold_transfer", "bank_id": "HSBKKZKX", "amount": 9}
    give_back = {
        "command_id": "r-case-1",
        "type": "return_funds",
        "bank_id": "HSBKKZKX",
        "returns": "h-case-1",
        "amount": 9,
    }
    release = {"command_id": "x-case-1", "type": "release", "bank_id": "HSBKKZKX"}
    now = time.time()

    def acked(command_id: str, status: str, returned: int | None = None) -> AckReceived:
        return AckReceived(Ack(command_id, "HSBKKZKX", status, 0, now, returned), {}, b"")

    told = ledger_money(
        ("h-case-1", CommandIssued(hold, now)),
        ("h-case-1", acked("h-case-1", "applied")),
        ("r-case-1", CommandIssued(give_back, now)),
        ("r-case-1", acked("r-case-1", "returned", 9)),
        ("x-case-1", CommandIssued(release, now)),
        ("x-case-1", acked("x-case-1", "applied")),
    )
    assert told == [
        ("h-case-1", Acked("h-case-1", BankAck("applied", None))),  # 0: not said
        ("h-case-1", Acked("r-case-1", BankAck("returned", None, 9))),
    ]


def freeze_link(command_id: str, report_id: str) -> CaseLink:
    command = {
        "command_id": command_id,
        "type": "freeze_account",
        "bank_id": "HSBKKZKX",
        "account": PHONE.as_json(),
        "report_ids": [report_id],
        "hop": 0,
        "expires_at": format_rfc3339(time.time() + 5 * 86400),
    }
    return CaseLink(command_id, (report_id,), {report_id: 0}, command)


def return_of(command_id: str, report_id: str, amount: int) -> dict[str, Any]:
    return {
        "command_id": f"ret-{command_id}-{amount}",
        "type": "return_funds",
        "bank_id": "HSBKKZKX",
        "account": PHONE.as_json(),
        "returns": command_id,
        "amount": amount,
        "currency": "KZT",
        "beneficiary": {"account": PHONE.as_json(), "bank_id": "CASPKZKA"},
        "report_ids": [report_id],
    }


def money_run(*events: tuple[str, MoneyEvent]) -> tuple[list[dict[str, Any]], list[Any]]:
    issued: list[dict[str, Any]] = []
    views: list[tuple[str, CaseEvent]] = []

    async def issue_command(command: dict[str, Any], now: float) -> list[Any]:
        issued.append(command)
        return []

    async def send_case_events(items: Iterable[tuple[str, CaseEvent]]) -> list[Any]:
        # As sent: the agent goes on changing the state a view was made of.
        views.extend((rid, load_case_event(dump_case_event(view))) for rid, view in items)
        return []

    async def scenario() -> None:
        with (
            patch.object(money, "issue_command", issue_command),
            patch.object(money, "send_case_events", send_case_events),
            patch.object(money, "audit", AsyncMock()),
        ):
            async with under_test(money.money) as agent:
                for command_id, event in events:
                    await agent.put(dump_money_event(event), key=command_id.encode())

    asyncio.run(scenario())
    return issued, views


def test_the_owner_of_the_money_issues_only_what_was_held_and_tells_every_case() -> None:
    link = freeze_link("f-case-1", "R-case-4")
    issued, views = money_run(
        ("f-case-1", Linked(link)),
        ("f-case-1", Derive(return_of("f-case-1", "R-case-4", 5))),  # nothing held yet
        ("f-case-1", Acked("f-case-1", BankAck("applied", 700))),
        ("f-case-1", Linked(CaseLink("f-case-1", ("R-case-5",), {"R-case-5": 1}))),
        ("f-case-1", Derive(return_of("f-case-1", "R-case-4", 500))),
        ("f-case-1", Derive(return_of("f-case-1", "R-case-5", 201))),  # 500 + 201 > 700
        ("f-case-1", Derive(return_of("f-case-1", "R-case-5", 200))),
    )
    assert [c["amount"] for c in issued] == [500, 200]
    versions = [(rid, e.money.version) for rid, e in views if isinstance(e, MoneyChanged)]
    assert versions[:2] == [("R-case-4", 1), ("R-case-4", 2)]
    assert ("R-case-5", 3) in versions and ("R-case-4", 3) in versions
    kept = load_money(money.held_money[b"f-case-1"])
    assert [r.amount for r in kept.returns] == [500, 200] and kept.version == 5


def case_run(*events: tuple[str, CaseEvent]) -> tuple[list[Any], list[dict[str, Any]]]:
    derived: list[tuple[str, MoneyEvent]] = []
    statuses: list[dict[str, Any]] = []

    async def send_money_events(items: Iterable[tuple[str, MoneyEvent]]) -> list[Any]:
        derived.extend(items)
        return []

    async def write_case_status(report_id: str, status: dict[str, Any]) -> Any:
        statuses.append(status)
        done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done

    async def scenario() -> None:
        with (
            patch.object(cases, "send_money_events", send_money_events),
            patch.object(cases, "write_case_status", write_case_status),
        ):
            async with under_test(cases.case_files) as agent:
                for report_id, event in events:
                    await agent.put(dump_case_event(event), key=report_id.encode())

    asyncio.run(scenario())
    return derived, statuses


def test_a_case_writes_its_status_when_it_changes_and_asks_for_its_returns() -> None:
    held = HeldMoney()
    link = freeze_link("f-case-2", "R-case-6")
    apply_money(held, "f-case-2", Linked(link))
    apply_money(held, "f-case-2", Acked("f-case-2", BankAck("applied", 700)))
    derived, statuses = case_run(
        ("R-case-6", Opened(time.time(), (VICTIM,))),
        ("R-case-6", MoneyChanged("f-case-2", held)),
        ("R-case-6", MoneyChanged("f-case-2", held)),  # the same view again: nothing new
        ("R-case-6", ReturnOrdered(SANCTION)),
    )
    # Written when it changed, at most once per batch the agent took (the latest status).
    said = [s["status"] for s in statuses]
    assert 1 <= len(said) <= 3 and said[-1] == "holding", said
    assert all(
        {**a, "updated_at": None} != {**b, "updated_at": None} for a, b in pairwise(statuses)
    )
    assert statuses[-1]["return_verdict"] == "issued"
    assert statuses[-1]["totals"]["amount_held"] == 700
    (target, derive), *_ = derived
    assert target == "f-case-2" and isinstance(derive, Derive)
    assert derive.command["amount"] == 700 and derive.command["sanction"] == SANCTION.as_json()
    kept = load_case(cases.cases[b"R-case-6"], "R-case-6")
    assert kept.victims == [VICTIM] and kept.status is not None


def test_the_timer_asks_again_only_for_cases_whose_lifetime_ended() -> None:
    """The timer reads the schedule the agent keeps, not every case: a case is due once its
    freeze's lifetime ends, and the table is read whole only when the partitions change."""
    held = HeldMoney()
    apply_money(held, "f-case-3", Linked(freeze_link("f-case-3", "R-case-7")))
    apply_money(held, "f-case-3", Acked("f-case-3", BankAck("applied", 700)))
    case_run(
        ("R-case-7", Opened(time.time(), (VICTIM,))), ("R-case-7", MoneyChanged("f-case-3", held))
    )
    lifetime_end = time.time() + 5 * 86400  # freeze_link's
    ticks: list[tuple[str, CaseEvent]] = []  # R-case-7's (other tests' cases share the table)

    async def send_case_events(items: Iterable[tuple[str, CaseEvent]]) -> list[Any]:
        ticks.extend((rid, event) for rid, event in items if rid == "R-case-7")
        return []

    async def scan(partitions: frozenset[int], now: float) -> None:
        with patch.object(cases, "send_case_events", send_case_events):
            await cases.scan_cases_once(partitions, now)

    def holding() -> float:
        return float(cases.metrics.CASES.labels("holding")._value.get())

    cases._scheduled_partitions = frozenset({0})  # as the agent left it: no full pass
    asyncio.run(scan(frozenset({0}), time.time()))
    assert ticks == [] and holding() >= 1
    asyncio.run(scan(frozenset({0}), lifetime_end + 1))
    assert [rid for rid, _ in ticks] == ["R-case-7"]
    assert isinstance(ticks[0][1], Tick)
    asyncio.run(scan(frozenset({0}), lifetime_end + 2))
    assert len(ticks) == 1, "asked once, until the agent has handled it"
    # Partitions changed (a rebalance): the table read whole, and the case is due again.
    cases._schedule.clear()
    asyncio.run(scan(frozenset({0, 1}), lifetime_end + 3))
    assert [rid for rid, _ in ticks] == ["R-case-7", "R-case-7"]
    asyncio.run(scan(frozenset({0, 1}), time.time()))
    assert len(ticks) == 2, "before its lifetime ends, the rebuilt schedule asks nothing"
