"""`antifraud bench`: a raw aiokafka baseline, the real worker, and latency at a fixed rate.

One run, one broker, one preloaded data set:

1. **baseline**: a plain aiokafka consumer/producer loop doing the same per-record work as
   intake + matching at their cheapest (decode and validate with `core.intake.parse_transfer`,
   look the recipient up in a dict of watched identifiers, produce hold commands for hits,
   `getmany`, commit per batch after the sends are acknowledged);
2. **worker**: a real `antifraud worker` child process (exactly what operators run), or
   `--workers N` of them in one group, consumes the same preloaded transfers; done when the
   group's committed offsets reach the end of `antifraud.transfers` and of the internal
   identifier stream, and every expected `hold_transfer` is on `antifraud.bank-commands`
   (CPU is then the workers' sum, RSS the largest worker's);
Between 1 and 2, the same transfers' domain work alone (`streams/domain_bench.py`: parse, and
both identifiers' state read, applied and written in RocksDB, no Kafka, no Faust) gives
`ratio_ceiling_per_cpu`, the best per-CPU ratio any worker keeping that state could reach.
3. **latency**: transfers offered at `--rate` per second; for each one that hits a reported
   account, the time from its send to its first hold command being readable by a bank.

Progress goes to stderr; the last line on stdout is one JSON object with the figures.
Profile the worker during phase 2 with `ANTIFRAUD_BENCH_PROFILE=FILE.svg` (or `.txt` for
py-spy's collapsed stacks), which attaches `py-spy record` to the worker process.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from faust.cli import option

from antifraud.core.command_ids import hold_command_id
from antifraud.core.intake import Rejected, parse_report, parse_transfer
from antifraud.core.policy import Policy
from antifraud.core.records import Transfer
from antifraud.harness.embedded_broker import EmbeddedBroker
from antifraud.harness.simulation import (
    ACCOUNT_KINDS,
    BANKS,
    make_account,
    messy_iban,
    messy_phone,
    report,
    transfer,
)
from antifraud.harness.worker_process import FAST_GROUP, WorkerProcess
from antifraud.streams.app import app, settings
from antifraud.streams.kafka_security import aiokafka_security_options
from antifraud.streams.topic_admin import ensure_topics
from antifraud.tools.domain_bench import domain_work, fresh_state_db

BASELINE_GROUP = "antifraud-bench-baseline"
BASELINE_TOPIC = "antifraud.bench.baseline-commands"
CUSTOMERS = 50_000  # innocent accounts the non-matching transfers move between
ACCOUNTS_PER_REPORT = 50  # the contract's maximum
LATENCY_HIT_FRACTION = 0.05  # more samples for the percentiles than the 1 % of phase 1
SAMPLE_SECONDS = 0.5
LATENCY_DRAIN_SECONDS = 60.0  # after the last send, how long to wait for the last holds

# ---------------------------------------------------------------------------- data


@dataclass
class Dataset:
    """The records of one run and what the platform must do with them."""

    tag: str
    reports: list[tuple[bytes, bytes]] = field(default_factory=list)
    transfers: list[tuple[bytes, bytes]] = field(default_factory=list)
    watched: dict[str, str] = field(default_factory=dict)  # identifier key -> its bank
    expected_holds: int = 0
    hits: int = 0

    @property
    def record_bytes(self) -> float:
        return sum(len(v) for _, v in self.transfers) / max(1, len(self.transfers))


def reported_accounts(count: int) -> list[dict[str, str]]:
    """The fraud accounts police report: a mix of IBANs, cards and phones, each with its bank."""
    codes = list(BANKS)
    accounts = []
    for i in range(count):
        code = codes[i % len(codes)]
        kind = ACCOUNT_KINDS[i % 4]
        accounts.append(make_account(kind, code, i, bases=(7_000_000_000, 5_000_000, 600_000_000)))
    return accounts


def as_written(account: dict[str, str]) -> dict[str, str]:
    """How a police officer types it: `8 701 ...`, lower-case IBANs in groups of four."""
    if account["kind"] == "phone":
        return {**account, "value": messy_phone(account["value"])}
    if account["kind"] == "iban":
        return {**account, "value": messy_iban(account["value"])}
    return account


def customers(count: int, rng: random.Random) -> list[dict[str, str]]:
    codes = list(BANKS)
    out = []
    for i in range(count):
        code = rng.choice(codes)
        kind = rng.choice(ACCOUNT_KINDS)
        out.append(make_account(kind, code, i))
    return out


def report_records(
    tag: str, accounts: list[dict[str, str]], now: float
) -> list[tuple[bytes, bytes]]:
    """Reports naming `accounts`, 50 a report; signed when the platform is configured with keys."""
    records = []
    keys = settings.report_keys or None
    for start in range(0, len(accounts), ACCOUNTS_PER_REPORT):
        report_id = f"R-{tag}-{start // ACCOUNTS_PER_REPORT:05d}"
        chunk = [as_written(a) for a in accounts[start : start + ACCOUNTS_PER_REPORT]]
        body = report(report_id, chunk, now - 60.0, "bank_impersonation", keys)
        records.append((report_id.encode(), orjson.dumps(body)))
    return records


def watch_list(reports: Sequence[tuple[bytes, bytes]]) -> dict[str, str]:
    """What the baseline looks recipients up in: normalised identifier key -> bank."""
    watched: dict[str, str] = {}
    for _, raw in reports:
        parsed = parse_report(raw, settings.report_keys, settings.bank_directory)
        for account in parsed.accounts:
            watched[account.identifier.key] = account.bank_id or ""
    return watched


class TransferMaker:
    """Transfers between customers; a given fraction pays a reported account instead."""

    def __init__(self, accounts: list[dict[str, str]], seed: int = 11) -> None:
        self.rng = random.Random(seed)
        self.customers = customers(CUSTOMERS, self.rng)
        self.accounts = accounts
        self.banks = list(BANKS.values())

    def make(self, transfer_id: str, hit: bool, now: float) -> tuple[dict[str, Any], int]:
        """One transfer record and how many hold commands it must cause (0, 1 or 2)."""
        rng = self.rng
        sender = rng.choice(self.customers)
        if hit:
            recipient = rng.choice(self.accounts)
            purpose = rng.choice(("p2p", "purchase"))
        else:
            recipient = rng.choice(self.customers)
            purpose = rng.choices(("p2p", "purchase", "salary", "other"), (50, 35, 10, 5))[0]
        record = transfer(
            transfer_id,
            sender["bank_id"],
            {"kind": sender["kind"], "value": sender["value"]},
            recipient,
            rng.randint(1_000, 500_000) * 100,
            now - rng.uniform(0, 5),
            purpose=purpose,
        )
        # What a bank's core system adds; unknown fields are ignored by the contract.
        record["channel"] = rng.choice(("mobile_app", "internet_bank", "branch"))
        record["device_id"] = f"{rng.getrandbits(64):016x}"
        holds = 0
        if hit:
            holds = 1 if sender["bank_id"] == recipient["bank_id"] else 2
        return record, holds


def hit_indices(count: int, fraction: float, rng: random.Random) -> set[int]:
    return set(rng.sample(range(count), round(count * fraction)))


def build_dataset(events: int, reported: int, hit_fraction: float, tag: str) -> Dataset:
    now = time.time()
    accounts = reported_accounts(reported)
    data = Dataset(tag=tag, reports=report_records(tag, accounts, now))
    data.watched = watch_list(data.reports)
    maker = TransferMaker(accounts)
    hits = hit_indices(events, hit_fraction, maker.rng)
    for i in range(events):
        transfer_id = f"T-{tag}-{i:09d}"
        record, holds = maker.make(transfer_id, i in hits, now)
        data.transfers.append((transfer_id.encode(), orjson.dumps(record)))
        data.expected_holds += holds
    data.hits = len(hits)
    return data


# ---------------------------------------------------------------------------- kafka helpers


def say(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def client_options() -> dict[str, Any]:
    return aiokafka_security_options(settings.security)


async def end_offsets(bootstrap: str, topic: str) -> dict[int, int]:
    """Partition -> end offset; empty when the topic does not exist (yet)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, **client_options())
    await consumer.start()
    try:
        partitions = consumer.partitions_for_topic(topic)
        if not partitions:
            await consumer._client.force_metadata_update()
            partitions = consumer.partitions_for_topic(topic)
        if not partitions:
            return {}
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        ends = await consumer.end_offsets(tps)
        return {tp.partition: int(offset) for tp, offset in ends.items()}
    finally:
        await consumer.stop()


