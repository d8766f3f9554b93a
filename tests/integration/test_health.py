"""`/health` answers 503 until the worker processes, then 200 (what an orchestrator probes)."""

from __future__ import annotations

import time
from pathlib import Path

from antifraud.harness.worker_process import WorkerProcess
from tests.integration.conftest import Broker, isolated_env


def test_health_is_503_until_processing_then_200(
    broker: Broker, worker_env: dict[str, str], tmp_path: Path
) -> None:
    env = {**isolated_env(worker_env, "antifraud-health"), "ANTIFRAUD_STORE": "memory://"}
    worker = WorkerProcess(broker.url, tmp_path, env, name="health-worker")
    seen: list[int] = []
    worker.start(wait=False)  # we watch it come up
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (not seen or seen[-1] != 200):
            status = worker.health()
            if status and (not seen or seen[-1] != status):
                seen.append(status)
            time.sleep(0.02)
        assert seen[-1] == 200, worker.log_tail()
        assert 503 in seen, f"statuses seen: {seen}"
        assert worker.metrics().count("antifraud_up 1.0") == 1
    finally:
        worker.stop()
