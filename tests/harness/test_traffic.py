"""The traffic engine behind `demo` and `simulate`: paced transfers, whole fraud cases, acks."""

from __future__ import annotations

import asyncio
from typing import Any

from antifraud.harness.simulation import Simulator
from antifraud.harness.traffic import BankDesk, Counts, Traffic
from antifraud.streams.settings import Topics

TOPICS = Topics()


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
