"""`antifraud bench-state`: the identifier-state table at national scale.

It fills the identifier-state changelog with what `--watched` reported identifiers and
`--inflight` transfers in flight leave there: one record per identifier, the way a
compacted changelog holds them, encoded by the worker's own `antifraud.core.serde.dump_state`.
Each transfer sits in its recipient's state (for holds) and in its sender's (for
following the money), `--per-identifier` transfers to an identifier. Then it measures:

1. recovery: a real `antifraud worker` with an empty disk rebuilds its RocksDB tables
   from that changelog, timed from start to `/health` 200, with the worker's peak RSS;
2. restart: the same worker stopped cleanly and started again, its tables on disk;
3. lookups: random reads of identifier state from the RocksDB files that worker left
   (a read and a `load_state` decode, as the matching agent does), as lookups per second;
4. takeover: the worker restarts as if every partition but one had been another worker's
   that died (their files removed, partition 0 recorded as its own), timed to `/health` 200.

The last stdout line is one JSON object.
"""

from __future__ import annotations

import asyncio
import math
import random
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from faust.cli import option
from mode.utils.compat import want_bytes
from rocksdict import AccessType, Rdict

from antifraud.core.identifiers import Identifier
from antifraud.core.matching import IdentifierState, Support
from antifraud.core.partitioning import owner_partition
from antifraud.core.records import Transfer
from antifraud.core.serde import dump_state, load_state
from antifraud.core.transfer_rows import TransferRows
from antifraud.harness import kafka_io
from antifraud.harness.simulation import make_iban, make_phone
from antifraud.harness.worker_process import WorkerProcess
from antifraud.streams.app import app, settings
from antifraud.streams.local_state import record_assignment
from antifraud.streams.settings import bootstrap_servers
from antifraud.streams.table_preload import recovered_in_bulk
from antifraud.streams.topic_admin import ensure_topics
from antifraud.tools.bench.measure import memory_mb
from antifraud.tools.bench.runner import on_broker, say, worker_env

TABLE = "identifier-state"
NOW = 1_795_000_000.0  # a fixed clock: the data set is the same in every run


