"""A real `antifraud console` child process, as an operator starts it: for the demo and tests."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

from antifraud.harness.ports import HOST, free_port, port_is_free, wait_for_port


def console_port(preferred: int) -> int:
    """`preferred` (the configured console port) when it is free, else any free port."""
    return preferred if port_is_free(preferred) else free_port()


class ConsoleProcess:
    def __init__(
        self,
        broker_url: str,
        workdir: Path,
        env: dict[str, str] | None = None,
        token: str | None = None,
        reveal_token: str = "",
        port: int | None = None,
    ) -> None:
        self.broker_url = broker_url
        self.workdir = workdir
        self.port = port or free_port()
        self.token = token or secrets.token_urlsafe(24)
        self.reveal_token = reveal_token
        self.log_path = workdir / "console.log"
        self.extra_env = env or {}
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self, timeout: float = 30.0) -> ConsoleProcess:
        self.workdir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 (kept open for the process's life)
        antifraud = Path(sys.executable).parent / "antifraud"
        env = {
            **os.environ,
            **self.extra_env,
            "ANTIFRAUD_CONSOLE_TOKEN": self.token,
            "ANTIFRAUD_CONSOLE_REVEAL_TOKEN": self.reveal_token,
        }
        self.process = subprocess.Popen(
            [str(antifraud), "console", "--broker", self.broker_url, "--host", HOST,
             "--port", str(self.port)],
            cwd=self.workdir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"console exited: see {self.log_path}\n{self.log_tail()}")
            try:
                wait_for_port(HOST, self.port, timeout=0.5)
                return self
            except TimeoutError:
                if time.monotonic() > deadline:
                    raise

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.process = None
