"""A real `antifraud console` child process, as an operator starts it: for the demo and tests."""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

from antifraud.harness.child_process import ChildProcess, antifraud_command
from antifraud.harness.ports import HOST, free_port, port_is_free, wait_for_port


def console_port(preferred: int) -> int:
    """`preferred` (the configured console port) when it is free, else any free port."""
    return preferred if port_is_free(preferred) else free_port()


class ConsoleProcess(ChildProcess):
    def __init__(
        self,
        broker_url: str,
        workdir: Path,
        env: dict[str, str] | None = None,
        token: str | None = None,
        reveal_token: str = "",
        port: int | None = None,
    ) -> None:
        super().__init__(workdir, "console.log", stop_grace=10)
        self.broker_url = broker_url
        self.port = port or free_port()
        self.token = token or secrets.token_urlsafe(24)
        self.reveal_token = reveal_token
        self.extra_env = env or {}

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self, timeout: float = 30.0) -> ConsoleProcess:
        env = {
            **os.environ,
            **self.extra_env,
            "ANTIFRAUD_CONSOLE_TOKEN": self.token,
            "ANTIFRAUD_CONSOLE_REVEAL_TOKEN": self.reveal_token,
        }
        self.launch(
            antifraud_command("console", "--broker", self.broker_url, "--host", HOST,
                              "--port", str(self.port)),
            env,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while True:
            if self.exited():
                raise RuntimeError(f"console exited: see {self.log_path}\n{self.log_tail()}")
            try:
                wait_for_port(HOST, self.port, timeout=0.5)
                return self
            except TimeoutError:
                if time.monotonic() > deadline:
                    raise
