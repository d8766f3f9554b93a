"""`antifraud audit verify`: read the audit topic and check every hash chain in it."""

from __future__ import annotations

import sys
from collections import defaultdict
from typing import Any

import click
import orjson
from faust.cli import argument, option

from antifraud.core.audit_chain import ChainVerdict, verify_chain
from antifraud.harness.kafka_io import read_topic
from antifraud.streams.app import app, settings
from antifraud.streams.kafka_security import kafka_python_security_options


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
