"""`antifraud audit verify`: read the audit topic and check every hash chain in it."""

from __future__ import annotations

import sys
import time
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

import click
import orjson
from faust.cli import argument, option
from kafka import KafkaConsumer, TopicPartition

from antifraud.core.audit_chain import ChainVerdict, verify_chain
from antifraud.streams.app import app, settings
from antifraud.streams.kafka_security import kafka_python_security_options


def read_topic(bootstrap: str, topic: str, security: Mapping[str, Any] | None = None) -> list[Any]:
    """Every record of `topic`, partition by partition, up to the end offsets seen at the start."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        group_id=None,
        **(security or {}),
    )
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        if not tps:
            return []
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        ends = consumer.end_offsets(tps)
        records: list[Any] = []
        remaining = {tp for tp in tps if ends[tp] > 0}
        while remaining:
            for tp, batch in consumer.poll(timeout_ms=1000).items():
                records.extend(batch)
                if consumer.position(tp) >= ends[tp]:
                    remaining.discard(tp)
        # Some brokers (the embedded one) report the last batch's base offset as the end:
        # keep reading until nothing more comes (at most 10 s more on a busy topic), so the
        # tail of a chain is not left out.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (batches := consumer.poll(timeout_ms=500)):
            for batch in batches.values():
                records.extend(batch)
        return records
    finally:
        consumer.close()


def verify_records(records: list[Any]) -> dict[str, ChainVerdict]:
    chains: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        try:
            value = orjson.loads(record.value)
            chain = str(value.get("chain", f"partition-{record.partition}"))
        except (orjson.JSONDecodeError, AttributeError):
            value, chain = {}, f"partition-{record.partition}"
        chains[chain].append(value)
    return {chain: verify_chain(values) for chain, values in sorted(chains.items())}


@app.command(
    argument("action", type=click.Choice(["verify"])),
    option("--topic", default=None, help="Audit topic (default: the configured one)."),
)
async def audit(self: Any, action: str, topic: str | None) -> None:
    """Check the hash chains of the audit trail; exit 1 at the first broken link."""
    name = topic or settings.topics.audit
    records = read_topic(
        settings.bootstrap_servers, name, kafka_python_security_options(settings.security)
    )
    verdicts = verify_records(records)
    broken = {c: v for c, v in verdicts.items() if not v.intact}
    for chain, verdict in verdicts.items():
        state = (
            "intact"
            if verdict.intact
            else (f"BROKEN at seq {verdict.first_broken_seq}: {verdict.reason}")
        )
        print(f"{chain}: {verdict.checked} records, {state}")
    if broken:
        print(f"audit trail of {name}: {len(broken)} broken chain(s)")
        sys.exit(1)
    print(f"audit trail of {name}: {len(records)} records in {len(verdicts)} chains, all intact")
