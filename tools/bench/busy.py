"""`antifraud bench-busy`: what one busy account costs per transfer, as its state grows.

A merchant whose bank sends no `settled` keeps every transfer to it in flight; a payer
(payroll, marketplace payouts) keeps every followable transfer out of it for the look-back
window. Each new transfer to or from such an account reads, changes and writes that
account's whole state, so its cost grows with what the state remembers, up to
`Policy.max_transfers_per_identifier`. This feeds one account N transfers through the
worker's domain work (`antifraud.tools.bench.domain.domain_work`: parsing, RocksDB read, apply,
encode, RocksDB write), then times the next `--sample` transfers, and prints one JSON line
per size and role: CPU milliseconds per transfer and the state row's size.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

import orjson
from faust.cli import option

from antifraud.core.policy import Policy
from antifraud.harness.simulation import identifier, transfer
from antifraud.streams.app import app, settings
from antifraud.tools.bench.domain import domain_work, fresh_state_db
from antifraud.tools.bench.measure import own_cpu_seconds

BUSY = identifier("iban", "KZ86125KZT5004100100", "HSBKKZKX")
BUSY_KEY = b"iban:KZ86125KZT5004100100"


def _counterpart(n: int) -> dict[str, str]:
    return identifier("phone", f"+7 701 {n:07d}", "CASPKZKA")


def _to_busy(n: int, now: float) -> bytes:
    return orjson.dumps(transfer(f"T-{n:08d}", "CASPKZKA", _counterpart(n), BUSY, 1_000, now))


def _from_busy(n: int, now: float) -> bytes:
    return orjson.dumps(transfer(f"T-{n:08d}", "HSBKKZKX", BUSY, _counterpart(n), 1_000, now))


ROLES: dict[str, Callable[[int, float], bytes]] = {"recipient": _to_busy, "sender": _from_busy}


def busy_account_cost(
    role: str, sizes: list[int], sample: int, policy: Policy
) -> list[dict[str, Any]]:
    """CPU per transfer and state row size once the busy account has each of `sizes` transfers."""
    make = ROLES[role]
    # Whole seconds: every row then has the same length, so sizes compare between runs.
    now = float(int(time.time()))
    figures = []
    with fresh_state_db() as db:
        done = 0
        for size in sorted(sizes):
            domain_work([make(n, now) for n in range(done, size)], db, policy, now)
            timed = [make(n, now) for n in range(size, size + sample)]
            started = own_cpu_seconds()
            domain_work(timed, db, policy, now)
            cpu = own_cpu_seconds() - started
            done = size + sample
            figures.append(
                {
                    "role": role,
                    "transfers": size,
                    "remembered_bound": policy.max_transfers_per_identifier,
                    "cpu_ms_per_transfer": round(cpu / sample * 1000, 3),
                    "state_row_kib": round(len(db.get(BUSY_KEY) or b"") / 1024, 1),
                }
            )
    return figures


@app.command(
    option("--sizes", default="100,1000,3000,10000", show_default=True),
    option("--sample", type=int, default=200, show_default=True),
    option(
        "--bound",
        type=int,
        default=0,
        help="transfers remembered per identifier (0: ANTIFRAUD_MAX_TRANSFERS_PER_IDENTIFIER)",
    ),
)
async def bench_busy(self: object, sizes: str, sample: int, bound: int) -> None:
    """CPU per transfer to and from one busy account, as its state grows (no Kafka)."""
    policy = settings.policy
    if bound:
        policy = dataclasses.replace(policy, max_transfers_per_identifier=bound)
    counts = [int(s) for s in sizes.split(",") if s.strip()]
    for role in ROLES:
        for figure in busy_account_cost(role, counts, sample, policy):
            print(orjson.dumps(figure).decode(), flush=True)
