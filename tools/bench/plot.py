"""`antifraud bench --plot`: throughput over the worker's run and the latency histogram."""

from __future__ import annotations

from collections.abc import Sequence

from antifraud.tools.bench.baseline import BaselineResult
from antifraud.tools.bench.figures import percentile
from antifraud.tools.bench.latency import LatencyResult
from antifraud.tools.bench.worker_run import Progress, WorkerResult


def plot_available() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def rates_over(
    samples: Sequence[Progress], window: int, healthy_at: float
) -> tuple[list[float], list[float], list[float]]:
    """Committed transfers/s and identifier events/s over `window` samples (commits are 1 s
    apart, samples 0.5 s: single-sample rates would saw-tooth). Identifier events are only
    sampled once the worker is healthy: windows that start earlier show none."""
    times, intake, matching = [], [], []
    for before, after in zip(samples, samples[window:], strict=False):
        span = after.at - before.at
        times.append(after.at)
        intake.append((after.transfers - before.transfers) / span)
        events = after.identifier_events - before.identifier_events
        matching.append(events / span if before.at > healthy_at else 0.0)
    return times, intake, matching


def draw_plot(
    path: str, baseline: BaselineResult, worker: WorkerResult, latency: LatencyResult
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    times, intake, matching = rates_over(worker.samples, 4, worker.startup_seconds)
    left.plot(times, intake, label="worker intake (transfers committed/s)")
    left.plot(times, matching, label="worker matching (identifier events committed/s)")
    left.axhline(baseline.eps, color="grey", linestyle="--", label="aiokafka baseline")
    left.axhline(worker.eps, color="tab:blue", linestyle="--", label="worker, end to end")
    left.axvline(worker.startup_seconds, color="green", linestyle=":", label="worker healthy")
    left.set_yscale("symlog", linthresh=10)
    left.set_ylim(bottom=0)
    left.set_xlabel("seconds since the worker started")
    left.set_ylabel("records per second (2 s windows)")
    left.set_title(f"Throughput, {worker.events:,} preloaded transfers")
    left.legend()
    samples = latency.latencies_ms
    if samples:
        right.hist(samples, bins=60, color="tab:orange")
        for q, style in ((50, "-"), (99, "--")):
            right.axvline(percentile(samples, q), color="black", linestyle=style, label=f"p{q}")
        right.legend()
    right.set_xlabel("transfer sent -> hold readable by the bank (ms)")
    right.set_ylabel("transfers")
    right.set_title(f"Latency at {latency.offered_rate:,.0f} transfers/s offered")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
