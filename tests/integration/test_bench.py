"""`antifraud bench` end to end: its own embedded broker, a real worker, one JSON line at the end.

Figures are not asserted (the machine is shared); only that every one is there and sane.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest

KEYS = {
    "events",
    "baseline_eps",
    "worker_eps",
    "ratio",
    "latency_rate",
    "p50_ms",
    "p99_ms",
    "max_ms",
    "rss_mb",
}


def test_bench_prints_one_json_line_with_every_figure(tmp_path: Path) -> None:
    antifraud = Path(sys.executable).parent / "antifraud"
    options = ["--events", "5000", "--latency-seconds", "3", "--rate", "200", "--workers", "2"]
    run = subprocess.run(
        [str(antifraud), "bench", *options],
        cwd=tmp_path,
        capture_output=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr.decode(errors="replace")[-4000:]
    last = run.stdout.decode().strip().splitlines()[-1]
    figures = orjson.loads(last)

    assert figures.keys() >= KEYS
    assert figures["events"] == 5000
    for key in KEYS:
        assert figures[key] > 0, key
    assert figures["ratio"] == pytest.approx(
        figures["worker_eps"] / figures["baseline_eps"], rel=1e-3, abs=1e-4
    )
    assert figures["p50_ms"] <= figures["p99_ms"] <= figures["max_ms"]
    assert figures["latency_rate"] == 200
    assert figures["workers"] == 2  # one group of two, sharing the partitions


def test_bench_state_recovers_the_tables_it_filled_and_reads_them_back(tmp_path: Path) -> None:
    antifraud = Path(sys.executable).parent / "antifraud"
    shape = ["--watched", "3000", "--inflight", "10000", "--per-identifier", "5"]
    run = subprocess.run(
        [str(antifraud), "bench-state", *shape, "--lookups", "3000"],
        cwd=tmp_path,
        capture_output=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr.decode(errors="replace")[-4000:]
    figures = orjson.loads(run.stdout.decode().strip().splitlines()[-1])

    # 3,000 watched identifiers, then 2,000 recipients and 2,000 senders of 5 transfers each
    assert figures["state_records"] == 7_000
    assert figures["inflight_transfers"] == 10_000
    # Two lookups in three ask for a written identifier; each must be found after recovery.
    assert figures["lookups"] == 3_000
    assert figures["found"] == 2_000
    for key in ("recovery_seconds", "restart_seconds", "rss_mb", "lookups_per_s"):
        assert figures[key] > 0, key
    # The takeover restart came up healthy; at this size (about 875 records a partition)
    # Faust replays the taken-over partitions itself, below the bulk threshold.
    assert figures["takeover_seconds"] > 0
    assert figures["takeover_bulk_partitions"] == 0
