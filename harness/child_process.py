"""A child process of the harness (a worker, the console): started in a session of its own
with its output in a log file, stopped with SIGTERM and, past a grace period, SIGKILL."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path


def antifraud_command(*args: str) -> list[str]:
    """`antifraud ARGS` from the virtual environment running the harness."""
    return [str(Path(sys.executable).parent / "antifraud"), *args]


class ChildProcess:
    def __init__(self, workdir: Path, log_name: str, stop_grace: float) -> None:
        self.workdir = workdir
        self.log_path = workdir / log_name
        self.stop_grace = stop_grace  # seconds from SIGTERM to SIGKILL
        self.process: subprocess.Popen[bytes] | None = None

    def launch(self, argv: list[str], env: dict[str, str]) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 (kept open for the process's life)
        # A session of its own: signals reach the process group, never the harness.
        self.process = subprocess.Popen(
            argv,
            cwd=self.workdir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def exited(self) -> bool:
        return self.process is not None and self.process.poll() is not None

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def _signal(self, signum: int) -> None:
        """Signal the process group, unless it is already gone (it may have crashed)."""
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
            self.process.wait(timeout=self.stop_grace)
        except subprocess.TimeoutExpired:
            self.kill()
        self.process = None
