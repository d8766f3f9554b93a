"""`antifraud simulate`: simulated banks and police against any broker, at a given rate.

The traffic engine here (`Traffic`, `BankDesk`, `Reader`) also drives `antifraud demo`:
innocent transfers at a steady rate, a fraud case of each scheme in turn (victims pay,
the money moves on to a mule, the police report it), and optionally a bank desk that
acknowledges every command it reads, as the banks' integrations do.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import random
import signal
import sys
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, ClassVar, NoReturn

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import TopicPartition
from faust.cli import option
from faust.cli.base import AppCommand

from antifraud.harness.simulation import SCHEMES, Scenario, Simulator, bank_ack
from antifraud.streams.app import app, settings
from antifraud.streams.kafka_security import aiokafka_security_options
from antifraud.streams.settings import Topics
from antifraud.streams.topic_admin import ensure_topics

log = logging.getLogger("antifraud.simulate")


class PlainCommand(AppCommand):
    """A verb run on a plain asyncio loop; the coroutine's int result is the exit code.

    Faust runs `async def` verbs inside a mode Worker, which prints a banner per signal and
    turns any failure into a traceback; these verbs handle Ctrl-C themselves (finish, print
    the summary, stop their child processes) and exit with a code that means something.
    """

    abstract: ClassVar[bool] = True  # a base for verbs, not a verb of its own

    def __call__(self, *args: Any, **kwargs: Any) -> NoReturn:
        run: Callable[..., Coroutine[Any, Any, int | None]] = self.run
        code: int | None
        try:
            code = asyncio.run(run(*(self.args + args), **{**self.kwargs, **kwargs}))
        except (KeyboardInterrupt, asyncio.CancelledError):  # a second Ctrl-C: quit at once
            code = 130
        raise SystemExit(code or 0)


def bootstrap_of(broker_url: str) -> str:
    """`kafka://h1:9092;h2:9092` -> `h1:9092,h2:9092`."""
    hosts = broker_url.replace("kafka://", "").replace(";", ",")
    return ",".join(h.strip() for h in hosts.split(",") if h.strip())


def client_options() -> dict[str, Any]:
    return aiokafka_security_options(settings.security)


def stop_on_signals(stop: asyncio.Event, notice: str = "") -> Callable[[], None]:
    """First Ctrl-C (or SIGTERM) asks to finish (printing `notice`); a second one ends at once."""
    loop = asyncio.get_running_loop()
    main = asyncio.current_task()

    def on_signal() -> None:
        if stop.is_set():
            if main is not None:
                main.cancel()
            return
        if notice:
            print(f"\n{notice}", flush=True)
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, on_signal)

    def restore() -> None:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)

    return restore


@dataclass
class Counts:
    transfers: int = 0  # every transfer sent, innocent or not
    reports: int = 0
    revocations: int = 0
    bad_records: int = 0
    cases: int = 0
    failed_sends: int = 0
    acks: Counter[str] = field(default_factory=Counter)


class Producer:
    """An aiokafka producer that counts the sends that failed instead of losing them silently."""

    def __init__(self, bootstrap: str, counts: Counts) -> None:
        self.counts = counts
        self.client = AIOKafkaProducer(
            bootstrap_servers=bootstrap, acks="all", linger_ms=5, **client_options()
        )

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


class Traffic:
    """Paced traffic: `rate` transfers a second, a fraud case every `fraud_every` transfers.

    Every `revoke_every`-th case is withdrawn by the police a few seconds after its report
    (reported in error), and every `bad_every`-th case is followed by one record the
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
    ) -> None:
        self.producer = producer
        self.topics = topics
        self.simulator = simulator
        self.counts = counts
        self.rate = rate
        self.fraud_every = fraud_every
        self.revoke_every = revoke_every
        self.bad_every = bad_every
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

        Pending revocations are dropped (their cases count as not revoked): a revocation
        rushed ahead of its case's last transfers would make the case's expected
        commands depend on arrival order.
        """
        while self._due:
            _, _, kind, record, case = heapq.heappop(self._due)
            if kind == "report" and record.get("action") == "revoke" and case is not None:
                case.revoked = False
                continue
            await self._send(kind, record, case)

    async def _innocent_transfer(self) -> None:
        self._innocent += 1
        await self._send("transfer", self.simulator.innocent_transfer(time.time()), None)

    def _start_case(self, now: float) -> None:
        self.counts.cases += 1
        index = self.counts.cases
        scheme = list(SCHEMES)[(index - 1) % len(SCHEMES)]
        revoke = bool(self.revoke_every) and index % self.revoke_every == 0
        case = self.simulator.fraud_case(scheme, time.time(), revoke=revoke)
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
        else:
            self.counts.reports += 1
        if case is not None and kind == "report":
            self.on_report(case, record)


class BankDesk:
    """The banks' side of the loop: each command is acknowledged once, after a short delay."""

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


