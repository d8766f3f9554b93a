"""A real `antifraud worker` child process, started as an operator would: for demo, bench, tests."""

from __future__ import annotations

import os
import time
import urllib.error
import urllib.request
from pathlib import Path

from antifraud.harness.child_process import ChildProcess, antifraud_command
from antifraud.harness.ports import free_port

# Fast group joins on the embedded broker (it answers a join after half the session timeout).
FAST_GROUP = {"ANTIFRAUD_SESSION_TIMEOUT": "2", "ANTIFRAUD_HEARTBEAT_INTERVAL": "0.3"}


class WorkerProcess(ChildProcess):
    def __init__(
        self,
        broker_url: str,
        workdir: Path,
        env: dict[str, str] | None = None,
        name: str = "worker",
    ) -> None:
        super().__init__(workdir, f"{name}.log", stop_grace=20)
        self.broker_url = broker_url
        self.name = name
        self.web_port = free_port()
        self.extra_env = env or {}

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
        self.launch(antifraud_command("worker", "-l", "info"), self.env)
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
            if self.exited():
                raise RuntimeError(f"worker exited: see {self.log_path}\n{self.log_tail()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"worker not healthy after {timeout} s\n{self.log_tail()}")
            time.sleep(0.2)
