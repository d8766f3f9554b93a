"""`antifraud simulate`: simulated banks and police against any broker, at a given rate.

The traffic engine (`antifraud.harness.traffic`) is the one `antifraud demo` runs; here it
runs alone against a broker, optionally with a bank desk acknowledging every command.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import sys
import time
from typing import Any

from faust.cli import option
from faust.cli.base import AppCommand

from antifraud.harness.kafka_io import TopicReader, client_options
from antifraud.harness.plain_command import PlainCommand, stop_on_signals
from antifraud.harness.simulation import Simulator
from antifraud.harness.traffic import BankDesk, Counts, Producer, Traffic
from antifraud.streams.app import app, settings
from antifraud.streams.settings import bootstrap_servers
from antifraud.streams.topic_admin import ensure_topics


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
    bootstrap = bootstrap_servers(broker or settings.broker)
    topics = settings.topics
    keys = parse_keys(report_keys)
    seed = seed if seed is not None else random.randrange(1 << 30)
    tag = f"S{seed:x}"
    counts = Counts()
    stop = asyncio.Event()
    restore = stop_on_signals(stop, "stopping (Ctrl-C again to quit at once)")
    producer = Producer(bootstrap, counts)
    reader = TopicReader(bootstrap, [topics.bank_commands], from_beginning=False) if acks else None
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


async def _acknowledge(reader: TopicReader, desk: BankDesk) -> None:
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
