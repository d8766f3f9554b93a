"""Phase 1: a raw aiokafka loop doing intake and matching's work at its cheapest.

Decode and validate each transfer, look its recipient up in a dict of watched identifiers,
produce the hold commands the contract promises for a hit, and commit per batch once the
sends are acknowledged: what any Kafka consumer must do at the least.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import orjson
from aiokafka import TopicPartition

from antifraud.core.command_ids import hold_command_id
from antifraud.core.intake import Rejected, parse_transfer
from antifraud.core.policy import Policy
from antifraud.core.records import Transfer
from antifraud.harness import kafka_io
from antifraud.streams.app import settings
from antifraud.tools.bench.measure import own_cpu_seconds
from antifraud.tools.bench.preload import Published

BASELINE_GROUP = "antifraud-bench-baseline"
BASELINE_TOPIC = "antifraud.bench.baseline-commands"


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
    consumer = kafka_io.consumer(bootstrap, group_id=BASELINE_GROUP)
    producer = kafka_io.producer(bootstrap, linger_ms=2)
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
            now = time.time()
            for tp, records in batches.items():
                for record in records:
                    if record.offset >= end[tp.partition]:
                        continue
                    remaining -= 1
                    try:
                        parsed = parse_transfer(record.value, limit, now=now)
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
