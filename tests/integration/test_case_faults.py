"""Money moves only once, even under faults (issue 14): `kill -9` the only worker three times
while sanctioned returns and the banks' `returned` acks are flowing, on Apache Kafka.

Seeded cases whose every return is known by construction: each victim sent the mule one
transfer (held by both banks) and lost some more; the mule's frozen account holds more than
all the victims are still owed. So a report's `return` must give each transfer back from the
sending bank, and each victim from the freeze exactly what it lost beyond its transfer, and
nothing else. Simulated banks ack every command once (holds and freezes `applied`, returns
`returned`). Then:
- every `return_funds` is under one id per returned hold or freeze and victim;
- the sum returned equals the sum expected, and each case ends `returned` with its own sum;
- the figures are printed and written to `case-faults.json` in the test's tmp dir.
"""

from __future__ import annotations

import contextlib
import json
import random
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest

from antifraud.core.timestamps import format_rfc3339
from antifraud.harness.kafka_io import TopicLog, blocking_producer
from antifraud.harness.simulation import (
    identifier,
    make_iban,
    make_phone,
    order,
    report,
    transfer,
    victim,
)
from antifraud.harness.worker_process import WorkerProcess
from antifraud.streams.settings import broker_url
from tests.integration.apache_kafka import ApacheKafka, java_available

pytestmark = [
    pytest.mark.apache_kafka,
    pytest.mark.slow,
    pytest.mark.skipif(not java_available(), reason="needs java for Apache Kafka"),
]

KEYS = {"k": b"secret"}
SEED = 20261203
CASES = 60
KILLS = 3
CASPI, HALYK = "CASPKZKA", "HSBKKZKX"
ISSUER = "ALM-PD-CYBER"
SANCTION = {"authority": "Almaty city prosecutor", "reference": "SK-1", "issued_at": "2026-12-03T10:00:00+05:00"}  # fmt: skip
TOPICS = {
    "transfers": "antifraud.transfers",
    "reports": "antifraud.reports",
    "acks": "antifraud.bank-acks",
    "commands": "antifraud.bank-commands",
    "status": "antifraud.case-status",
}
ORDER_PACE = 0.6  # seconds between two return orders: the orders span the kills
DONE_TIMEOUT = 600.0


def worker_env() -> dict[str, str]:
    return {
        "ANTIFRAUD_STORE": "rocksdb://",
        "ANTIFRAUD_PARTITIONS": "8",
        "ANTIFRAUD_SESSION_TIMEOUT": "6",
        "ANTIFRAUD_HEARTBEAT_INTERVAL": "1",
        "ANTIFRAUD_ACK_SLA_SECONDS": "3600",
        "ANTIFRAUD_REPORT_KEYS": ",".join(f"{k}={v.decode()}" for k, v in KEYS.items()),
    }


@dataclass
class Case:
    report_id: str
    mule: str
    freeze_held: int
    victims: list[tuple[str, int, int]] = field(default_factory=list)  # (iban, sent, more lost)

    def expected(self) -> Counter[tuple[str, str, str, int]]:
        """(report, source kind, beneficiary, amount) of every return_funds it must get."""
        out: Counter[tuple[str, str, str, int]] = Counter()
        for iban, sent, more in self.victims:
            out[(self.report_id, "hold_transfer", iban, sent)] += 1
            out[(self.report_id, "freeze_account", iban, more)] += 1
        return out

    @property
    def returned(self) -> int:
        return sum(sent + more for _, sent, more in self.victims)


def build(rng: random.Random) -> list[Case]:
    cases = []
    for n in range(CASES):
        victims = [
            (
                make_iban("722", 81_000_000 + n * 10 + v),
                rng.randint(1_000, 500_000) * 100,
                rng.randint(1, 200_000) * 100,
            )
            for v in range(rng.choice([1, 2, 3]))
        ]
        owed = sum(more for _, _, more in victims)
        case = Case(f"R-CF-{n:04d}", make_phone(7_100_000 + n), owed + rng.randint(0, 10**6))
        case.victims = victims
        cases.append(case)
    return cases


