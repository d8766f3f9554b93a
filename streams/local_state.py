"""Local table data is a cache of the changelogs, trusted only after a clean shutdown.

A table write goes to local RocksDB at once but to its changelog through the producer
buffer. A worker killed in between leaves local state *ahead* of the changelog: the
restarted worker replays the uncommitted input, finds the command already recorded
in its local state, and never issues it, while the command itself never reached the
broker (seen in the kill -9 fault test). So: a marker file says "a worker is running
here"; if a worker starts and finds it, the last one did not stop cleanly, and the
local tables are deleted so Faust rebuilds them from the changelogs.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Iterable
from pathlib import Path

log = logging.getLogger("antifraud")

MARKER = "worker.running"
# The partitions this worker was last given: which table files a clean restart brings up to
# date before joining (streams/table_preload.py). The others are left to Faust's recovery.
ASSIGNMENT = "assigned-partitions"


def discard_if_unclean(datadir: Path, tabledir: Path) -> bool:
    """Delete `tabledir` when the previous worker on `datadir` did not stop cleanly."""
    marker = datadir / MARKER
    if not marker.exists():
        return False
    log.warning(
        "event=unclean_shutdown_detected previous_pid=%s action=rebuild_tables_from_changelogs",
        marker.read_text().strip() or "?",
    )
    shutil.rmtree(tabledir, ignore_errors=True)
    return True


def mark_running(datadir: Path) -> None:
    datadir.mkdir(parents=True, exist_ok=True)
    (datadir / MARKER).write_text(str(os.getpid()))


def mark_stopped(datadir: Path) -> None:
    (datadir / MARKER).unlink(missing_ok=True)


def record_assignment(datadir: Path, partitions: Iterable[int]) -> None:
    datadir.mkdir(parents=True, exist_ok=True)
    (datadir / ASSIGNMENT).write_text(",".join(str(p) for p in sorted(set(partitions))))


def recorded_assignment(datadir: Path) -> set[int] | None:
    """The partitions last recorded, or None when nothing was (a worker that never joined)."""
    try:
        text = (datadir / ASSIGNMENT).read_text().strip()
    except FileNotFoundError:
        return None
    return {int(p) for p in text.split(",") if p}