class Reader:
    """Reads topics from every partition, from the beginning or from their current end."""

    def __init__(self, bootstrap: str, names: list[str], from_beginning: bool) -> None:
        self.names = names
        self.from_beginning = from_beginning
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest" if from_beginning else "latest",
            **client_options(),
        )

    async def start(self) -> None:
        """Assign every partition and pin the start positions, so nothing later is missed."""
        await self.consumer.start()
        await self.consumer.topics()  # loads the metadata
        partitions = [
            TopicPartition(name, p)
            for name in self.names
            for p in sorted(self.consumer.partitions_for_topic(name) or ())
        ]
        self.consumer.assign(partitions)
        if self.from_beginning:
            await self.consumer.seek_to_beginning(*partitions)
        else:
            await self.consumer.seek_to_end(*partitions)
        for tp in partitions:
            await self.consumer.position(tp)

    async def read(self) -> list[tuple[str, dict[str, Any]]]:
        """The next batch: (topic, value); values that are not JSON objects are skipped."""
        batches = await self.consumer.getmany(timeout_ms=200)
        out = []
        for tp, records in batches.items():
            for record in records:
                try:
                    value = orjson.loads(record.value)
                except orjson.JSONDecodeError:
                    continue
                if isinstance(value, dict):
                    out.append((tp.topic, value))
        return out

    async def stop(self) -> None:
        await self.consumer.stop()


def parse_keys(spec: str) -> dict[str, bytes]:
    if not spec:
        return settings.report_keys
    from antifraud.core.signatures import parse_report_keys

    return parse_report_keys(spec)


@app.command(
    option("--broker", default=None, help="Broker URL (default: ANTIFRAUD_BROKER)."),
    option("--rate", type=float, default=100.0, show_default=True, help="Transfers per second."),
    option("--seconds", type=float, default=60.0, show_default=True, help="0 runs until Ctrl-C."),
    option(
        "--fraud-every",
        type=int,
        default=300,
        show_default=True,
        help="A fraud case every K transfers (0: innocent traffic only).",
    ),
    option("--acks/--no-acks", default=False, help="Also acknowledge commands, as banks do."),
    option(
        "--report-keys",
        default="",
        help="key_id=secret to sign reports (default: ANTIFRAUD_REPORT_KEYS).",
    ),
    option("--seed", type=int, default=None, help="Random seed (default: a new one each run)."),
    base=PlainCommand,
)
async def simulate(
    self: AppCommand,
    broker: str | None,
    rate: float,
    seconds: float,
    fraud_every: int,
    acks: bool,
    report_keys: str,
    seed: int | None,
) -> int:
    """Send simulated bank and police traffic to a broker (no worker is started)."""
    if rate <= 0:
        print("simulate: --rate must be above 0", file=sys.stderr)
        return 2
    bootstrap = bootstrap_of(broker or settings.broker)
    topics = settings.topics
    keys = parse_keys(report_keys)
    seed = seed if seed is not None else random.randrange(1 << 30)
    tag = f"S{seed:x}"
    counts = Counts()
    stop = asyncio.Event()
    restore = stop_on_signals(stop, "stopping (Ctrl-C again to quit at once)")
    producer = Producer(bootstrap, counts)
    reader = Reader(bootstrap, [topics.bank_commands], from_beginning=False) if acks else None
    print(
        f"simulate: {rate:g} transfers/s to {bootstrap}"
        + (f", a fraud case every {fraud_every} transfers" if fraud_every else "")
        + (", acknowledging commands" if acks else "")
        + (f" for {seconds:g} s" if seconds else " until Ctrl-C")
        + ("" if keys else " (reports unsigned: no report keys given)"),
        flush=True,
    )
    started = time.monotonic()
    tasks: list[asyncio.Task[Any]] = []
    desk = BankDesk(producer, topics, counts, seed)
    try:
        # Like the worker: create the contract's topics with the configured partition count,
        # before a first send makes the broker auto-create them with its own default.
        await ensure_topics(
            bootstrap,
            topics.external(),
            settings.partitions,
            settings.replication_factor,
            client_options(),
        )
        await producer.start()
        traffic = Traffic(
            producer,
            topics,
            Simulator(seed=seed, keys=keys, run_tag=tag),
            counts,
            rate,
            fraud_every,
        )
        if reader is not None:
            await reader.start()
            tasks.append(asyncio.create_task(_acknowledge(reader, desk)))
        tasks.append(asyncio.create_task(_progress(counts, started)))
        await traffic.run(stop, seconds)
        await desk.flush()
        await producer.client.flush()
    finally:
        for task in tasks:
            task.cancel()
        desk.close()
        with contextlib.suppress(Exception):
            if reader is not None:
                await reader.stop()
        with contextlib.suppress(Exception):
            await producer.stop()
        restore()
    took = time.monotonic() - started
    print(
        f"simulate: done in {took:.1f} s: {counts.transfers} transfers, {counts.reports} reports, "
        f"{counts.cases} fraud cases, {sum(counts.acks.values())} acks"
        + (f", {counts.failed_sends} sends FAILED" if counts.failed_sends else ""),
        flush=True,
    )
    return 1 if counts.failed_sends else 0


async def _acknowledge(reader: Reader, desk: BankDesk) -> None:
    while True:
        for _, command in await reader.read():
            desk.on_command(command)


async def _progress(counts: Counts, started: float) -> None:
    while True:
        await asyncio.sleep(1.0)
        elapsed = time.monotonic() - started
        print(
            f"  {elapsed:5.0f} s  transfers {counts.transfers:>8}  reports {counts.reports:>5}  "
            f"acks {sum(counts.acks.values()):>6}",
            flush=True,
        )