class Bank(threading.Thread):
    """Every simulated bank at once: each command acked once, by its id."""

    def __init__(self, bootstrap: str, freezes: dict[str, int]) -> None:
        super().__init__(name="banks", daemon=True)
        self.bootstrap = bootstrap
        self.freezes = freezes  # mule value -> what its bank says it holds
        self.acked: set[str] = set()
        self.commands: dict[str, dict[str, Any]] = {}
        self.records = 0
        self.stop = threading.Event()
        self.error: BaseException | None = None
        self.lock = threading.Lock()

    def ack(self, command: dict[str, Any]) -> dict[str, Any]:
        kind = command["type"]
        ack: dict[str, Any] = {
            "command_id": command["command_id"],
            "bank_id": command["bank_id"],
            "status": "applied",
            "at": format_rfc3339(time.time()),
        }
        if kind == "hold_transfer":
            ack["amount_held"] = command["amount"]
        elif kind == "freeze_account":
            ack["amount_held"] = self.freezes[command["account"]["value"]]
        elif kind == "return_funds":
            ack["status"], ack["amount_returned"] = "returned", command["amount"]
        return ack

    def run(self) -> None:
        try:
            reader = TopicLog(self.bootstrap, [TOPICS["commands"]], keep=False)
            producer = blocking_producer(self.bootstrap, linger_ms=5)
            try:
                while not self.stop.is_set():
                    for message in reader.poll():
                        command = orjson.loads(message.value)
                        with self.lock:
                            self.records += 1
                            self.commands[command["command_id"]] = command
                            if command["command_id"] in self.acked or command["type"] == "release":
                                continue
                            self.acked.add(command["command_id"])
                        value = orjson.dumps(self.ack(command))
                        producer.send(
                            TOPICS["acks"], key=command["command_id"].encode(), value=value
                        )
                    producer.flush(timeout=60)
            finally:
                producer.close(timeout=10)
                reader.close()
        except BaseException as exc:
            self.error = exc

    def returns(self) -> list[dict[str, Any]]:
        with self.lock:
            return [c for c in self.commands.values() if c["type"] == "return_funds"]


class Statuses(threading.Thread):
    """The latest case status per report id, as police would keep it."""

    def __init__(self, bootstrap: str) -> None:
        super().__init__(name="police", daemon=True)
        self.bootstrap = bootstrap
        self.latest: dict[str, dict[str, Any]] = {}
        self.stop = threading.Event()
        self.lock = threading.Lock()

    def run(self) -> None:
        reader = TopicLog(self.bootstrap, [TOPICS["status"]], keep=False)
        try:
            while not self.stop.is_set():
                for message in reader.poll():
                    with self.lock:
                        self.latest[message.key.decode()] = orjson.loads(message.value)
        finally:
            reader.close()

    def count(self, check: Any) -> int:
        with self.lock:
            return sum(1 for status in self.latest.values() if check(status))


def wait(check: Any, timeout: float, what: str) -> float:
    start = time.monotonic()
    while not check():
        assert time.monotonic() - start < timeout, f"waited {timeout} s for {what}"
        time.sleep(0.5)
    return round(time.monotonic() - start, 2)


@pytest.fixture
def kafka() -> Any:
    with ApacheKafka() as k:
        yield k