@dataclass
class Published:
    """Where the records of one `publish` landed: partition -> [first offset, last offset + 1]."""

    seconds: float
    ranges: dict[int, tuple[int, int]]

    @property
    def start(self) -> dict[int, int]:
        return {p: r[0] for p, r in self.ranges.items()}

    @property
    def end(self) -> dict[int, int]:
        return {p: r[1] for p, r in self.ranges.items()}


async def publish(
    bootstrap: str, topic: str, records: Sequence[tuple[bytes, bytes]], label: str
) -> Published:
    """Send everything (acks=all) and wait for the broker.

    The offsets come from the produce responses, not from ListOffsets: the embedded
    broker answers ListOffsets(latest) with the last batch's base offset.
    """
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        linger_ms=5,
        max_batch_size=256 * 1024,
        **client_options(),
    )
    await producer.start()
    started = time.monotonic()
    step = max(1, len(records) // 10)
    ranges: dict[int, tuple[int, int]] = {}

    async def settle(pending: list[asyncio.Future[Any]]) -> None:
        for metadata in await asyncio.gather(*pending):
            low, high = ranges.get(metadata.partition, (metadata.offset, metadata.offset + 1))
            ranges[metadata.partition] = (min(low, metadata.offset), max(high, metadata.offset + 1))
        pending.clear()

    try:
        pending: list[asyncio.Future[Any]] = []
        for i, (key, value) in enumerate(records, 1):
            pending.append(await producer.send(topic, value=value, key=key))
            if len(pending) >= 5_000:
                await settle(pending)
            if i % step == 0 and len(records) >= 1_000:
                say(f"{label}: {i:,}/{len(records):,}")
        await settle(pending)
    finally:
        await producer.stop()
    return Published(time.monotonic() - started, ranges)


# ---------------------------------------------------------------------------- 1. baseline


def hold_commands(t: Transfer, policy: Policy) -> list[dict[str, Any]]:
    """The hold commands the contract promises for a transfer to a watched recipient."""
    if t.status != "initiated" or policy.is_carved_out(t.purpose):
        return []
    banks = [t.recipient_bank] if t.bank_id == t.recipient_bank else [t.recipient_bank, t.bank_id]
    return [
        {
            "command_id": hold_command_id(bank, t.key, 0),
            "type": "hold_transfer",
            "bank_id": bank,
            "account": t.recipient.as_json(),
            "transfer": {"bank_id": t.bank_id, "transfer_id": t.transfer_id},
            "amount": t.amount,
            "currency": t.currency,
            "reason": "reported_account",
            "hop": 0,
        }
        for bank in banks
    ]


@dataclass
class BaselineResult:
    events: int
    seconds: float
    cpu_seconds: float  # this process's CPU time over the same span
    commands: int
    rejected: int

    @property
    def eps(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0


async def run_baseline(
    bootstrap: str, topic: str, preloaded: Published, watched: dict[str, str]
) -> BaselineResult:
    """Decode, look up, produce, commit per batch: timed from the first batch to the last."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=BASELINE_GROUP,
        enable_auto_commit=False,
        **client_options(),
    )
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", linger_ms=2, **client_options()
    )
    await consumer.start()
    await producer.start()
    policy, limit = settings.policy, settings.max_record_bytes
    start, end = preloaded.start, preloaded.end
    tps = [TopicPartition(topic, p) for p in sorted(end)]
    consumer.assign(tps)
    for tp in tps:
        consumer.seek(tp, start[tp.partition])
    remaining = sum(end[p] - start[p] for p in end)
    total, commands, rejected = remaining, 0, 0
    first: float | None = None
    cpu = 0.0
    try:
        while remaining > 0:
            batches = await consumer.getmany(timeout_ms=1000, max_records=2000)
            if batches and first is None:
                first, cpu = time.monotonic(), own_cpu_seconds()
            sends = []
            for tp, records in batches.items():
                for record in records:
                    if record.offset >= end[tp.partition]:
                        continue
                    remaining -= 1
                    try:
                        parsed = parse_transfer(record.value, limit)
                    except Rejected:
                        rejected += 1
                        continue
                    if parsed.recipient.key not in watched:
                        continue
                    for command in hold_commands(parsed, policy):
                        value = orjson.dumps(command)
                        key = command["bank_id"].encode()
                        sends.append(await producer.send(BASELINE_TOPIC, value=value, key=key))
            if sends:
                await asyncio.gather(*sends)
                commands += len(sends)
            if batches:
                await consumer.commit()
        seconds = time.monotonic() - (first or time.monotonic())
        cpu = own_cpu_seconds() - cpu
    finally:
        await producer.stop()
        await consumer.stop()
    return BaselineResult(total, seconds, cpu, commands, rejected)


# ---------------------------------------------------------------------------- bank side


class CommandReader:
    """A bank's consumer of `antifraud.bank-commands`: when each transfer's first hold arrived."""

    def __init__(self, bootstrap: str, topic: str, start: dict[int, int]) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self.start_offsets = start
        self.first_hold: dict[str, float] = {}  # transfer_id -> monotonic arrival
        self.holds: set[tuple[str, str]] = set()  # (bank that must act, transfer_id)
        self.consumer: AIOKafkaConsumer | None = None
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> CommandReader:
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap, enable_auto_commit=False, **client_options()
        )
        await self.consumer.start()
        partitions = sorted(self.start_offsets)
        self.consumer.assign([TopicPartition(self.topic, p) for p in partitions])
        for p in partitions:
            self.consumer.seek(TopicPartition(self.topic, p), self.start_offsets[p])
        self.task = asyncio.create_task(self._run())
        return self

    async def _run(self) -> None:
        assert self.consumer is not None
        while True:
            batches = await self.consumer.getmany(timeout_ms=100)
            now = time.monotonic()
            for records in batches.values():
                for record in records:
                    command = orjson.loads(record.value)
                    if command.get("type") != "hold_transfer":
                        continue
                    transfer_id = command["transfer"]["transfer_id"]
                    self.first_hold.setdefault(transfer_id, now)
                    self.holds.add((command["bank_id"], transfer_id))

    def count_holds(self, prefix: str) -> int:
        return sum(1 for _, transfer_id in self.holds if transfer_id.startswith(prefix))

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        if self.consumer is not None:
            await self.consumer.stop()


# ---------------------------------------------------------------------------- 2. the worker


def worker_env(partitions: int, embedded: bool) -> dict[str, str]:
    env = {"ANTIFRAUD_STORE": "rocksdb://", "ANTIFRAUD_PARTITIONS": str(partitions)}
    if embedded:
        env.update(FAST_GROUP)
    return env


def own_cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def domain_cpu_seconds(transfers: Sequence[bytes], policy: Policy) -> float:
    """CPU seconds this process spends on the domain work alone of `transfers`
    (streams/domain_bench.py), on a fresh RocksDB."""
    with fresh_state_db() as db:
        started = own_cpu_seconds()
        domain_work(transfers, db, policy, time.time())
        return own_cpu_seconds() - started


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads); 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    # after the command name: state is field 3, utime 14 and stime 15 (1-based, proc(5))
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def memory_mb(pid: int) -> dict[str, float]:
    """VmHWM (peak) and VmRSS (now) of a process, in MiB; empty when it is gone."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return {}
    out = {}
    for line in lines:
        name, _, value = line.partition(":")
        if name in ("VmHWM", "VmRSS"):
            out[name] = int(value.split()[0]) / 1024
    return out


@dataclass
class Progress:
    """One sample of the worker's committed offsets and of the holds the banks have seen."""

    at: float  # seconds since the worker was started
    transfers: int  # transfers of this run committed by the worker's group
    identifier_events: int  # offsets committed on the internal identifier stream, all runs
    holds: int
    cpu: float = 0.0  # the worker's CPU seconds so far


async def partitions_of(admin: AIOKafkaAdminClient, topic: str) -> list[int]:
    """The topic's partitions; empty while it does not exist."""
    described = await admin.describe_topics([topic])
    if not described or described[0].get("error_code"):
        return []
    return sorted(int(p["partition"]) for p in described[0].get("partitions", ()))


async def committed(
    admin: AIOKafkaAdminClient, group: str, topic: str, partitions: Sequence[int]
) -> dict[int, int]:
    """Partition -> the group's committed offset (the next record it would read); -1 for none."""
    if not partitions:
        return {}
    tps = [TopicPartition(topic, p) for p in partitions]
    offsets = await admin.list_consumer_group_offsets(group, partitions=tps)
    return {tp.partition: meta.offset for tp, meta in offsets.items()}


def transfers_committed(offsets: dict[int, int], preloaded: Published) -> tuple[int, bool]:
    """How many preloaded transfers the group has committed, and whether that is all of them."""
    count, done = 0, True
    for p, (start, end) in preloaded.ranges.items():
        offset = offsets.get(p, -1)
        count += max(0, min(offset, end) - start)
        done = done and offset >= end
    return count, done


@dataclass
class WorkerResult:
    events: int
    seconds: float  # from healthy (consuming) to everything committed and every hold out
    cpu_seconds: float  # the worker's CPU time over the same span
    startup_seconds: float
    samples: list[Progress]
    rss_peak_mb: float = 0.0

    @property
    def eps(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0


class Profiler:
    """`py-spy record` attached to the worker, when ANTIFRAUD_BENCH_PROFILE names an output."""

    def __init__(self, output: str) -> None:
        self.output = output
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, pid: int) -> None:
        if not self.output or not pid:
            return
        py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        fmt = "raw" if self.output.endswith(".txt") else "flamegraph"
        if self.output.endswith(".json"):
            fmt = "speedscope"
        flags = os.environ.get("ANTIFRAUD_BENCH_PROFILE_FLAGS", "").split()
        command = [py_spy, "record", "--pid", str(pid), "--rate", "100", "--format", fmt]
        self.process = subprocess.Popen(
            [*command, *flags, "--output", self.output, "--nonblocking"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        say(f"profiling worker pid {pid} with py-spy -> {self.output}")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.process = None


def finished(samples: Sequence[Progress], events: int, holds: int, quiet: float) -> Progress | None:
    """The sample at which the worker had done everything, once that is certain.

    Done means: every preloaded transfer committed, every expected hold seen, and the
    identifier stream's committed offsets at their final value, which is known once they
    have not moved for `quiet` seconds. (The internal topic's end offsets are not asked of
    the broker: the embedded one answers ListOffsets(latest) with a batch's base offset.)
    """
    last = samples[-1]
    if last.transfers < events or last.holds < holds:
        return None
    done = next(
        s
        for s in samples
        if s.identifier_events == last.identifier_events
        and s.transfers >= events
        and s.holds >= holds
    )
    return done if last.at - done.at >= quiet else None


async def sample_worker(
    admin: AIOKafkaAdminClient,
    preloaded: Published,
    reader: CommandReader,
    prefix: str,
    at: float,
    healthy: bool,
) -> tuple[Progress, bool]:
    """One progress sample, and whether every preloaded transfer is committed."""
    group, topics = settings.app_id, settings.topics
    offsets = await committed(admin, group, topics.transfers, sorted(preloaded.ranges))
    count, done = transfers_committed(offsets, preloaded)
    # Only asked once the worker is healthy, so the worker has created the internal topic:
    # asking about a missing topic makes the broker auto-create it with its own partition count.
    internal = await partitions_of(admin, topics.identifier_events) if healthy else []
    events = await committed(admin, group, topics.identifier_events, internal)
    stream = sum(max(0, offset) for offset in events.values())
    return Progress(at, count, stream, reader.count_holds(prefix)), done


def pids_of(workers: Sequence[WorkerProcess]) -> list[int]:
    return [w.process.pid for w in workers if w.process is not None]


def peak_memory_mb(workers: Sequence[WorkerProcess]) -> dict[str, float]:
    """The largest VmHWM and VmRSS among the workers (each is one process's figure)."""
    found = [memory_mb(pid) for pid in pids_of(workers)]
    return {
        name: max((m.get(name, 0.0) for m in found), default=0.0) for name in ("VmHWM", "VmRSS")
    }


async def run_worker(
    workers: Sequence[WorkerProcess],
    bootstrap: str,
    reader: CommandReader,
    data: Dataset,
    preloaded: Published,
    timeout: float,
    quiet: float = 4.0,
) -> WorkerResult:
    """Start the workers (one group) and sample the group's committed offsets until it has done
    everything. CPU is the workers' sum; timing starts once every one of them is healthy."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **client_options())
    await admin.start()
    profiler = Profiler(os.environ.get("ANTIFRAUD_BENCH_PROFILE", ""))
    started = time.monotonic()
    healthy = asyncio.gather(*(asyncio.to_thread(w.start, 120.0) for w in workers))
    samples: list[Progress] = []
    healthy_at: float | None = None
    healthy_cpu, peak, end = 0.0, 0.0, None
    try:
        while end is None:
            await asyncio.sleep(SAMPLE_SECONDS)
            now = time.monotonic()
            pids = pids_of(workers)
            if healthy_at is None and healthy.done():
                healthy.result()  # raises when a worker failed to start
                healthy_at, healthy_cpu = now - started, sum(map(cpu_seconds, pids))
                profiler.start(pids[0])  # the first worker's, when there are several
            peak = max(peak, peak_memory_mb(workers)["VmHWM"])
            sample, transfers_done = await sample_worker(
                admin, preloaded, reader, f"T-{data.tag}-", now - started, healthy_at is not None
            )
            sample.cpu = sum(map(cpu_seconds, pids))
            samples.append(sample)
            if transfers_done and healthy_at is not None:
                end = finished(samples, len(data.transfers), data.expected_holds, quiet)
            if len(samples) % 10 == 0 or end is not None:
                say(
                    f"worker: {sample.transfers:,}/{len(data.transfers):,} transfers and "
                    f"{sample.identifier_events:,} identifier events committed, "
                    f"holds {sample.holds:,}/{data.expected_holds:,}, peak rss {peak:.0f} MiB"
                )
            if now - started > timeout:
                raise TimeoutError(
                    f"worker not done after {timeout:.0f} s: {sample}\n{workers[0].log_tail()}"
                )
    finally:
        profiler.stop()
        await admin.close()
    assert healthy_at is not None
    return WorkerResult(
        events=len(data.transfers),
        seconds=max(end.at - healthy_at, SAMPLE_SECONDS),
        cpu_seconds=end.cpu - healthy_cpu,
        startup_seconds=healthy_at,
        samples=samples,
        rss_peak_mb=peak,
    )


# ---------------------------------------------------------------------------- 3. latency


@dataclass
class LatencyResult:
    """`latencies_ms` has one entry a hit; a hold still missing at the end counts as the time
    waited so far, so the percentiles are then lower bounds (`missing` > 0)."""

    offered_rate: float
    sent_rate: float
    latencies_ms: list[float]
    missing: int


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, round(q / 100 * len(ordered) + 0.5 - 1e-9))
    return ordered[min(len(ordered), rank) - 1]


def latency_records(
    maker: TransferMaker, tag: str, count: int, fraction: float
) -> Iterator[tuple[str, bytes, bool]]:
    hits = hit_indices(count, fraction, maker.rng)
    now = time.time()
    for i in range(count):
        transfer_id = f"L-{tag}-{i:09d}"
        record, holds = maker.make(transfer_id, i in hits, now)
        yield transfer_id, orjson.dumps(record), holds > 0


async def run_latency(
    bootstrap: str,
    reader: CommandReader,
    maker: TransferMaker,
    tag: str,
    rate: float,
    seconds: float,
) -> LatencyResult:
    """Offer transfers at `rate`/s; time each hit from its send to its first hold's arrival."""
    count = max(1, round(rate * seconds))
    fraction = LATENCY_HIT_FRACTION
    records = list(latency_records(maker, tag, count, fraction))
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", linger_ms=1, **client_options()
    )
    await producer.start()
    sent_at: dict[str, float] = {}
    pending = []
    started = time.monotonic()
    sent = 0
    try:
        while sent < count:
            due = min(count, int((time.monotonic() - started) * rate) + 1)
            for transfer_id, value, hit in records[sent:due]:
                pending.append(
                    await producer.send(
                        settings.topics.transfers, value=value, key=transfer_id.encode()
                    )
                )
                if hit:
                    sent_at[transfer_id] = time.monotonic()
            sent = due
            await asyncio.sleep(0.002)
        elapsed = time.monotonic() - started
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    deadline = time.monotonic() + LATENCY_DRAIN_SECONDS
    while time.monotonic() < deadline and any(t not in reader.first_hold for t in sent_at):
        await asyncio.sleep(0.1)
    gave_up = time.monotonic()
    latencies = [(reader.first_hold.get(t, gave_up) - at) * 1000 for t, at in sent_at.items()]
    missing = sum(1 for t in sent_at if t not in reader.first_hold)
    if missing:
        say(f"latency: {missing:,} holds still missing after the drain: the worker is saturated")
    return LatencyResult(rate, count / elapsed, latencies, missing)


# ---------------------------------------------------------------------------- report


def summary(
    data: Dataset,
    baseline: BaselineResult,
    domain_cpu: float,
    worker: WorkerResult,
    workers: int,
    latency: LatencyResult,
    memory: dict[str, float],
    broker: str,
    partitions: int,
) -> dict[str, Any]:
    ratio = worker.eps / baseline.eps if baseline.eps else 0.0
    samples = latency.latencies_ms
    events = len(data.transfers)
    baseline_per_cpu = per_cpu(events, baseline.cpu_seconds)
    domain_per_cpu = per_cpu(events, domain_cpu)
    return {
        "events": events,
        "record_bytes": round(data.record_bytes),
        "reported_accounts": len(data.watched),
        "hits": data.hits,
        "expected_holds": data.expected_holds,
        "partitions": partitions,
        "broker": broker,
        "baseline_eps": round(baseline.eps, 1),
        "baseline_seconds": round(baseline.seconds, 3),
        "baseline_cpu_seconds": round(baseline.cpu_seconds, 2),
        "worker_eps": round(worker.eps, 1),
        "worker_seconds": round(worker.seconds, 3),
        "worker_cpu_seconds": round(worker.cpu_seconds, 2),
        "worker_startup_seconds": round(worker.startup_seconds, 3),
        "ratio": round(ratio, 4),
        # per CPU-second of the consuming process: steadier than eps on a shared machine
        "baseline_events_per_cpu_s": round(baseline_per_cpu, 1),
        "worker_events_per_cpu_s": round(per_cpu(events, worker.cpu_seconds), 1),
        "workers": workers,
        "domain_events_per_cpu_s": round(domain_per_cpu, 1),
        # No worker that keeps both identifiers' state can beat this per CPU-second.
        "ratio_ceiling_per_cpu": round(
            domain_per_cpu / baseline_per_cpu if baseline_per_cpu else 0.0, 4
        ),
        "latency_rate": latency.offered_rate,
        "latency_sent_rate": round(latency.sent_rate, 1),
        "latency_samples": len(samples),
        "latency_missing": latency.missing,
        # the rate offered exceeded what the worker sustains: latencies include queueing
        "saturated": bool(latency.missing) or latency.offered_rate > worker.eps,
        "p50_ms": round(percentile(samples, 50), 2),
        "p99_ms": round(percentile(samples, 99), 2),
        "max_ms": round(max(samples, default=0.0), 2),
        "rss_mb": round(max(memory.get("VmHWM", 0.0), worker.rss_peak_mb), 1),
        "rss_last_mb": round(memory.get("VmRSS", 0.0), 1),
        "cpus": os.cpu_count(),
    }


def per_cpu(events: int, cpu: float) -> float:
    return events / cpu if cpu > 0 else 0.0


def plot_available() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def rates_over(
    samples: Sequence[Progress], window: int, healthy_at: float
) -> tuple[list[float], list[float], list[float]]:
    """Committed transfers/s and identifier events/s over `window` samples (commits are 1 s
    apart, samples 0.5 s: single-sample rates would saw-tooth). Identifier events are only
    sampled once the worker is healthy: windows that start earlier show none."""
    times, intake, matching = [], [], []
    for before, after in zip(samples, samples[window:], strict=False):
        span = after.at - before.at
        times.append(after.at)
        intake.append((after.transfers - before.transfers) / span)
        events = after.identifier_events - before.identifier_events
        matching.append(events / span if before.at > healthy_at else 0.0)
    return times, intake, matching


def draw_plot(
    path: str, baseline: BaselineResult, worker: WorkerResult, latency: LatencyResult
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    times, intake, matching = rates_over(worker.samples, 4, worker.startup_seconds)
    left.plot(times, intake, label="worker intake (transfers committed/s)")
    left.plot(times, matching, label="worker matching (identifier events committed/s)")
    left.axhline(baseline.eps, color="grey", linestyle="--", label="aiokafka baseline")
    left.axhline(worker.eps, color="tab:blue", linestyle="--", label="worker, end to end")
    left.axvline(worker.startup_seconds, color="green", linestyle=":", label="worker healthy")
    left.set_yscale("symlog", linthresh=10)
    left.set_ylim(bottom=0)
    left.set_xlabel("seconds since the worker started")
    left.set_ylabel("records per second (2 s windows)")
    left.set_title(f"Throughput, {worker.events:,} preloaded transfers")
    left.legend()
    samples = latency.latencies_ms
    if samples:
        right.hist(samples, bins=60, color="tab:orange")
        for q, style in ((50, "-"), (99, "--")):
            right.axvline(percentile(samples, q), color="black", linestyle=style, label=f"p{q}")
        right.legend()
    right.set_xlabel("transfer sent -> hold readable by the bank (ms)")
    right.set_ylabel("transfers")
    right.set_title(f"Latency at {latency.offered_rate:,.0f} transfers/s offered")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ---------------------------------------------------------------------------- the verb


async def prepare_topics(bootstrap: str, partitions: int) -> None:
    names = (*settings.topics.external(), BASELINE_TOPIC)
    await ensure_topics(bootstrap, names, partitions, settings.replication_factor, client_options())
    have = len(await end_offsets(bootstrap, settings.topics.transfers))
    if have != partitions:
        say(f"note: {settings.topics.transfers} already has {have} partitions, not {partitions}")


async def run_bench(
    broker_url: str, embedded: bool, workdir: Path, options: dict[str, Any]
) -> dict[str, Any]:
    bootstrap = broker_url.replace("kafka://", "").replace(";", ",")
    topics = settings.topics
    tag = f"b{int(time.time()) % 10**6:06d}"
    partitions = options["partitions"]
    await prepare_topics(bootstrap, partitions)
    # Only this run's commands matter (filtered by transfer id), so a late start is harmless.
    commands_from = await end_offsets(bootstrap, topics.bank_commands)

    say(f"building {options['events']:,} transfers, {options['reported']:,} reported accounts")
    data = build_dataset(options["events"], options["reported"], options["hit_fraction"], tag)
    say(
        f"{data.hits:,} transfers hit a reported account ({data.expected_holds:,} holds due); "
        f"{data.record_bytes:.0f} bytes a transfer"
    )
    await publish(bootstrap, topics.reports, data.reports, "reports")
    preloaded = await publish(bootstrap, topics.transfers, data.transfers, "preload")
    say(f"preloaded in {preloaded.seconds:.1f} s")

    say("phase 1: aiokafka baseline")
    baseline = await run_baseline(bootstrap, topics.transfers, preloaded, data.watched)
    say(f"baseline: {baseline.eps:,.0f} transfers/s, {baseline.commands:,} hold commands")
    domain_cpu = domain_cpu_seconds([value for _, value in data.transfers], settings.policy)
    say(f"domain work alone: {per_cpu(len(data.transfers), domain_cpu):,.0f} transfers/CPU-s")

    say("phase 2: antifraud worker")
    reader = await CommandReader(bootstrap, topics.bank_commands, commands_from).start()
    env = worker_env(partitions, embedded)
    count = options["workers"]
    workers = [
        WorkerProcess(broker_url, workdir, env, name=f"bench-worker-{n}") for n in range(count)
    ]
    try:
        timeout = 180.0 + len(data.transfers) / 100
        result = await run_worker(workers, bootstrap, reader, data, preloaded, timeout)
        say(f"worker: {result.eps:,.0f} transfers/s ({result.eps / baseline.eps:.1%} of baseline)")

        say(f"phase 3: latency at {options['rate']:,.0f}/s for {options['latency_seconds']:.0f} s")
        maker = TransferMaker(reported_accounts(options["reported"]), seed=23)
        latency = await run_latency(
            bootstrap, reader, maker, tag, options["rate"], options["latency_seconds"]
        )
        say(
            f"latency: p50 {percentile(latency.latencies_ms, 50):.0f} ms, "
            f"p99 {percentile(latency.latencies_ms, 99):.0f} ms"
        )
        memory = peak_memory_mb(workers)
    finally:
        await reader.stop()
        await asyncio.gather(*(asyncio.to_thread(w.stop) for w in workers))
    figures = summary(
        data, baseline, domain_cpu, result, count, latency, memory, broker_url, partitions
    )
    if options["plot"]:
        draw_plot(options["plot"], baseline, result, latency)
        say(f"plot written to {options['plot']}")
    return figures


@app.command(
    option("--events", type=int, default=20_000, show_default=True, help="Transfers preloaded."),
    option("--partitions", type=int, default=8, show_default=True, help="Transfer partitions."),
    option("--rate", type=float, default=2000.0, show_default=True, help="Latency phase, /s."),
    option("--latency-seconds", type=float, default=20.0, show_default=True),
    option("--reported", type=int, default=1000, show_default=True, help="Reported accounts."),
    option("--hit-fraction", type=float, default=0.01, show_default=True),
    option("--broker", default="", help="kafka://host:port (default: start an embedded one)."),
    option("--plot", default="", help="Draw latency and throughput to this PNG (needs [plot])."),
    option("--workers", type=int, default=1, show_default=True, help="Workers in the group."),
)
async def bench(
    self: object,
    events: int,
    partitions: int,
    rate: float,
    latency_seconds: float,
    reported: int,
    hit_fraction: float,
    broker: str,
    plot: str,
    workers: int,
) -> None:
    """Measure the worker against a raw aiokafka baseline on the same broker and data."""
    if plot and not plot_available():
        print(
            "bench: --plot needs matplotlib: pip install 'antifraud[plot]' (or matplotlib)",
            file=sys.stderr,
        )
        raise SystemExit(2)
    options = {
        "events": events,
        "partitions": partitions,
        "rate": rate,
        "latency_seconds": latency_seconds,
        "reported": reported,
        "hit_fraction": hit_fraction,
        "plot": plot,
        "workers": max(1, workers),
    }

    async def measure(url: str, embedded: bool, workdir: Path) -> dict[str, Any]:
        return await run_bench(url, embedded, workdir, options)

    await on_broker(broker, "antifraud-bench-", measure)


Measure = Callable[[str, bool, Path], Awaitable[dict[str, Any]]]


async def on_broker(broker: str, prefix: str, measure: Measure) -> None:
    """Run `measure(url, embedded, workdir)` on `broker`, or on an embedded one started here,
    and print its figures as the last stdout line; logs stay in workdir when it fails."""
    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    embedded = None if broker else EmbeddedBroker(log_file=workdir / "broker.log")
    try:
        if embedded is not None:
            embedded.start()
            say(f"embedded broker on {embedded.url}")
        url = broker or (embedded.url if embedded else "")
        figures = await measure(url, embedded is not None, workdir)
    except BaseException:
        traceback.print_exc()
        say(f"failed; logs kept in {workdir}")
        raise SystemExit(1) from None
    finally:
        if embedded is not None:
            embedded.stop()
    shutil.rmtree(workdir, ignore_errors=True)
    print(orjson.dumps(figures).decode(), flush=True)
