"""`antifraud bench-watchlist`: a bank's replica at national scale, lookups per second and memory.

1. fill: `--entries` watchlist entries (70 % phones, 20 % IBANs, 10 % cards; one in five a
   mule suspect) written into a replica's RocksDB file the way it applies records read from
   the topic (`WatchlistStore.apply`, batches of 10,000), timed;
2. lookups, in a fresh child process that imports only `antifraud.clients` (what a bank's
   service would load): `--lookups` accounts, half listed and half not, each written as
   people write it (`8 701 123 45 67`, lower-case IBANs in groups, cards in groups of
   four), checked three ways: `check(text)` (kind guessed), `check(text, kind)`, and the
   bare RocksDB read of a normalised key. Memory is the child's VmRSS before the replica
   is opened, after the lookups, and its peak (VmHWM).

The last stdout line is one JSON object.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
from faust.cli import option

from antifraud.clients.watchlist_store import Record, WatchlistStore
from antifraud.core.identifiers import Identifier
from antifraud.core.names import WatchlistMarker
from antifraud.core.watchlist import WatchlistEntry, entry_record
from antifraud.streams.app import app
from antifraud.tools.bench import watchlist_lookups
from antifraud.tools.bench.runner import say
from antifraud.tools.bench.watchlist_lookups import TOPIC, account

_BATCH = 10_000


def entry_for(serial: int) -> WatchlistEntry:
    kind, value, _ = account(serial)
    hop = 0 if serial % 5 else 1 + serial % 3
    return WatchlistEntry(
        account=Identifier(kind, value),
        marker=WatchlistMarker.REPORTED_ACCOUNT if hop == 0 else WatchlistMarker.MULE_SUSPECT,
        hop=hop,
        fraud_types=("bank_impersonation",),
        report_ids=(f"R-2026-{serial // 3:07d}",),
        banks=("HSBKKZKX",),
        since="2026-11-29T09:05:00.000Z",
        amount_limit=None if hop == 0 else 2_500_000,
    )


def records(entries: int) -> Iterator[list[Record]]:
    for start in range(0, entries, _BATCH):
        batch = []
        for serial in range(start, min(start + _BATCH, entries)):
            entry = entry_for(serial)
            key, value = entry_record(entry.key, entry)
            batch.append(Record(serial % 8, serial // 8, key, value))
        yield batch


def fill(path: Path, entries: int) -> dict[str, Any]:
    store = WatchlistStore(path)
    store.reset(TOPIC)
    seconds = 0.0  # in `apply` only: making up the entries is the bench's own cost
    for batch in records(entries):
        started = time.perf_counter()
        store.apply(batch)
        seconds += time.perf_counter() - started
    counts = store.counts()
    store.close()
    disk = sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return {
        "entries": entries,
        "fill_seconds": round(seconds, 2),
        "fill_entries_per_second": round(entries / seconds),
        "disk_mb": round(disk / 2**20, 1),
        "counts": counts,
    }


@app.command(
    option("--entries", type=int, default=1_000_000, show_default=True),
    option("--lookups", type=int, default=200_000, show_default=True),
    option("--dir", "directory", default=None, help="Keep the replica here (default: a temp dir)."),
)
async def bench_watchlist(self: Any, entries: int, lookups: int, directory: str | None) -> None:
    """A bank's watchlist replica at national scale: fill time, lookups/s and memory (JSON)."""
    lookups_module = watchlist_lookups.__name__
    workdir = Path(directory) if directory else Path(tempfile.mkdtemp(prefix="bench-watchlist-"))
    path = workdir / "replica"
    try:
        say(f"watchlist: filling {entries:,} entries into {path}")
        figures = fill(path, entries)
        say(f"watchlist: {lookups:,} lookups each way, in a fresh process")
        # A fresh interpreter: its memory is what a bank's service with a replica would use.
        child = subprocess.run(
            [sys.executable, "-m", lookups_module, str(path), str(entries), str(lookups)],
            capture_output=True,
            text=True,
            timeout=3600,
            check=False,
        )
        if child.returncode != 0:
            raise SystemExit(f"bench-watchlist: the lookup phase failed: {child.stderr[-3000:]}")
        figures.update(orjson.loads(child.stdout.strip().splitlines()[-1]))
        figures["lookups"] = lookups
        print(orjson.dumps(figures).decode())
    finally:
        if not directory:
            shutil.rmtree(workdir, ignore_errors=True)
