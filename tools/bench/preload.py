"""Records onto the broker before a phase starts, and where they landed."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import TopicPartition

from antifraud.harness import kafka_io
from antifraud.tools.bench.runner import say


async def end_offsets(bootstrap: str, topic: str) -> dict[int, int]:
    """Partition -> end offset; empty when the topic does not exist (yet)."""
    consumer = kafka_io.consumer(bootstrap)
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
    producer = kafka_io.producer(bootstrap, linger_ms=5, max_batch_size=256 * 1024)
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
