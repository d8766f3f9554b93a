"""Phase 3: transfers offered at a fixed rate; for each hit, the time from its send to its
first hold command being readable by a bank."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass

import orjson

from antifraud.harness import kafka_io
from antifraud.streams.app import settings
from antifraud.tools.bench.bank_side import CommandReader
from antifraud.tools.bench.dataset import TransferMaker, hit_indices
from antifraud.tools.bench.runner import say

LATENCY_HIT_FRACTION = 0.05  # more samples for the percentiles than the 1 % of phase 1
LATENCY_DRAIN_SECONDS = 60.0  # after the last send, how long to wait for the last holds


@dataclass
class LatencyResult:
    """`latencies_ms` has one entry a hit; a hold still missing at the end counts as the time
    waited so far, so the percentiles are then lower bounds (`missing` > 0)."""

    offered_rate: float
    sent_rate: float
    latencies_ms: list[float]
    missing: int


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
    producer = kafka_io.producer(bootstrap, linger_ms=1)
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