@dataclass(frozen=True)
class Shape:
    watched: int
    inflight: int
    per_identifier: int

    @property
    def accounts(self) -> int:
        """Recipients, and as many senders: each holds `per_identifier` transfers."""
        return max(1, self.inflight // self.per_identifier)

    @property
    def transfers(self) -> int:
        return self.accounts * self.per_identifier


def watched_key(i: int) -> str:
    return f"phone:{make_phone(10_000_000 + i)}"


def recipient_key(i: int) -> str:
    return f"iban:{make_iban('722', 40_000_000_000 + i)}"


def sender_key(i: int) -> str:
    return f"iban:{make_iban('551', 50_000_000_000 + i)}"


class Transfers:
    """Transfer n goes to recipient n // k; a fixed permutation spreads the senders.

    Sender s sends the transfers whose permuted slot falls in s's k slots, so a sender's
    state can be built without holding all transfers in memory.
    """

    STEP = 2_654_435_761  # a large prime: spreads neighbouring transfers over distant senders

    def __init__(self, shape: Shape) -> None:
        self.k = shape.per_identifier
        self.n = shape.transfers
        step = self.STEP % self.n or 1
        while math.gcd(step, self.n) != 1:
            step += 1
        self.step = step
        self.inverse = pow(step, -1, self.n) if self.n > 1 else 0

    def sender_of(self, n: int) -> int:
        return (n * self.step) % self.n // self.k

    def of_sender(self, s: int) -> list[int]:
        return [((s * self.k + j) * self.inverse) % self.n for j in range(self.k)]

    def transfer(self, n: int) -> Transfer:
        return Transfer(
            bank_id="CASPKZKA",
            transfer_id=f"T{n:010d}",
            sender=Identifier.from_key(sender_key(self.sender_of(n))),
            sender_bank="CASPKZKA",
            recipient=Identifier.from_key(recipient_key(n // self.k)),
            recipient_bank="HSBKKZKX",
            amount=10_000 + n % 5_000_000,
            currency="KZT",
            status="initiated",
            created_at=NOW - n % 86_400,
        )


def states(shape: Shape) -> Iterator[tuple[str, IdentifierState]]:
    """Every identifier's state: watched ones, then recipients, then senders."""
    for i in range(shape.watched):
        report_id = f"R-{i // 3}"
        support = Support(report_id, "bank_impersonation", NOW - i % 3_600, 0)
        yield watched_key(i), IdentifierState(banks=["HSBKKZKX"], supports={report_id: support})
    transfers = Transfers(shape)
    k = shape.per_identifier
    for r in range(shape.accounts):
        inflight = [transfers.transfer(r * k + j) for j in range(k)]
        yield recipient_key(r), IdentifierState(inflight=TransferRows(inflight))
    for s in range(shape.accounts):
        outflows = [transfers.transfer(n) for n in transfers.of_sender(s)]
        yield sender_key(s), IdentifierState(outflows=TransferRows(outflows))


@dataclass
class Filled:
    records: int
    bytes: int
    seconds: float


async def fill_changelog(bootstrap: str, topic: str, shape: Shape, partitions: int) -> Filled:
    """Write the states to the changelog partitions that own them, in producer batches.

    Each partition's last record goes alone in a batch of its own: the embedded broker
    reports a partition's end as the base offset of its last batch plus one, and Faust
    stops recovering a changelog at that end, so a last batch of many records would be
    recovered as one.
    """
    producer = kafka_io.producer(bootstrap, acks=1, linger_ms=20, max_batch_size=1 << 20)
    await producer.start()
    started = time.monotonic()
    batches: dict[int, Any] = {}
    held: dict[int, tuple[bytes, bytes]] = {}  # each partition's latest record, sent last
    pending: list[asyncio.Future[Any]] = []
    records = size = 0

    async def add(partition: int, key: bytes, value: bytes) -> None:
        batch = batches.get(partition)
        if batch is None:
            batch = batches[partition] = producer.create_batch()
        if batch.append(key=key, value=value, timestamp=None) is None:
            pending.append(await producer.send_batch(batch, topic, partition=partition))
            batch = batches[partition] = producer.create_batch()
            batch.append(key=key, value=value, timestamp=None)

    try:
        for key, state in states(shape):
            raw_key, raw_value = key.encode(), dump_state(state)
            partition = owner_partition(key, partitions)
            if partition in held:
                await add(partition, *held[partition])
            held[partition] = (raw_key, raw_value)
            records += 1
            size += len(raw_key) + len(raw_value)
            if records % 250_000 == 0:
                say(f"  {records:,} state records, {size / 2**20:,.0f} MiB")
                await asyncio.gather(*pending)
                pending.clear()
        for partition, batch in batches.items():
            if batch.record_count():
                pending.append(await producer.send_batch(batch, topic, partition=partition))
        await asyncio.gather(*pending)
        await asyncio.gather(
            *[
                await producer.send(topic, key=key, value=value, partition=partition)
                for partition, (key, value) in held.items()
            ]
        )
    finally:
        await producer.stop()
    return Filled(records, size, time.monotonic() - started)


def timed_start(worker: WorkerProcess, timeout: float) -> float:
    started = time.monotonic()
    worker.start(timeout=timeout)
    return time.monotonic() - started


def take_over(worker: WorkerProcess, tables: Path, timeout: float) -> dict[str, Any]:
    """The stopped worker restarts as if partitions 1.. had been another worker's that died:
    their files gone, partition 0 recorded as its own. They come with the join, as far
    behind as a file can be, and are recovered after it
    (streams/faust_internals/bulk_recovery.py)."""
    for path in tables.glob("*.db"):
        if not path.stem.endswith("-0"):
            shutil.rmtree(path)
    record_assignment(tables.parents[1], {0})
    before = len(worker.log_path.read_text())
    seconds = timed_start(worker, timeout)
    bulk = recovered_in_bulk(worker.log_path.read_text()[before:])
    return {
        "takeover_seconds": round(seconds, 1),
        "takeover_bulk_partitions": len(bulk),
        "takeover_bulk_records": sum(bulk.values()),
    }


def read_back(tables: Path, shape: Shape, count: int, seed: int = 7) -> dict[str, float]:
    """Random identifier-state reads, as the matching agent does them: get + decode.

    A third of the keys are watched identifiers, a third accounts with transfers in
    flight and a third unknown (the common case for an innocent transfer's recipient).
    """
    rng = random.Random(seed)
    partitions = sorted(tables.glob(f"{TABLE}-*.db"))
    dbs = {
        int(p.stem.rsplit("-", 1)[1]): Rdict(str(p), access_type=AccessType.read_only())
        for p in partitions
    }
    keys = []
    for i in range(count):
        pick = i % 3
        if pick == 0:
            keys.append(watched_key(rng.randrange(max(1, shape.watched))))
        elif pick == 1:
            keys.append(recipient_key(rng.randrange(shape.accounts)))
        else:
            keys.append(f"phone:+77059{rng.randrange(10**6):06d}")  # no state: never written
    found = 0
    started = time.perf_counter()
    for key in keys:
        raw = dbs[owner_partition(key, len(dbs))].get(key.encode())
        if raw is not None:
            load_state(want_bytes(raw))
            found += 1
    seconds = time.perf_counter() - started
    for db in dbs.values():
        db.close()
    return {"lookups": count, "found": found, "lookups_per_s": round(count / seconds, 1)}


async def run(
    broker_url: str, embedded: bool, workdir: Path, shape: Shape, lookup_count: int
) -> dict[str, Any]:
    bootstrap = bootstrap_servers(broker_url)
    partitions = settings.partitions
    topic = f"{settings.app_id}-{TABLE}-changelog"
    await ensure_topics(
        bootstrap,
        [topic],
        partitions,
        settings.replication_factor,
        kafka_io.client_options(),
        topic_config={"cleanup.policy": "compact"},
    )
    say(f"filling {topic}: {shape.watched:,} watched, {shape.transfers:,} transfers in flight")
    filled = await fill_changelog(bootstrap, topic, shape, partitions)
    say(f"  {filled.records:,} records, {filled.bytes / 2**20:,.0f} MiB in {filled.seconds:.0f} s")

    worker = WorkerProcess(
        broker_url, workdir, worker_env(partitions, embedded), name="state-worker"
    )
    timeout = 600.0 + filled.records / 2_000
    try:
        say("phase 1: recovery of the tables by a worker with an empty disk")
        recovery_s = await asyncio.to_thread(timed_start, worker, timeout)
        assert worker.process is not None
        memory = memory_mb(worker.process.pid)
        say(f"  healthy after {recovery_s:.1f} s, peak RSS {memory.get('VmHWM', 0):,.0f} MiB")
        await asyncio.to_thread(worker.stop)
        say("phase 2: clean restart with the tables on disk")
        restart_s = await asyncio.to_thread(timed_start, worker, timeout)
        assert worker.process is not None
        restart_memory = memory_mb(worker.process.pid)
        say(f"  healthy after {restart_s:.1f} s")
    finally:
        await asyncio.to_thread(worker.stop)
    tables = workdir / "state-worker-data" / "v1" / "tables"
    say("phase 3: lookups")
    read = read_back(tables, shape, lookup_count)
    say(f"  {read['lookups_per_s']:,.0f} lookups/s")
    say("phase 4: takeover of every partition but one")
    try:
        takeover = await asyncio.to_thread(take_over, worker, tables, timeout)
    finally:
        await asyncio.to_thread(worker.stop)
    say(f"  healthy after {takeover['takeover_seconds']:.1f} s")
    return {
        "watched": shape.watched,
        "inflight_transfers": shape.transfers,
        "state_records": filled.records,
        "state_mib": round(filled.bytes / 2**20, 1),
        "fill_seconds": round(filled.seconds, 1),
        "recovery_seconds": round(recovery_s, 1),
        "recovery_records_per_s": round(filled.records / recovery_s, 1),
        "rss_mb": round(memory.get("VmHWM", 0.0), 1),
        "restart_seconds": round(restart_s, 1),
        "restart_rss_mb": round(restart_memory.get("VmHWM", 0.0), 1),
        **read,
        **takeover,
        "partitions": partitions,
    }


@app.command(
    option("--watched", type=int, default=1_000_000, show_default=True),
    option("--inflight", type=int, default=5_000_000, show_default=True),
    option("--per-identifier", type=int, default=5, show_default=True),
    option("--lookups", type=int, default=200_000, show_default=True),
    option("--broker", default="", help="kafka://host:port (default: start an embedded one)."),
)
async def bench_state(
    self: object, watched: int, inflight: int, per_identifier: int, lookups: int, broker: str
) -> None:
    """Identifier state at national scale: table recovery time, RSS and lookups per second."""
    shape = Shape(watched, inflight, per_identifier)

    async def measure(url: str, embedded: bool, workdir: Path) -> dict[str, Any]:
        return await run(url, embedded, workdir, shape, lookups)

    await on_broker(broker, "antifraud-bench-state-", measure)