def test_returns_move_money_once_through_three_kill_9(kafka: ApacheKafka, tmp_path: Path) -> None:
    rng = random.Random(SEED)
    cases = build(rng)
    bootstrap = kafka.start_single(tmp_path / "kafka")
    worker = WorkerProcess(broker_url(bootstrap), tmp_path / "workers", worker_env(), "w1")
    bank = Bank(bootstrap, {case.mule: case.freeze_held for case in cases})
    police = Statuses(bootstrap)
    producer = blocking_producer(bootstrap, linger_ms=5)
    figures: dict[str, Any] = {"seed": SEED, "cases": CASES}
    try:
        worker.start(timeout=180)
        bank.start()
        police.start()
        now = time.time()
        for case in cases:
            lost = [victim(identifier("iban", iban, CASPI), sent + more) for iban, sent, more in case.victims]  # fmt: skip
            mules = [identifier("phone", case.mule, HALYK)]
            record = report(case.report_id, mules, now, keys=KEYS, issuer=ISSUER, victims=lost)
            producer.send(
                TOPICS["reports"], key=case.report_id.encode(), value=orjson.dumps(record)
            )
            for v, (iban, sent, _) in enumerate(case.victims):
                tid = f"T-{case.report_id}-{v}"
                to_mule = transfer(
                    tid,
                    CASPI,
                    identifier("iban", iban),
                    identifier("phone", case.mule, HALYK),
                    sent,
                    now,
                )
                producer.send(TOPICS["transfers"], key=tid.encode(), value=orjson.dumps(to_mule))
        producer.flush(timeout=60)

        def holding() -> bool:
            return police.count(lambda s: s["status"] == "holding" and s["totals"]["acked"] == s["totals"]["commands"] > 0) == CASES  # fmt: skip

        figures["all_holding_s"] = wait(holding, DONE_TIMEOUT, "every case holding")

        # Returns ordered one after the other, a third of them twice, while the worker dies.
        orders = [case.report_id for case in cases] + [c.report_id for c in cases[::3]]
        start = time.monotonic()
        kills = sorted(rng.uniform(2.0, len(orders) * ORDER_PACE) for _ in range(KILLS))
        faults = []

        def order_all() -> None:
            for report_id in orders:
                body = order(report_id, "return", time.time(), KEYS, issuer=ISSUER, sanctioned=SANCTION)  # fmt: skip
                producer.send(TOPICS["reports"], key=report_id.encode(), value=orjson.dumps(body))
                producer.flush(timeout=60)
                time.sleep(ORDER_PACE)

        ordering = threading.Thread(target=order_all, daemon=True)
        ordering.start()
        for at in kills:
            time.sleep(max(0.0, start + at - time.monotonic()))
            returns_seen = len(bank.returns())
            worker.kill()
            restart = time.monotonic()
            worker.start(timeout=240)
            faults.append(
                {
                    "kill_at_s": round(time.monotonic() - start, 2),
                    "return_funds_seen_before": returns_seen,
                    "restart_to_healthy_s": round(time.monotonic() - restart, 2),
                }
            )
        ordering.join(timeout=120)
        figures["faults"] = faults

        def all_returned() -> bool:
            return police.count(lambda s: s["status"] == "returned") == CASES

        figures["returned_after_orders_s"] = wait(all_returned, DONE_TIMEOUT, "every case returned")
        time.sleep(5.0)  # anything late would show now
    finally:
        bank.stop.set()
        police.stop.set()
        with contextlib.suppress(Exception):
            producer.close(timeout=10)
        worker.kill()
    assert bank.error is None, bank.error

    returns = bank.returns()
    expected: Counter[tuple[str, str, str, int]] = Counter()
    for case in cases:
        expected += case.expected()
    sources = {cid: c["type"] for cid, c in bank.commands.items()}
    got = Counter(
        (c["report_ids"][0], sources[c["returns"]], c["beneficiary"]["account"]["value"], c["amount"])
        for c in returns
    )  # fmt: skip
    ids_per_source: dict[tuple[str, str], set[str]] = defaultdict(set)
    for command in returns:
        ids_per_source[(command["returns"], command["beneficiary"]["account"]["value"])].add(
            command["command_id"]
        )
    by_case = {case.report_id: police.latest[case.report_id] for case in cases}
    figures.update(
        {
            "return_funds_expected": sum(expected.values()),
            "return_funds_distinct_ids": len(returns),
            "command_records_read": bank.records,
            "sum_expected": sum(case.returned for case in cases),
            "sum_returned": sum(c["amount"] for c in returns),
            "cases_returned": sum(1 for s in by_case.values() if s["status"] == "returned"),
        }
    )
    path = tmp_path / "case-faults.json"
    path.write_text(json.dumps(figures, indent=2))
    print(f"\n[case-faults] {json.dumps(figures)}\n[case-faults] written to {path}")

    assert all(len(ids) == 1 for ids in ids_per_source.values()), "a return under two ids"
    assert got == expected
    assert figures["sum_returned"] == figures["sum_expected"]
    for case in cases:
        status = by_case[case.report_id]
        assert status["status"] == "returned"
        assert status["totals"]["amount_returned"] == case.returned, case.report_id
