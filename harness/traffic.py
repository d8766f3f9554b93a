"""Simulated traffic on a broker: banks' transfers, police reports, and banks acknowledging.

The engine behind `antifraud demo` and `antifraud simulate` (the records themselves come from
`antifraud.harness.simulation`): innocent transfers at a steady rate, a fraud case of each
scheme in turn (victims pay, the money moves on to a mule, the police report it, and may
later withdraw the report or, on a prosecutor's sanction, extend the holds or order the money
returned), and a bank desk that acknowledges every command it is handed, as the banks'
integrations do.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from antifraud.harness import kafka_io
from antifraud.harness.simulation import SCHEMES, Scenario, Simulator, bank_ack
from antifraud.streams.settings import Topics


@dataclass
class Counts:
    transfers: int = 0  # every transfer sent, innocent or not
    reports: int = 0
    revocations: int = 0
    returns: int = 0  # sanctioned return orders
    extensions: int = 0  # sanctioned extend orders
    bad_records: int = 0
    cases: int = 0
    failed_sends: int = 0
    acks: Counter[str] = field(default_factory=Counter)


class Producer:
    """An aiokafka producer that counts the sends that failed instead of losing them silently."""

    def __init__(self, bootstrap: str, counts: Counts) -> None:
        self.counts = counts
        self.client = kafka_io.producer(bootstrap, linger_ms=5)

    async def start(self) -> None:
        await self.client.start()

    async def send(self, topic: str, key: str, value: dict[str, Any]) -> None:
        future = await self.client.send(topic, key=key.encode(), value=orjson.dumps(value))
        future.add_done_callback(self._delivered)

    def _delivered(self, future: asyncio.Future[Any]) -> None:
        if future.cancelled() or future.exception() is not None:
            self.counts.failed_sends += 1

    async def stop(self) -> None:
        with contextlib.suppress(Exception):
            await self.client.flush()
        await self.client.stop()


def police_follow_up(
    index: int, revoke_every: int = 0, return_every: int = 0, extend_case: int = 0
) -> str | None:
    """What the police do after case `index`'s report (cases count from 1): "revoke" every
    `revoke_every`-th case; else "return" every `return_every`-th from the first on (1, 1 +
    `return_every`, ...); else "extend" case `extend_case`; else nothing. 0 turns any off."""
    if revoke_every and index % revoke_every == 0:
        return "revoke"
    if return_every and (index - 1) % return_every == 0:
        return "return"
    if index == extend_case:
        return "extend"
    return None


class Traffic:
    """Paced traffic: `rate` transfers a second, a fraud case every `fraud_every` transfers.

    Every `revoke_every`-th case is withdrawn by the police a few seconds after its report
    (reported in error); of the others, every `return_every`-th from the first on gets a
    sanctioned order to return its held money, and case `extend_case` one to extend its
    holds (`police_follow_up`). Every `bad_every`-th case is followed by one record the
    platform must dead-letter (a mistyped IBAN, a forged report signature). 0 turns any off.
    """

    def __init__(
        self,
        producer: Producer,
        topics: Topics,
        simulator: Simulator,
        counts: Counts,
        rate: float,
        fraud_every: int,
        revoke_every: int = 0,
        bad_every: int = 0,
        return_every: int = 0,
        extend_case: int = 0,
    ) -> None:
        self.producer = producer
        self.topics = topics
        self.simulator = simulator
        self.counts = counts
        self.rate = rate
        self.fraud_every = fraud_every
        self.revoke_every = revoke_every
        self.bad_every = bad_every
        self.return_every = return_every
        self.extend_case = extend_case
        self.cases: list[Scenario] = []
        self.bad_keys: dict[str, str] = {}  # key of a record sent to be rejected -> expected code
        self._due: list[tuple[float, int, str, dict[str, Any], Scenario | None]] = []
        self._order = itertools.count()
        self._innocent = 0
        self._next_case_at = 0
        # Hooks for the demo's narration.
        self.on_report: Callable[[Scenario, dict[str, Any]], None] = lambda case, record: None
        self.on_bad: Callable[[str, str], None] = lambda kind, code: None

    async def run(self, stop: asyncio.Event, seconds: float) -> None:
        """Send until `seconds` pass (0: until `stop`), then what the started cases still owe."""
        start = time.monotonic()
        # The first case comes after one second, then one every `fraud_every` transfers.
        self._next_case_at = min(self.fraud_every, max(1, int(self.rate)))
        while not stop.is_set():
            now = time.monotonic()
            elapsed = now - start
            if seconds and elapsed >= seconds:
                break
            target = int(elapsed * self.rate)
            while self._innocent < target:
                await self._innocent_transfer()
                if self.fraud_every and self._innocent >= self._next_case_at:
                    self._next_case_at += self.fraud_every
                    self._start_case(now)
            await self._send_due(now)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.02)
        await self.finish_cases()

    async def finish_cases(self) -> None:
        """Send what the cases still owe now, so every case reaches its report.

        The police's pending follow-ups are dropped (their cases count as not revoked, not
        returned, not extended): a revocation rushed ahead of its case's last transfers
        would make the case's expected commands depend on arrival order, and a return
        rushed ahead of the banks' acks would find no money held yet.
        """
        while self._due:
            _, _, kind, record, case = heapq.heappop(self._due)
            action = record.get("action")
            if kind == "report" and action != "report" and case is not None:
                if action == "revoke":
                    case.revoked = False
                elif action == "return":
                    case.return_ordered = False
                else:
                    case.extended = False
                continue
            await self._send(kind, record, case)

    async def _innocent_transfer(self) -> None:
        self._innocent += 1
        await self._send("transfer", self.simulator.innocent_transfer(time.time()), None)

    def _start_case(self, now: float) -> None:
        self.counts.cases += 1
        index = self.counts.cases
        scheme = list(SCHEMES)[(index - 1) % len(SCHEMES)]
        follow_up = police_follow_up(index, self.revoke_every, self.return_every, self.extend_case)
        case = self.simulator.fraud_case(
            scheme,
            time.time(),
            revoke=follow_up == "revoke",
            give_back=follow_up == "return",
            extend=follow_up == "extend",
        )
        self.cases.append(case)
        for step in case.steps:
            heapq.heappush(
                self._due, (now + step.delay, next(self._order), step.kind, step.record, case)
            )
        if self.bad_every and index % self.bad_every == 0:
            kind, record, code = self.simulator.bad_record(time.time())
            key = record["transfer_id"] if kind == "transfer" else record["report_id"]
            self.bad_keys[key] = code
            heapq.heappush(self._due, (now + 6.0, next(self._order), kind, record, None))

    async def _send_due(self, now: float) -> None:
        while self._due and self._due[0][0] <= now:
            _, _, kind, record, case = heapq.heappop(self._due)
            await self._send(kind, record, case)

    async def _send(self, kind: str, record: dict[str, Any], case: Scenario | None) -> None:
        key = record["transfer_id"] if kind == "transfer" else record["report_id"]
        topic = self.topics.transfers if kind == "transfer" else self.topics.reports
        await self.producer.send(topic, key, record)
        if case is None and key in self.bad_keys:
            self.counts.bad_records += 1
            self.on_bad(kind, self.bad_keys[key])
        elif kind == "transfer":
            self.counts.transfers += 1
        elif record.get("action") == "revoke":
            self.counts.revocations += 1
        elif record.get("action") == "return":
            self.counts.returns += 1
        elif record.get("action") == "extend":
            self.counts.extensions += 1
        else:
            self.counts.reports += 1
        if case is not None and kind == "report":
            self.on_report(case, record)


class BankDesk:
    """The banks' side of the loop: each command is acknowledged once, after a short delay
    (`bank_ack`: holds and freezes `applied` or `too_late`, returns of funds `returned`)."""

    def __init__(self, producer: Producer, topics: Topics, counts: Counts, seed: int = 11) -> None:
        self.producer = producer
        self.topics = topics
        self.counts = counts
        self.rng = random.Random(seed)
        self._acked: set[str] = set()
        self._pending: dict[str, tuple[asyncio.TimerHandle, dict[str, Any]]] = {}
        self._sending: set[asyncio.Task[None]] = set()

    def on_command(self, command: dict[str, Any]) -> None:
        command_id = command.get("command_id")
        if not isinstance(command_id, str) or command_id in self._acked:
            return  # banks deduplicate on command_id
        self._acked.add(command_id)
        loop = asyncio.get_running_loop()
        handle = loop.call_later(self.rng.uniform(0.3, 2.5), self._ack_now, command)
        self._pending[command_id] = (handle, command)

    def _ack_now(self, command: dict[str, Any]) -> None:
        self._pending.pop(command["command_id"], None)
        task = asyncio.get_running_loop().create_task(self._send(command))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _send(self, command: dict[str, Any]) -> None:
        ack = bank_ack(command, self.rng, time.time())
        try:
            await self.producer.send(self.topics.bank_acks, ack["command_id"], ack)
        except Exception:
            self.counts.failed_sends += 1
            return
        self.counts.acks[ack["status"]] += 1

    def close(self) -> None:
        """Drop the acks not sent yet (on a hurried exit, before the producer closes)."""
        for handle, _ in self._pending.values():
            handle.cancel()
        self._pending.clear()
        for task in self._sending:
            task.cancel()

    async def flush(self) -> None:
        """Acknowledge at once whatever is still waiting for its delay."""
        for handle, command in list(self._pending.values()):
            handle.cancel()
            await self._send(command)
        self._pending.clear()
