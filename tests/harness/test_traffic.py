"""The traffic engine behind `demo` and `simulate`: paced transfers, whole fraud cases, acks."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from antifraud.core.signatures import verify_report
from antifraud.harness import simulation
from antifraud.harness.simulation import Simulator
from antifraud.harness.traffic import BankDesk, Counts, Traffic, police_follow_up
from antifraud.streams.settings import Topics

TOPICS = Topics()
KEYS = {"demo-1": b"a-test-key"}


class Sent:
    """Stands in for the counting producer: keeps what was sent, in order."""

    def __init__(self) -> None:
        self.records: list[tuple[str, str, dict[str, Any]]] = []

    async def send(self, topic: str, key: str, value: dict[str, Any]) -> None:
        self.records.append((topic, key, value))

    def on(self, topic: str) -> list[dict[str, Any]]:
        return [value for t, _, value in self.records if t == topic]


def run_traffic(seconds: float, **options: Any) -> tuple[Traffic, Counts, Sent]:
    sent, counts = Sent(), Counts()
    traffic = Traffic(sent, TOPICS, Simulator(seed=3), counts, **options)
    asyncio.run(traffic.run(asyncio.Event(), seconds))
    return traffic, counts, sent


def test_every_case_started_is_sent_to_its_report_and_counted() -> None:
    traffic, counts, sent = run_traffic(
        0.5, rate=400.0, fraud_every=40, revoke_every=2, bad_every=2
    )
    assert counts.cases == len(traffic.cases) >= 2
    police = [r for r in sent.on(TOPICS.reports) if r["action"] == "report"]
    reports = [r["report_id"] for r in police]
    for case in traffic.cases:
        assert case.report_id in reports
        # every transfer the case promises commands for went out
        case_transfers = {t for _, _, t in case.expected_holds}
        assert case_transfers <= {t["transfer_id"] for t in sent.on(TOPICS.transfers)}
    # revocations still owed when the traffic stopped are dropped, and the case is not revoked
    revocations = {r["report_id"] for r in sent.on(TOPICS.reports) if r["action"] == "revoke"}
    assert revocations == {c.report_id for c in traffic.cases if c.revoked}
    assert counts.revocations == len(revocations)
    assert counts.reports == len(police) - sum(1 for k in traffic.bad_keys if k.startswith("R-"))


def test_bad_records_are_sent_and_counted_apart() -> None:
    bad: list[tuple[str, str]] = []
    sent, counts = Sent(), Counts()
    traffic = Traffic(sent, TOPICS, Simulator(seed=5), counts, 400.0, 40, bad_every=1)
    traffic.on_bad = lambda kind, code: bad.append((kind, code))
    asyncio.run(traffic.run(asyncio.Event(), 0.4))
    assert counts.bad_records == len(traffic.bad_keys) == len(bad) >= 2
    keys = {key for _, key, _ in sent.records}
    assert set(traffic.bad_keys) <= keys
    assert {code for _, code in bad} <= {"invalid_identifier", "bad_signature"}
    innocent_and_case = len(sent.on(TOPICS.transfers)) - sum(
        1 for kind, _ in bad if kind == "transfer"
    )
    assert counts.transfers == innocent_and_case


def test_a_stop_ends_the_traffic_before_its_time() -> None:
    sent, counts = Sent(), Counts()
    traffic = Traffic(sent, TOPICS, Simulator(seed=1), counts, 100.0, 0)

    async def stopped_soon() -> None:
        stop = asyncio.Event()
        asyncio.get_running_loop().call_later(0.2, stop.set)
        await traffic.run(stop, 0)  # 0: until stopped

    asyncio.run(asyncio.wait_for(stopped_soon(), 5))  # times out if the stop is not heeded
    assert 0 < counts.transfers < 200 and counts.cases == 0


def test_the_bank_desk_acknowledges_each_command_once() -> None:
    sent, counts = Sent(), Counts()
    desk = BankDesk(sent, TOPICS, counts, seed=2)
    hold = {
        "command_id": "c-1",
        "type": "hold_transfer",
        "bank_id": "CASPKZKA",
        "amount": 100_00,
    }

    async def deliver() -> None:
        desk.on_command(hold)
        desk.on_command(dict(hold))  # a redelivery: banks deduplicate on command_id
        desk.on_command({"type": "hold_transfer"})  # no command id: ignored
        await desk.flush()

    asyncio.run(deliver())
    acks = sent.on(TOPICS.bank_acks)
    assert [a["command_id"] for a in acks] == ["c-1"]
    assert acks[0]["status"] in {"applied", "too_late"}
    assert sum(counts.acks.values()) == 1


def test_the_bank_desk_returns_the_money_of_a_return_funds_and_applies_an_extend() -> None:
    sent, counts = Sent(), Counts()
    desk = BankDesk(sent, TOPICS, counts, seed=2)
    back = {"command_id": "r-1", "type": "return_funds", "bank_id": "CASPKZKA", "amount": 500_00}
    extend = {"command_id": "e-1", "type": "extend", "bank_id": "CASPKZKA", "extends": "h-1"}

    async def deliver() -> None:
        desk.on_command(back)
        desk.on_command(extend)
        await desk.flush()

    asyncio.run(deliver())
    acks = {a["command_id"]: a for a in sent.on(TOPICS.bank_acks)}
    assert (acks["r-1"]["status"], acks["r-1"]["amount_returned"]) == ("returned", 500_00)
    assert acks["e-1"]["status"] == "applied"
    assert counts.acks == {"returned": 1, "applied": 1}


@pytest.mark.parametrize(
    ("revoke_every", "return_every", "extend_case", "expected"),
    [
        (5, 2, 2, ["return", "extend", "return", None, "revoke", None, "return", None]),
        (2, 1, 0, ["return", "revoke", "return", "revoke", "return", "revoke", "return", "revoke"]),
        (0, 0, 0, [None] * 8),
    ],
)
def test_which_cases_the_police_follow_up(
    revoke_every: int, return_every: int, extend_case: int, expected: list[str | None]
) -> None:
    got = [police_follow_up(i, revoke_every, return_every, extend_case) for i in range(1, 9)]
    assert got == expected


def test_returns_and_an_extend_are_sent_for_the_cases_chosen_and_dropped_when_late(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Follow-ups due soon after each case, so that a short run sends some and drops the last.
    monkeypatch.setattr(simulation, "RETURN_AT", 0.15)
    monkeypatch.setattr(simulation, "EXTEND_AT", 0.15)
    sent, counts = Sent(), Counts()
    simulator = Simulator(seed=3, keys=KEYS)
    traffic = Traffic(
        sent, TOPICS, simulator, counts, 400.0, 40, revoke_every=5, return_every=2, extend_case=2
    )
    asyncio.run(traffic.run(asyncio.Event(), 0.6))
    orders = sent.on(TOPICS.reports)
    returns = [r for r in orders if r["action"] == "return"]
    returned = {c.report_id for c in traffic.cases if c.return_ordered}
    assert [r["report_id"] for r in returns] == sorted(returned)  # each once, in case order
    assert counts.returns == len(returns) >= 2
    # Cases 1, 3, 7, ... are chosen; a return not yet due when the traffic stopped is not sent.
    chosen = [c.report_id for i, c in enumerate(traffic.cases, 1) if (i - 1) % 2 == 0 and i % 5]
    assert returned <= set(chosen) and chosen[: len(returns)] == sorted(returned)
    assert all(verify_report(r, KEYS).ok and r["sanction"]["reference"] for r in returns)
    (extend,) = [r for r in orders if r["action"] == "extend"]
    assert extend["report_id"] == traffic.cases[1].report_id and traffic.cases[1].extended
    assert counts.extensions == 1
    assert counts.reports == len(traffic.cases)  # orders are not counted as reports


def test_a_return_not_due_when_the_traffic_stops_is_dropped_and_its_case_not_returned() -> None:
    # The default RETURN_AT (seconds) is far beyond this run: rushed out at the end, a return
    # would reach the worker before the banks' acks, with nothing held to return yet.
    traffic, counts, sent = run_traffic(0.4, rate=400.0, fraud_every=40, return_every=1)
    assert len(traffic.cases) >= 2
    assert not any(c.return_ordered for c in traffic.cases)
    assert [r for r in sent.on(TOPICS.reports) if r["action"] != "report"] == []
    assert counts.returns == 0
