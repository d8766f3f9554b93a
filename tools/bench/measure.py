"""CPU time and memory of processes, as the benches count them (Linux /proc)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from antifraud.harness.worker_process import WorkerProcess


def own_cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads); 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    # after the command name: state is field 3, utime 14 and stime 15 (1-based, proc(5))
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def memory_mb(pid: int) -> dict[str, float]:
    """VmHWM (peak) and VmRSS (now) of a process, in MiB; empty when it is gone."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return {}
    out = {}
    for line in lines:
        name, _, value = line.partition(":")
        if name in ("VmHWM", "VmRSS"):
            out[name] = int(value.split()[0]) / 1024
    return out


def pids_of(workers: Sequence[WorkerProcess]) -> list[int]:
    return [w.process.pid for w in workers if w.process is not None]


def peak_memory_mb(workers: Sequence[WorkerProcess]) -> dict[str, float]:
    """The largest VmHWM and VmRSS among the workers (each is one process's figure)."""
    found = [memory_mb(pid) for pid in pids_of(workers)]
    return {
        name: max((m.get(name, 0.0) for m in found), default=0.0) for name in ("VmHWM", "VmRSS")
    }
