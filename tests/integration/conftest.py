"""One broker and one worker for the integration suite, started here and stopped at the end."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from streams.embedded_broker import EmbeddedBroker
from streams.worker_process import FAST_GROUP, WorkerProcess
from tests.integration.kafka_io import Bus

REPORT_KEYS = {"test-1": b"integration-secret-one", "test-2": b"integration-secret-two"}
ACK_SLA_SECONDS = 4


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBroker]:
    logs = tmp_path_factory.mktemp("broker")
    with EmbeddedBroker(log_file=logs / "broker.log") as embedded:
        yield embedded


@pytest.fixture(scope="session")
def worker_env() -> dict[str, str]:
    return {
        **FAST_GROUP,
        "ANTIFRAUD_STORE": "rocksdb://",
        "ANTIFRAUD_PARTITIONS": "4",
        "ANTIFRAUD_REPORT_KEYS": ",".join(f"{k}={v.decode()}" for k, v in REPORT_KEYS.items()),
        "ANTIFRAUD_ACK_SLA_SECONDS": str(ACK_SLA_SECONDS),
        "ANTIFRAUD_MAX_RECORD_BYTES": str(64 * 1024),
    }


@pytest.fixture(scope="session")
def worker(
    broker: EmbeddedBroker, worker_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[WorkerProcess]:
    process = WorkerProcess(broker.url, tmp_path_factory.mktemp("worker"), worker_env)
    process.start()
    yield process
    process.stop()


@pytest.fixture(scope="session")
def bus(broker: EmbeddedBroker) -> Iterator[Bus]:
    connection = Bus(broker.bootstrap)
    yield connection
    connection.close()


_serials = itertools.count(1)


@pytest.fixture
def serial() -> int:
    """A number unique in this test session, so each test's accounts and ids are its own."""
    return next(_serials) * 1000


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return tmp_path


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration" in str(item.fspath):
            item.add_marker(pytest.mark.integration)
