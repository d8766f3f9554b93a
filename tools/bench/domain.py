"""A transfer's domain work alone, without Kafka or Faust: the least any worker must do.

Parse and validate it, then for its recipient and for its sender: read the identifier's state
from RocksDB (opened as Faust opens the worker's tables), decode it, apply the event, encode
it and write it back. `antifraud bench` reports this per CPU-second beside the baseline and
the worker, so the worker's ratio has a ceiling measured in the same run on the same data:
a worker that keeps both identifiers' state can at best match this, before any Kafka I/O.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from faust.stores.rocksdb import RocksDBOptions

from antifraud.core.intake import parse_transfer
from antifraud.core.matching import TransferIn, TransferOut, apply
from antifraud.core.policy import Policy
from antifraud.core.serde import dump_state, load_state
from antifraud.tools.bench.measure import own_cpu_seconds


def domain_work(transfers: Sequence[bytes], db: Any, policy: Policy, now: float) -> None:
    get, put = db.get, db.put
    for raw in transfers:
        transfer = parse_transfer(raw, now=now)
        for key, event in (
            (transfer.recipient.key, TransferIn(transfer)),
            (transfer.sender.key, TransferOut(transfer)),
        ):
            encoded = key.encode()
            state = load_state(get(encoded))
            apply(state, key, event, now, policy)
            put(encoded, dump_state(state))


@contextmanager
def fresh_state_db() -> Iterator[Any]:
    """An empty RocksDB, opened as Faust opens the worker's tables, removed afterwards."""
    workdir = Path(tempfile.mkdtemp(prefix="antifraud-domain-"))
    try:
        db = RocksDBOptions().open(workdir / "identifier-state.db")
        try:
            yield db
        finally:
            db.close()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def domain_cpu_seconds(transfers: Sequence[bytes], policy: Policy) -> float:
    """CPU seconds this process spends on the domain work alone of `transfers`
    (`domain_work`), on a fresh RocksDB."""
    with fresh_state_db() as db:
        started = own_cpu_seconds()
        domain_work(transfers, db, policy, time.time())
        return own_cpu_seconds() - started
