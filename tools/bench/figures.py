"""The figures `antifraud bench` prints: one flat JSON object from the three phases."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from antifraud.tools.bench.baseline import BaselineResult
from antifraud.tools.bench.dataset import Dataset
from antifraud.tools.bench.latency import LatencyResult
from antifraud.tools.bench.worker_run import WorkerResult


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, round(q / 100 * len(ordered) + 0.5 - 1e-9))
    return ordered[min(len(ordered), rank) - 1]


def per_cpu(events: int, cpu: float) -> float:
    return events / cpu if cpu > 0 else 0.0


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
