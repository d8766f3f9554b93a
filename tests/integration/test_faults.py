"""Faults: the big scenario through crashed workers, a lost broker and a stopped cluster.

Each test starts its own Apache Kafka and its own `antifraud worker` processes, pushes the
seeded scenario of `tests/integration/scenario.py` (50,000 transfers, 513 reports) through
them while something fails, and then holds the command topic against the expected set:

- every expected command was issued,
- no command id outside the expected set exists,
- each expected action has exactly one command id (a redelivery repeats the same id).

Duplicates (records whose id was already seen) are allowed by at-least-once delivery and
are counted, not forbidden. Figures (expected / issued distinct / duplicates / recovery
time after each fault) are printed and written to `faults-<test>.json` in the test's tmp dir.

Long on purpose: the four fault scenarios share one measurement and one report of
missing and duplicate commands, kept beside them.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient

from antifraud.harness.kafka_io import TopicLog, blocking_producer
from antifraud.harness.worker_process import WorkerProcess
from antifraud.streams.settings import broker_url
from antifraud.streams.table_preload import recovered_in_bulk
from tests.integration.apache_kafka import ApacheKafka, java_available
from tests.integration.scenario import COMMANDS, DEAD_LETTER, Record, Scenario, Tally, build

pytestmark = [
    pytest.mark.apache_kafka,
    pytest.mark.slow,
    pytest.mark.skipif(not java_available(), reason="needs java for Apache Kafka"),
]

KEYS = {"k": b"secret"}
PARTITIONS = 8
SEED = 20261129
# The issue asks for 50,000; a smaller figure is for trying the harness out locally only.
TRANSFERS = int(os.environ.get("ANTIFRAUD_FAULT_TRANSFERS", "50000"))
APP_ID = "antifraud"
COMPLETE_TIMEOUT = 600.0  # seconds for every expected command to appear after the faults
QUIET = 6.0  # seconds without a new command record before the books are closed
STALLED = 150.0  # seconds without any new command while some are still missing: give up
# Records per second the publisher offers: about what one worker manages on the 2-core CI
# machine, so the scenario is still being published and processed while the faults happen.
PACE = 2_000.0


def worker_env(replication_factor: int = 1) -> dict[str, str]:
    return {
        "ANTIFRAUD_STORE": "rocksdb://",
        "ANTIFRAUD_PARTITIONS": str(PARTITIONS),
        "ANTIFRAUD_REPLICATION_FACTOR": str(replication_factor),
        "ANTIFRAUD_SESSION_TIMEOUT": "6",
        "ANTIFRAUD_HEARTBEAT_INTERVAL": "1",
        "ANTIFRAUD_ACK_SLA_SECONDS": "3600",
        "ANTIFRAUD_REPORT_KEYS": ",".join(f"{k}={v.decode()}" for k, v in KEYS.items()),
    }


# ---------------------------------------------------------------------------- clients


class Publisher(threading.Thread):
    """Publishes the scenario like banks and police would: acks=all, batched, re-sending
    whatever the producer gave up on, at `rate` records per second (None: flat out)."""

    def __init__(self, bootstrap: str, records: list[Record], rate: float | None = None):
        super().__init__(name="publisher", daemon=True)
        self.bootstrap = bootstrap
        self.records = records
        self.rate = rate
        self.failed: list[Record] = []
        self.resent = 0
        self.error: BaseException | None = None
        self.done = threading.Event()
        self.started_at = 0.0
        self.finished_at = 0.0
        self._lock = threading.Lock()

    def _producer(self) -> KafkaProducer:
        return blocking_producer(
            self.bootstrap,
            linger_ms=20,
            batch_size=256 * 1024,
            delivery_timeout_ms=240_000,
            request_timeout_ms=30_000,
            max_block_ms=240_000,
        )

    def _send(self, producer: KafkaProducer, record: Record) -> None:
        def failed(_exc: BaseException) -> None:
            with self._lock:
                self.failed.append(record)

        future = producer.send(record.topic, key=record.key, value=record.value)
        future.add_errback(failed)

    def run(self) -> None:
        self.started_at = time.monotonic()
        try:
            producer = self._producer()
            try:
                for sent, record in enumerate(self.records):
                    if self.rate and sent % 250 == 0:
                        ahead = self.started_at + sent / self.rate - time.monotonic()
                        if ahead > 0:
                            time.sleep(ahead)
                    self._send(producer, record)
                producer.flush(timeout=300)
                for _ in range(10):
                    with self._lock:
                        again, self.failed = self.failed, []
                    if not again:
                        break
                    self.resent += len(again)
                    for record in again:
                        self._send(producer, record)
                    producer.flush(timeout=300)
                if self.failed:
                    raise RuntimeError(f"{len(self.failed)} records never reached the broker")
            finally:
                producer.close(timeout=30)
        except BaseException as exc:  # reported by wait()
            self.error = exc
        finally:
            self.finished_at = time.monotonic()
            self.done.set()

    def wait(self, timeout: float = 600.0) -> float:
        """Block until everything is on the broker; returns the seconds publishing took."""
        if not self.done.wait(timeout):
            raise TimeoutError(f"publishing not done after {timeout} s")
        if self.error is not None:
            raise self.error
        return self.finished_at - self.started_at


class Watcher(threading.Thread):
    """Reads the command and dead-letter topics from the beginning, for the whole test."""

    def __init__(self, bootstrap: str, expected: set[Any]):
        super().__init__(name="watcher", daemon=True)
        self.bootstrap = bootstrap
        self.tally = Tally(expected)
        self.dead_letters: list[dict[str, Any]] = []
        self.last_growth = time.monotonic()
        self.first_command_at: float | None = None
        self.complete_at: float | None = None
        self.stop = threading.Event()
        self.error: BaseException | None = None
        self._lock = threading.Lock()

    def run(self) -> None:
        try:
            reader = TopicLog(
                self.bootstrap,
                [COMMANDS, DEAD_LETTER],
                keep=False,
                max_partition_fetch_bytes=4 * 1024 * 1024,
            )
            try:
                while not self.stop.is_set():
                    batch = reader.poll()
                    with self._lock:
                        for message in batch:
                            value = orjson.loads(message.value)
                            if message.topic == DEAD_LETTER:
                                self.dead_letters.append(value)
                            else:
                                self.tally.add(value)
                            self.last_growth = time.monotonic()
                        if self.tally.records and self.first_command_at is None:
                            self.first_command_at = time.monotonic()
                        if self.complete_at is None and self.tally.complete():
                            self.complete_at = time.monotonic()
            finally:
                reader.close()
        except BaseException as exc:
            self.error = exc

    def snapshot(self) -> tuple[int, bool]:
        with self._lock:
            return self.tally.records, self.tally.complete()

    def wait_complete(self, timeout: float = COMPLETE_TIMEOUT, quiet: float = QUIET) -> float:
        """Until every expected command is there and nothing new came for `quiet` seconds;
        -1 when the deadline passed or nothing came for `STALLED` seconds with some missing."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.error is not None:
                raise self.error
            with self._lock:
                done = self.tally.complete()
                idle = time.monotonic() - self.last_growth
            if done and idle >= quiet:
                return idle
            if not done and idle >= STALLED:
                return -1.0
            time.sleep(0.5)
        return -1.0

    def close(self) -> None:
        self.stop.set()
        self.join(timeout=10)


