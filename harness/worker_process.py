"""A real `antifraud worker` child process, started as an operator would: for demo, bench, tests."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from antifraud.harness.ports import free_port

# Fast group joins on the embedded broker (it answers a join after half the session timeout).
FAST_GROUP = {"ANTIFRAUD_SESSION_TIMEOUT": "2", "ANTIFRAUD_HEARTBEAT_INTERVAL": "0.3"}


class WorkerProcess:
    def __init__(
        self,
        broker_url: str,
        workdir: Path,
        env: dict[str, str] | None = None,
        name: str = "worker",
    ) -> None:
        self.broker_url = broker_url
        self.workdir = workdir
        self.name = name
        self.web_port = free_port()
        self.log_path = workdir / f"{name}.log"
        self.extra_env = env or {}
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "ANTIFRAUD_BROKER": self.broker_url,
            "ANTIFRAUD_WEB_PORT": str(self.web_port),
            "ANTIFRAUD_WEB_HOST": "127.0.0.1",
            "ANTIFRAUD_DATA_DIR": str(self.workdir / f"{self.name}-data"),
            **self.extra_env,
        }

    def start(self, timeout: float = 60.0, wait: bool = True) -> WorkerProcess:
        self.workdir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 (kept open for the process's life)
        antifraud = Path(sys.executable).parent / "antifraud"
        self.process = subprocess.Popen(
            [str(antifraud), "worker", "-l", "info"],
            cwd=self.workdir,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        if wait:
            self.wait_healthy(timeout)
        return self

    def health(self) -> int:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.web_port}/health", timeout=2) as r:
                return int(r.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)
        except OSError:
            return 0

    def metrics(self) -> str:
        url = f"http://127.0.0.1:{self.web_port}/metrics"
        with urllib.request.urlopen(url, timeout=5) as response:
            return str(response.read().decode())

    def wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.health() != 200:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"worker exited: see {self.log_path}\n{self.log_tail()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"worker not healthy after {timeout} s\n{self.log_tail()}")
            time.sleep(0.2)

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def _signal(self, signum: int) -> None:
        """Signal the worker's process group, unless it is already gone (it may have crashed)."""
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signum)

    def kill(self) -> None:
        """SIGKILL: a crash, not a shutdown."""
        if self.process is not None:
            self._signal(signal.SIGKILL)
            self.process.wait()
            self.process = None

    def stop(self) -> None:
        if self.process is None:
            return
        self._signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()
        self.process = None
