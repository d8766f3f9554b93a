"""`antifraud bench`: a raw aiokafka baseline, the real worker, and latency at a fixed rate.

One run, one broker, one preloaded data set; the phases are described in
`antifraud.tools.bench` (the package). Progress goes to stderr; the last line on stdout is
one JSON object with the figures.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import Any

from faust.cli import option

from antifraud.harness.kafka_io import client_options
from antifraud.harness.worker_process import WorkerProcess
from antifraud.streams.app import app, settings
from antifraud.streams.settings import bootstrap_servers
from antifraud.streams.topic_admin import ensure_topics
from antifraud.tools.bench.bank_side import CommandReader
from antifraud.tools.bench.baseline import BASELINE_TOPIC, run_baseline
from antifraud.tools.bench.dataset import TransferMaker, build_dataset, reported_accounts
from antifraud.tools.bench.domain import domain_cpu_seconds
from antifraud.tools.bench.figures import per_cpu, percentile, summary
from antifraud.tools.bench.latency import run_latency
from antifraud.tools.bench.measure import peak_memory_mb
from antifraud.tools.bench.plot import draw_plot, plot_available
from antifraud.tools.bench.preload import end_offsets, publish
from antifraud.tools.bench.runner import on_broker, say, worker_env
from antifraud.tools.bench.worker_run import run_worker


async def prepare_topics(bootstrap: str, partitions: int) -> None:
    names = (*settings.topics.external(), BASELINE_TOPIC)
    await ensure_topics(bootstrap, names, partitions, settings.replication_factor, client_options())
    have = len(await end_offsets(bootstrap, settings.topics.transfers))
    if have != partitions:
        say(f"note: {settings.topics.transfers} already has {have} partitions, not {partitions}")


async def run_bench(
    broker_url: str, embedded: bool, workdir: Path, options: dict[str, Any]
) -> dict[str, Any]:
    bootstrap = bootstrap_servers(broker_url)
    topics = settings.topics
    tag = f"b{int(time.time()) % 10**6:06d}"
    partitions = options["partitions"]
    await prepare_topics(bootstrap, partitions)

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
    # Only this run's commands matter (filtered by transfer id): read from the topic's end now.
    reader = await CommandReader(bootstrap, topics.bank_commands).start()
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