class Offsets:
    """End offsets of the command topic, read directly from the broker (no watcher lag)."""

    def __init__(self, bootstrap: str):
        self.consumer = KafkaConsumer(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
        self.partitions = [TopicPartition(COMMANDS, p) for p in range(PARTITIONS)]

    def total(self) -> int | None:
        try:
            ends: dict[TopicPartition, int] = self.consumer.end_offsets(self.partitions)
            return sum(ends.values())
        except Exception:  # broker down or electing: no answer now
            return None

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.consumer.close()


def group_members(bootstrap: str) -> int | None:
    """How many members the worker's consumer group has, as the group coordinator sees it."""
    admin = None
    try:
        admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5_000)
        group = admin.describe_groups([APP_ID])[APP_ID]
        members: list[Any] = group["members"]
        stable: bool = group["group_state"] == "Stable"
        return len(members) if stable else None
    except Exception:
        return None
    finally:
        if admin is not None:
            with contextlib.suppress(Exception):
                admin.close()


def wait_until(check: Callable[[], bool], timeout: float, interval: float = 0.25) -> float | None:
    """Seconds until `check()` held, or None if it never did within `timeout`."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if check():
            return round(time.monotonic() - start, 2)
        time.sleep(interval)
    return None


def wait_flow(offsets: Offsets, since: int, watcher: Watcher, timeout: float) -> float | None:
    """Seconds until the command topic grows beyond `since` (or None when it never did:
    the expected set may already be complete, so there is nothing left to command)."""

    def grew() -> bool:
        total = offsets.total()
        return total is not None and total > since

    return wait_until(grew, timeout)


def since_restart(restart: float, flow: float | None) -> float | None:
    """Seconds from `restart` to now, if commands flowed (`flow` is not None)."""
    return None if flow is None else round(time.monotonic() - restart, 2)


# ---------------------------------------------------------------------------- one run


class Run:
    """One fault test: its Kafka, its workers, the scenario, the watcher and the figures."""

    def __init__(self, name: str, tmp: Path, kafka: ApacheKafka, bootstrap: str, seed: int):
        self.name = name
        self.tmp = tmp
        self.kafka = kafka
        self.bootstrap = bootstrap
        self.scenario: Scenario = build(
            seed,
            KEYS,
            transfers=TRANSFERS,
            reports=max(100, TRANSFERS // 100),
            tag=name[:2].upper(),
        )
        self.watcher = Watcher(bootstrap, self.scenario.expected)
        self.offsets = Offsets(bootstrap)
        self.workers: list[WorkerProcess] = []
        self.faults: list[dict[str, Any]] = []
        self.findings: list[str] = []
        self.started = time.monotonic()
        self.figures: dict[str, Any] = {"test": name, "seed": seed, **self.scenario.describe()}

    def worker(self, name: str, replication_factor: int = 1) -> WorkerProcess:
        process = WorkerProcess(
            broker_url(self.bootstrap), self.tmp / "workers", worker_env(replication_factor), name
        )
        self.workers.append(process)
        return process

    def elapsed(self) -> float:
        return round(time.monotonic() - self.started, 2)

    def commands_now(self) -> int:
        total = self.offsets.total()
        return -1 if total is None else total

    def finish(self, publisher: Publisher) -> Tally:
        self.figures["publish_s"] = round(publisher.wait(), 2)
        self.figures["publish_resent"] = publisher.resent
        quiet = self.watcher.wait_complete()
        self.figures["faults"] = self.faults
        self.figures["wall_s"] = self.elapsed()
        if self.watcher.complete_at is not None:
            self.figures["complete_after_s"] = round(self.watcher.complete_at - self.started, 2)
        self.figures["timed_out"] = quiet < 0
        tally = self.watcher.tally
        self.figures.update(tally.figures())
        self.figures["dead_letters"] = len(self.watcher.dead_letters)
        self.figures["workers_alive_at_end"] = [w.name for w in self.workers if w.alive()]
        self.figures["findings"] = self.findings
        path = self.tmp / f"faults-{self.name}.json"
        path.write_text(json.dumps(self.figures, indent=2, default=str))
        print(f"\n[faults:{self.name}] " + json.dumps(self.figures, default=str))
        print(f"[faults:{self.name}] figures written to {path}")
        return tally

    def close(self) -> None:
        self.watcher.close()
        self.offsets.close()
        for process in self.workers:
            with contextlib.suppress(Exception):
                process.kill()


def check(run: Run, tally: Tally) -> None:
    """The contract's promise, whatever failed on the way."""
    missing = sorted(tally.missing, key=str)
    assert not missing, f"{len(missing)} expected commands never issued, e.g. {missing[:5]}"
    unexpected = sorted(tally.unexpected.items())
    assert not unexpected, (
        f"{len(unexpected)} command ids outside the expected set, e.g. {unexpected[:5]}"
    )
    split = sorted(tally.split.items(), key=str)
    assert not split, f"{len(split)} actions commanded under several ids, e.g. {split[:3]}"
    assert tally.distinct == len(tally.expected)
    assert run.watcher.dead_letters == [], run.watcher.dead_letters[:3]
    assert not run.findings, run.findings


