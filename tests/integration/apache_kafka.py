"""Run a real Apache Kafka (KRaft, from Maven Central) for the integration tests.

A thin wrapper around ``scripts/apache-kafka``: the script fetches the jars once into
``~/.cache/antifraud/kafka`` (or ``$ANTIFRAUD_KAFKA_CACHE``), formats storage and starts
broker+controller nodes on 127.0.0.1 with everything (config, data, logs, pid files) kept
inside the directory it is given.

    kafka = ApacheKafka()
    bootstrap = kafka.start_single(tmp_path / "kafka", free_port())
    ...
    kafka.stop()

Needs ``java`` (17+) and, for the first fetch only, ``mvn`` with access to Maven Central.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType

from antifraud.harness.ports import free_port, free_port_range

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = REPO_ROOT / "scripts" / "apache-kafka"


def java_available() -> bool:
    """True if a ``java`` binary can be run (the script also needs ``mvn`` on first fetch)."""
    java = os.environ.get("JAVA") or "java"
    try:
        subprocess.run([java, "-version"], capture_output=True, check=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return False
    return True


class ApacheKafkaError(RuntimeError):
    """scripts/apache-kafka failed; the message carries its stderr."""


class ApacheKafka:
    """One single node or one 3-node cluster, started under one directory."""

    def __init__(
        self,
        script: Path = SCRIPT,
        env: Mapping[str, str] | None = None,
        timeout: float = 300.0,
    ) -> None:
        self.script = script
        self.timeout = timeout
        self.env: dict[str, str] = dict(os.environ)
        # The script only needs the standard library from python; use this interpreter.
        self.env.setdefault("PYTHON", sys.executable)
        if env:
            self.env.update(env)
        self.dir: Path | None = None
        self.bootstrap: str | None = None
        self.nodes: int = 0
        self._atexit_registered = False

    # -- plumbing ---------------------------------------------------------------------

    def _run(self, *args: str | os.PathLike[str]) -> str:
        cmd: Sequence[str] = [str(self.script), *(os.fspath(a) for a in args)]
        try:
            proc = subprocess.run(
                cmd,
                env=self.env,
                capture_output=True,
                text=True,
                timeout=self.timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise ApacheKafkaError(f"{' '.join(cmd)} timed out after {self.timeout}s") from exc
        if proc.returncode != 0:
            raise ApacheKafkaError(
                f"{' '.join(cmd)} exited {proc.returncode}\n{proc.stderr.strip()}"
            )
        return proc.stdout.strip()

    def _require_dir(self) -> Path:
        if self.dir is None:
            raise ApacheKafkaError("no Kafka started by this ApacheKafka")
        return self.dir

    def _started(self, tmp_dir: Path, bootstrap: str, nodes: int) -> str:
        self.dir = tmp_dir
        self.bootstrap = bootstrap
        self.nodes = nodes
        if not self._atexit_registered:
            # Safety net: never leave brokers behind if a test run dies without cleanup.
            atexit.register(self._stop_quietly)
            self._atexit_registered = True
        return bootstrap

    def _stop_quietly(self) -> None:
        with contextlib.suppress(Exception):
            self.stop()

    # -- verbs ------------------------------------------------------------------------

    def fetch(self) -> Path:
        """Resolve the Kafka jars (no-op when cached); returns the jar directory."""
        return Path(self._run("fetch").splitlines()[-1])

    def start_single(self, tmp_dir: Path | str, port: int | None = None) -> str:
        """Start one broker+controller on 127.0.0.1:port; returns the bootstrap address."""
        tmp_dir = Path(tmp_dir).resolve()
        port = free_port() if port is None else port
        bootstrap = self._run("start-single", tmp_dir, str(port)).splitlines()[-1]
        return self._started(tmp_dir, bootstrap, 1)

    def start_cluster(self, tmp_dir: Path | str, base_port: int | None = None) -> str:
        """Start three nodes on base_port..base_port+2; returns ``host:p1,host:p2,host:p3``."""
        tmp_dir = Path(tmp_dir).resolve()
        base_port = free_port_range(3) if base_port is None else base_port
        bootstrap = self._run("start-cluster", tmp_dir, str(base_port)).splitlines()[-1]
        return self._started(tmp_dir, bootstrap, 3)

    def node_address(self, i: int) -> str:
        """``host:port`` of node i (1-based)."""
        if self.bootstrap is None or not 1 <= i <= self.nodes:
            raise ApacheKafkaError(f"no node {i}")
        return self.bootstrap.split(",")[i - 1]

    def kill_node(self, i: int) -> None:
        """SIGKILL node i (1-based); its data stays for start_node."""
        self._run("kill-node", self._require_dir(), str(i))

    def stop_node(self, i: int) -> None:
        """Stop node i gracefully (SIGTERM, SIGKILL after the script's timeout)."""
        self._run("stop-node", self._require_dir(), str(i))

    def start_node(self, i: int) -> str:
        """Restart node i on its existing data; returns its address once it serves metadata."""
        return self._run("start-node", self._require_dir(), str(i)).splitlines()[-1]

    def stop(self) -> None:
        """Stop every node (idempotent)."""
        if self.dir is not None:
            self._run("stop", self.dir)

    def __enter__(self) -> ApacheKafka:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
