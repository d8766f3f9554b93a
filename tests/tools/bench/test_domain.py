"""The domain-work ceiling does the worker's per-transfer state work, and only that."""

from __future__ import annotations

import time
from pathlib import Path

import orjson
from faust.stores.rocksdb import RocksDBOptions

from antifraud.core.policy import Policy
from antifraud.core.serde import load_state
from antifraud.harness.simulation import identifier, transfer
from antifraud.tools.bench.domain import domain_cpu_seconds, domain_work


def transfers_from_one_sender(count: int) -> list[bytes]:
    """`count` transfers from one account, each to a phone of its own."""
    sender = identifier("iban", "KZ86125KZT5004100100", "CASPKZKA")
    return [
        orjson.dumps(
            transfer(
                f"T-{n}",
                "CASPKZKA",
                sender,
                identifier("phone", f"+7 701 {n:07d}", "HSBKKZKX"),
                1000 + n,
                time.time(),
            )
        )
        for n in range(count)
    ]


def test_each_transfer_lands_in_its_recipient_s_and_its_sender_s_state(tmp_path: Path) -> None:
    records = transfers_from_one_sender(3)
    db = RocksDBOptions().open(tmp_path / "state.db")
    domain_work(records, db, Policy(), time.time())

    keys = [k for k in db.keys() if not k.startswith(b"__faust")]  # noqa: SIM118 (Rdict)
    assert len(keys) == 4  # three recipients, one sender
    states = {k: load_state(db.get(k)) for k in keys}
    senders = [s for s in states.values() if s.outflows]
    assert len(senders) == 1
    assert sorted(senders[0].outflows) == sorted(t for s in states.values() for t in s.inflight)
    db.close()


def test_its_cpu_time_is_measured() -> None:
    assert domain_cpu_seconds(transfers_from_one_sender(300), Policy()) > 0