def bulk_recovered(log: str) -> dict[str, int]:
    loaded = recovered_in_bulk(log)
    return {
        "bulk_recovered_partitions": len(loaded),
        "bulk_recovered_records": sum(loaded.values()),
    }


@pytest.fixture
def kafka() -> Iterator[ApacheKafka]:
    with ApacheKafka() as k:
        yield k


# ---------------------------------------------------------------------------- the tests


def test_worker_killed_five_times(kafka: ApacheKafka, tmp_path: Path) -> None:
    """kill -9 of the only worker at five seeded random moments, restarted each time."""
    bootstrap = kafka.start_single(tmp_path / "kafka")
    run = Run("kill9", tmp_path, kafka, bootstrap, SEED)
    rng = random.Random(SEED)
    try:
        worker = run.worker("w1").start(timeout=120)
        run.watcher.start()
        publisher = Publisher(bootstrap, run.scenario.records, rate=PACE)
        publisher.start()
        for round_ in range(1, 6):
            time.sleep(rng.uniform(4.0, 14.0))
            commands_before = run.commands_now()
            killed_at = run.elapsed()
            worker.kill()
            time.sleep(rng.uniform(0.0, 2.0))
            since = run.commands_now()
            restart = time.monotonic()
            worker.start(timeout=180)
            healthy = round(time.monotonic() - restart, 2)
            flow = wait_flow(run.offsets, since, run.watcher, timeout=120)
            run.faults.append(
                {
                    "fault": f"kill -9 #{round_}",
                    "at_s": killed_at,
                    "commands_before": commands_before,
                    "restart_to_healthy_s": healthy,
                    "restart_to_commands_flowing_s": since_restart(restart, flow),
                }
            )
        tally = run.finish(publisher)
    finally:
        run.close()
    check(run, tally)


