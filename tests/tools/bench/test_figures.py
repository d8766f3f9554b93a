"""`antifraud bench`'s figures: the JSON object it prints, from the three phases' results."""

from __future__ import annotations

import pytest

from antifraud.tools.bench.baseline import BaselineResult
from antifraud.tools.bench.dataset import Dataset
from antifraud.tools.bench.figures import per_cpu, percentile, summary
from antifraud.tools.bench.latency import LatencyResult
from antifraud.tools.bench.plot import rates_over
from antifraud.tools.bench.worker_run import Progress, WorkerResult

# The printed keys, in order: scripts and the performance notes read them by name.
KEYS = [
    "events",
    "record_bytes",
    "reported_accounts",
    "hits",
    "expected_holds",
    "partitions",
    "broker",
    "baseline_eps",
    "baseline_seconds",
    "baseline_cpu_seconds",
    "worker_eps",
    "worker_seconds",
    "worker_cpu_seconds",
    "worker_startup_seconds",
    "ratio",
    "baseline_events_per_cpu_s",
    "worker_events_per_cpu_s",
    "workers",
    "domain_events_per_cpu_s",
    "ratio_ceiling_per_cpu",
    "latency_rate",
    "latency_sent_rate",
    "latency_samples",
    "latency_missing",
    "saturated",
    "p50_ms",
    "p99_ms",
    "max_ms",
    "rss_mb",
    "rss_last_mb",
    "cpus",
]


@pytest.mark.parametrize("q,expected", [(0, 1.0), (50, 5.0), (90, 9.0), (99, 10.0), (100, 10.0)])
def test_percentile_is_nearest_rank(q: float, expected: float) -> None:
    assert percentile([float(v) for v in range(10, 0, -1)], q) == expected


def test_percentile_and_per_cpu_of_nothing_are_zero() -> None:
    assert percentile([], 50) == 0.0
    assert per_cpu(1000, 0.0) == 0.0
    assert per_cpu(1000, 0.5) == 2000.0


def test_summary_keys_and_ratios() -> None:
    data = Dataset(tag="t", transfers=[(b"k", b"x" * 300)] * 1000, hits=10, expected_holds=15)
    data.watched = {"phone:+77011234567": "HSBKKZKX"}
    figures = summary(
        data,
        BaselineResult(events=1000, seconds=0.1, cpu_seconds=0.05, commands=15, rejected=0),
        domain_cpu=0.2,
        worker=WorkerResult(
            events=1000, seconds=1.0, cpu_seconds=0.5, startup_seconds=3.0, samples=[]
        ),
        workers=2,
        latency=LatencyResult(
            offered_rate=2000.0, sent_rate=1990.0, latencies_ms=[5.0, 7.0], missing=0
        ),
        memory={"VmHWM": 300.0, "VmRSS": 250.0},
        broker="kafka://127.0.0.1:9092",
        partitions=8,
    )
    assert list(figures) == KEYS
    assert figures["record_bytes"] == 300 and figures["reported_accounts"] == 1
    assert figures["baseline_eps"] == 10_000.0 and figures["worker_eps"] == 1000.0
    assert figures["ratio"] == 0.1
    assert figures["baseline_events_per_cpu_s"] == 20_000.0
    assert figures["worker_events_per_cpu_s"] == 2000.0
    assert figures["domain_events_per_cpu_s"] == 5000.0
    assert figures["ratio_ceiling_per_cpu"] == 0.25
    assert figures["saturated"] is True  # 2,000/s offered to a worker that does 1,000/s
    assert (figures["p50_ms"], figures["p99_ms"], figures["max_ms"]) == (5.0, 7.0, 7.0)
    assert figures["rss_mb"] == 300.0 and figures["rss_last_mb"] == 250.0


def test_plotted_rates_are_over_windows_and_matching_starts_once_healthy() -> None:
    samples = [
        Progress(at=t * 0.5, transfers=t * 100, identifier_events=t * 200, holds=0)
        for t in range(6)
    ]
    times, intake, matching = rates_over(samples, window=2, healthy_at=0.7)
    assert times == [1.0, 1.5, 2.0, 2.5]
    assert intake == [200.0] * 4
    assert matching == [0.0, 0.0, 400.0, 400.0]  # windows starting at 0 and 0.5 s: not healthy
