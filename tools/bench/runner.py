"""How every bench runs: on a given broker or an embedded one started for it, progress on
stderr, and its figures as one JSON object on the last stdout line."""

from __future__ import annotations

import shutil
import sys
import tempfile
import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson

from antifraud.harness.embedded_broker import EmbeddedBroker
from antifraud.harness.worker_process import FAST_GROUP


def say(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def worker_env(partitions: int, embedded: bool) -> dict[str, str]:
    """A bench's worker: RocksDB tables, the run's partition count, quick joins if embedded."""
    env = {"ANTIFRAUD_STORE": "rocksdb://", "ANTIFRAUD_PARTITIONS": str(partitions)}
    if embedded:
        env.update(FAST_GROUP)
    return env


Measure = Callable[[str, bool, Path], Awaitable[dict[str, Any]]]


async def on_broker(broker: str, prefix: str, measure: Measure) -> None:
    """Run `measure(url, embedded, workdir)` on `broker`, or on an embedded one started here,
    and print its figures as the last stdout line; logs stay in workdir when it fails."""
    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    embedded = None if broker else EmbeddedBroker(log_file=workdir / "broker.log")
    try:
        if embedded is not None:
            embedded.start()
            say(f"embedded broker on {embedded.url}")
        url = broker or (embedded.url if embedded else "")
        figures = await measure(url, embedded is not None, workdir)
    except BaseException:
        traceback.print_exc()
        say(f"failed; logs kept in {workdir}")
        raise SystemExit(1) from None
    finally:
        if embedded is not None:
            embedded.stop()
    shutil.rmtree(workdir, ignore_errors=True)
    print(orjson.dumps(figures).decode(), flush=True)