def test_two_workers_one_killed(kafka: ApacheKafka, tmp_path: Path) -> None:
    """Two workers share the group; one is SIGKILLed mid-run, the other takes over."""
    bootstrap = kafka.start_single(tmp_path / "kafka")
    run = Run("takeover", tmp_path, kafka, bootstrap, SEED + 1)
    try:
        first = run.worker("w1").start(timeout=120)
        second = run.worker("w2").start(timeout=120)
        wait_until(lambda: group_members(bootstrap) == 2, timeout=60, interval=1.0)
        run.watcher.start()
        publisher = Publisher(bootstrap, run.scenario.records, rate=PACE)
        publisher.start()
        time.sleep(random.Random(SEED).uniform(10.0, 20.0))
        commands_before = run.commands_now()
        killed_at = run.elapsed()
        log_before = len(first.log_path.read_text())
        second.kill()
        kill = time.monotonic()
        alone = wait_until(lambda: group_members(bootstrap) == 1, timeout=120, interval=0.5)
        since = run.commands_now()
        flow = wait_flow(run.offsets, since, run.watcher, timeout=120)
        run.faults.append(
            {
                "fault": "SIGKILL of w2 of two",
                "at_s": killed_at,
                "commands_before": commands_before,
                "kill_to_group_of_one_s": alone,
                "kill_to_commands_flowing_s": since_restart(kill, flow),
                # What the survivor loaded in bulk of the partitions it took over
                # (streams/faust_internals/bulk_recovery.py); the rest Faust's recovery replayed.
                **bulk_recovered(first.log_path.read_text()[log_before:]),
            }
        )
        if not first.alive():
            run.findings.append("the surviving worker died")
        tally = run.finish(publisher)
    finally:
        run.close()
    check(run, tally)


