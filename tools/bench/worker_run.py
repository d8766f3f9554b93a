"""Phase 2: real `antifraud worker` processes (one group) consume the preloaded transfers.

Timed from the moment every worker is healthy to the moment the group has committed every
preloaded transfer and its identifier events and every expected hold is out, sampling the
group's committed offsets, the workers' CPU time and their memory on the way.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass

from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from antifraud.harness.kafka_io import client_options
from antifraud.harness.worker_process import WorkerProcess
from antifraud.streams.app import settings
from antifraud.tools.bench.bank_side import CommandReader
from antifraud.tools.bench.dataset import Dataset
from antifraud.tools.bench.measure import cpu_seconds, peak_memory_mb, pids_of
from antifraud.tools.bench.preload import Published
from antifraud.tools.bench.profiler import Profiler
from antifraud.tools.bench.runner import say

SAMPLE_SECONDS = 0.5


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
