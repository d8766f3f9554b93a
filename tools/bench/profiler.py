"""`py-spy record` attached to a worker during the bench's phase 2, when asked for."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from antifraud.tools.bench.runner import say


class Profiler:
    """`py-spy record` attached to the worker, when ANTIFRAUD_BENCH_PROFILE names an output."""

    def __init__(self, output: str) -> None:
        self.output = output
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, pid: int) -> None:
        if not self.output or not pid:
            return
        py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        fmt = "raw" if self.output.endswith(".txt") else "flamegraph"
        if self.output.endswith(".json"):
            fmt = "speedscope"
        flags = os.environ.get("ANTIFRAUD_BENCH_PROFILE_FLAGS", "").split()
        command = [py_spy, "record", "--pid", str(pid), "--rate", "100", "--format", fmt]
        self.process = subprocess.Popen(
            [*command, *flags, "--output", self.output, "--nonblocking"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        say(f"profiling worker pid {pid} with py-spy -> {self.output}")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.process = None
