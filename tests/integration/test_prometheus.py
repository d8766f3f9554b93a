"""A real Prometheus server scrapes the running worker; the business figures move through its API."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from antifraud.harness.ports import free_port, wait_for_port
from antifraud.harness.simulation import identifier, make_iban, make_phone, report, transfer
from antifraud.harness.worker_process import WorkerProcess
from tests.integration.bus import Bus
from tests.integration.conftest import REPORT_KEYS

SETUP_HINT = "run `make system-deps` (scripts/check-deploy installs Debian's prometheus)"


class Prometheus:
    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"

    def wait_ready(self, timeout: float) -> None:
        """The port opens before the TSDB is loaded; /-/ready says 200 only once queries work."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{self.base}/-/ready", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass  # HTTPError 503 and refused connections alike: not ready yet
            if time.monotonic() > deadline:
                raise AssertionError(f"Prometheus not ready after {timeout} s")
            time.sleep(0.2)

    def query(self, expression: str) -> float:
        url = f"{self.base}/api/v1/query?" + urllib.parse.urlencode({"query": expression})
        with urllib.request.urlopen(url, timeout=5) as response:
            body = json.load(response)
        assert body["status"] == "success", body
        result = body["data"]["result"]
        return float(result[0]["value"][1]) if result else 0.0

    def wait_until_above(self, expression: str, floor: float, timeout: float = 40.0) -> float:
        deadline = time.monotonic() + timeout
        while True:
            value = self.query(expression)
            if value > floor:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"{expression} stayed at {value} (needed > {floor})")
            time.sleep(0.5)


@pytest.fixture
def prometheus(worker: WorkerProcess, tmp_path: Path) -> Iterator[Prometheus]:
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.fail(f"prometheus is not on PATH: {SETUP_HINT}", pytrace=False)
    port = free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        "scrape_configs:\n  - job_name: antifraud\n    static_configs:\n"
        f"      - targets: ['127.0.0.1:{worker.web_port}']\n"
    )
    log = open(tmp_path / "prometheus.log", "wb")  # noqa: SIM115 (closed below)
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_port("127.0.0.1", port, 30)
        server = Prometheus(port)
        server.wait_ready(timeout=60)
        server.wait_until_above('up{job="antifraud"}', 0, timeout=30)
        yield server
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def test_prometheus_sees_the_business_figures_move(
    prometheus: Prometheus, bus: Bus, serial: int
) -> None:
    commands_before = prometheus.query("sum(antifraud_commands_total)")
    dead_before = prometheus.query('sum(antifraud_dead_letters_total{code="invalid_json"})')
    latency_before = prometheus.query("sum(antifraud_report_to_command_seconds_count)")
    phone = make_phone(serial + 61)
    now = time.time()
    bus.send(
        "antifraud.reports",
        report(f"R-prom-{serial}", [identifier("phone", phone, "HSBKKZKX")], now, keys=REPORT_KEYS),
        key=f"R-prom-{serial}",
    )
    bus.send(
        "antifraud.transfers",
        transfer(
            f"T-prom-{serial}",
            "CASPKZKA",
            identifier("iban", make_iban("722", 20_000_000 + serial)),
            identifier("phone", phone, "HSBKKZKX"),
            4_000_000,
            now,
        ),
        key=f"T-prom-{serial}",
    )
    bus.send("antifraud.transfers", b"not json at all", key=f"junk-prom-{serial}")
    bus.flush()
    # One freeze and two holds: three more commands, seen by Prometheus through its scrapes.
    prometheus.wait_until_above("sum(antifraud_commands_total)", commands_before + 2)
    prometheus.wait_until_above(
        'sum(antifraud_dead_letters_total{code="invalid_json"})', dead_before
    )
    prometheus.wait_until_above(
        "sum(antifraud_report_to_command_seconds_count)", latency_before + 2
    )
    assert prometheus.query('sum(antifraud_commands_total{type="hold_transfer"})') >= 2
    assert prometheus.query("antifraud_watched_identifiers") >= 1
    assert (
        prometheus.query('antifraud_records_total{topic="antifraud.transfers",outcome="accepted"}')
        >= 1
    )
    # Lag is measured per input topic on a timer; the figure exists for the contract's topics.
    prometheus.wait_until_above('count(antifraud_consumer_lag{topic="antifraud.transfers"})', 0)
    # Faust's own sensor shares the registry.
    assert prometheus.query("sum(faust_messages_received_total)") > 0