def test_one_broker_of_three_killed(kafka: ApacheKafka, tmp_path: Path) -> None:
    """3 nodes, RF 3, min.insync.replicas 2: one broker SIGKILLed mid-run, restarted later."""
    bootstrap = kafka.start_cluster(tmp_path / "kafka")
    run = Run("broker", tmp_path, kafka, bootstrap, SEED + 2)
    rng = random.Random(SEED + 2)
    try:
        worker = run.worker("w1", replication_factor=3).start(timeout=180)
        run.watcher.start()
        publisher = Publisher(bootstrap, run.scenario.records, rate=PACE)
        publisher.start()
        time.sleep(rng.uniform(10.0, 20.0))
        node = rng.randint(1, 3)
        commands_before = run.commands_now()
        killed_at = run.elapsed()
        kafka.kill_node(node)
        kill = time.monotonic()
        since = run.commands_now()
        flow_down = since_restart(kill, wait_flow(run.offsets, since, run.watcher, timeout=60))
        time.sleep(max(0.0, 15.0 - (time.monotonic() - kill)))
        since = run.commands_now()
        restart = time.monotonic()
        kafka.start_node(node)
        back = round(time.monotonic() - restart, 2)
        flow_up = since_restart(restart, wait_flow(run.offsets, since, run.watcher, timeout=120))
        run.faults.append(
            {
                "fault": f"SIGKILL of broker {node} of 3 for ~15 s",
                "at_s": killed_at,
                "commands_before": commands_before,
                "kill_to_commands_flowing_s": flow_down,
                "broker_restart_s": back,
                "broker_restart_to_commands_flowing_s": flow_up,
            }
        )
        if not worker.alive():
            run.findings.append("the worker died when a broker of three was killed")
        tally = run.finish(publisher)
    finally:
        run.close()
    check(run, tally)


def test_whole_cluster_stopped_for_30_seconds(kafka: ApacheKafka, tmp_path: Path) -> None:
    """The only broker stops for 30 s mid-run; the worker must carry on by itself."""
    bootstrap = kafka.start_single(tmp_path / "kafka")
    run = Run("outage", tmp_path, kafka, bootstrap, SEED + 3)
    try:
        worker = run.worker("w1").start(timeout=120)
        pid = worker.process.pid if worker.process else None
        run.watcher.start()
        half = len(run.scenario.records) // 2
        first_half = Publisher(bootstrap, run.scenario.records[:half], rate=PACE)
        first_half.start()
        first_half.wait()
        time.sleep(random.Random(SEED + 3).uniform(2.0, 6.0))
        commands_before = run.commands_now()
        stopped_at = run.elapsed()
        kafka.stop_node(1)
        time.sleep(30.0)
        restart = time.monotonic()
        kafka.start_node(1)
        back = round(time.monotonic() - restart, 2)
        since = run.commands_now()
        second_half = Publisher(bootstrap, run.scenario.records[half:], rate=PACE)
        second_half.start()
        healthy = since_restart(restart, wait_until(lambda: worker.health() == 200, timeout=180))
        flow = since_restart(restart, wait_flow(run.offsets, since, run.watcher, timeout=180))
        died = not worker.alive()
        fault: dict[str, Any] = {
            "fault": "the only broker stopped for 30 s",
            "at_s": stopped_at,
            "commands_before": commands_before,
            "broker_restart_s": back,
            "broker_restart_to_healthy_s": healthy,
            "broker_restart_to_commands_flowing_s": flow,
            "worker_survived": not died,
            "worker_pid_unchanged": bool(worker.process and worker.process.pid == pid),
        }
        run.faults.append(fault)
        if died or flow is None:
            # A finding, not hidden: note it, then restart so the rest of the figures still come.
            run.findings.append(
                "worker died after the broker outage"
                if died
                else "worker did not issue commands within 180 s of the broker's return"
            )
            print(f"[faults:outage] worker log tail:\n{worker.log_tail(60)}")
            worker.kill()
            since = run.commands_now()
            restart = time.monotonic()
            worker.start(timeout=180)
            flow = wait_flow(run.offsets, since, run.watcher, timeout=120)
            fault["manual_restart_to_commands_flowing_s"] = since_restart(restart, flow)
        tally = run.finish(second_half)
    finally:
        run.close()
    check(run, tally)
