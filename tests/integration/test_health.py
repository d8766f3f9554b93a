"""`/health` answers 503 until the worker processes, then 200 (what an orchestrator probes), and
503 again while it cannot make progress (the contract's "Robustness promises", 3.)."""

from __future__ import annotations

import json
import os
import signal
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from kafka.admin import ConfigResource, KafkaAdminClient

from antifraud.harness.embedded_broker import EmbeddedBroker
from antifraud.harness.simulation import identifier, make_iban, make_phone, report, transfer
from antifraud.harness.worker_process import FAST_GROUP, WorkerProcess
from tests.integration.apache_kafka import ApacheKafka, java_available
from tests.integration.bus import Bus, about
from tests.integration.conftest import REPORT_KEYS, Broker, isolated_env

# The contract's promise, with the worker's defaults (ANTIFRAUD_HEALTH_*_SECONDS = 30).
WITHIN = 30.0
# The worker looks once a second and we probe every half second.
PROBE_MARGIN = 3.0


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


def health(worker: WorkerProcess) -> tuple[int, dict[str, str]]:
    """The status and body of /health."""
    url = f"http://127.0.0.1:{worker.web_port}/health"
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return int(response.status), json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return int(exc.code), json.loads(exc.read())


def seconds_until(
    worker: WorkerProcess, status: int, timeout: float
) -> tuple[float, dict[str, str]]:
    """How long until /health answers `status` (and with what), or fail after `timeout`."""
    start = time.monotonic()
    body: dict[str, str] = {}
    while time.monotonic() - start < timeout:
        seen, body = health(worker)
        if seen == status:
            return time.monotonic() - start, body
        time.sleep(0.5)
    raise AssertionError(f"/health not {status} after {timeout} s: {body}\n{worker.log_tail()}")


def metric(worker: WorkerProcess, name: str) -> float:
    """A metric summed over its series."""
    lines = worker.metrics().splitlines()
    return sum(float(line.split()[-1]) for line in lines if line.startswith(name))


def topic_names(bootstrap: str) -> set[str]:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        return set(admin.list_topics())
    finally:
        admin.close()


def set_min_insync_replicas(bootstrap: str, topics: list[str], count: int) -> None:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        changes = {"min.insync.replicas": str(count)}
        admin.alter_configs([ConfigResource("TOPIC", topic, changes) for topic in topics])
    finally:
        admin.close()


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[ApacheKafka, str]]:
    """Three Apache Kafka nodes of its own (RF 3, min.insync.replicas 2)."""
    with ApacheKafka() as kafka:
        yield kafka, kafka.start_cluster(tmp_path / "kafka")


@pytest.mark.apache_kafka
@pytest.mark.skipif(not java_available(), reason="needs java for Apache Kafka")
def test_a_worker_whose_writes_the_broker_refuses_is_503_within_30_s_and_loses_nothing(
    cluster: tuple[ApacheKafka, str], worker_env: dict[str, str], tmp_path: Path
) -> None:
    """Every topic the worker writes asks three in-sync replicas, and one broker of three
    stops: each write gets NOT_ENOUGH_REPLICAS, which the producer retries for its whole
    request timeout (20 minutes) without a word. /health says so within 30 s; once the
    topics take writes again it answers 200 and the transfer sent meanwhile is held.

    (Kafka 4 caps min.insync.replicas at the replication factor, so one broker cannot refuse
    writes this way.)"""
    kafka, bootstrap = cluster
    app_id = "antifraud-refused"
    env = {**isolated_env(worker_env, app_id), "ANTIFRAUD_REPLICATION_FACTOR": "3"}
    phone = make_phone(81)
    recipient = identifier("phone", phone, "HSBKKZKX")
    bus = Bus(bootstrap)
    commands = bus.reader(f"{app_id}.bank_commands")
    url = "kafka://" + bootstrap.replace(",", ";")
    worker = WorkerProcess(url, tmp_path, env, name="refused").start(timeout=180)
    try:
        bus.send(
            f"{app_id}.reports",
            report("R-refused", [recipient], time.time(), keys=REPORT_KEYS),
            key="r",
        )
        bus.flush()
        commands.wait_for(about([phone]), timeout=60)  # watched: the transfer will be held
        inputs = {f"{app_id}.{name}" for name in ("transfers", "reports", "bank_acks")}
        outputs = [t for t in sorted(topic_names(bootstrap)) if t.startswith(app_id)]
        outputs = [t for t in outputs if t not in inputs]
        assert f"{app_id}.internal.identifier-events" in outputs, outputs
        set_min_insync_replicas(bootstrap, outputs, 3)
        kafka.stop_node(3)
        seconds_until(worker, 200, 60)  # a broker gone is no problem by itself
        sender = identifier("iban", make_iban("722", 23_000_000))
        bus.send(
            f"{app_id}.transfers",
            transfer("T-refused", "CASPKZKA", sender, recipient, 70_000, time.time()),
            key="T-refused",
        )
        bus.flush()
        took, body = seconds_until(worker, 503, WITHIN + PROBE_MARGIN)
        print(f"\n[health] writes refused: 503 after {took:.1f} s: {body['state']}")
        assert body["status"] == "stalled", body
        assert metric(worker, "antifraud_writes_failing_seconds") >= WITHIN
        assert commands.values(lambda c: c["type"] == "hold_transfer") == []
        set_min_insync_replicas(bootstrap, outputs, 2)  # two in-sync replicas are enough again
        took, _ = seconds_until(worker, 200, 60)
        print(f"[health] writes taken again: 200 after {took:.1f} s")
        holds = commands.wait_for(
            lambda c: c["type"] == "hold_transfer" and about([phone])(c), count=2, timeout=60
        )
        assert {c["bank_id"] for c in holds} == {"CASPKZKA", "HSBKKZKX"}
        assert "event=worker_stalled" in worker.log_path.read_text()
        assert metric(worker, "antifraud_stalled_partitions") == 0
    finally:
        worker.stop()
        commands.close()
        bus.close()


def test_a_worker_whose_broker_stops_answering_is_503_within_30_s_then_200(
    broker: Broker, tmp_path: Path
) -> None:
    """The broker frozen (SIGSTOP): the worker hears nothing back, cannot move any partition,
    and says so; after SIGCONT it goes on."""
    if broker.lane != "embedded":
        pytest.skip("freezes an embedded broker of its own: run once, in the embedded lane")
    with EmbeddedBroker(log_file=tmp_path / "frozen-broker.log") as frozen:
        env = {
            **FAST_GROUP,
            "ANTIFRAUD_STORE": "memory://",
            "ANTIFRAUD_PARTITIONS": "2",
            "ANTIFRAUD_APP_ID": "antifraud-frozen",
        }
        worker = WorkerProcess(frozen.url, tmp_path, env, name="frozen").start()
        assert frozen.process is not None
        try:
            assert health(worker)[0] == 200
            os.kill(frozen.process.pid, signal.SIGSTOP)
            try:
                took, body = seconds_until(worker, 503, WITHIN + PROBE_MARGIN)
                print(f"\n[health] broker frozen: 503 after {took:.1f} s: {body}")
                assert body["status"] == "stalled", body
                assert "no answer from the broker" in body["state"]
            finally:
                os.kill(frozen.process.pid, signal.SIGCONT)
            took, _ = seconds_until(worker, 200, 90)
            print(f"[health] broker answering again: 200 after {took:.1f} s")
        finally:
            worker.stop()
