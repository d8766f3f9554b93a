"""The lookup phase of `antifraud bench-watchlist`, run in a fresh interpreter.

`python -m antifraud.tools.bench.watchlist_lookups PATH ENTRIES LOOKUPS` opens the replica
file the bench filled and times lookups; it imports what a bank's service would (the
replica, the identifier checks), not the worker, so its memory is a bank's. Prints JSON.
"""

from __future__ import annotations

import os
import random
import sys
import time
from collections.abc import Callable
from typing import Any

import orjson

from antifraud.clients import WatchlistReplica
from antifraud.harness.simulation import make_card, make_iban, make_phone, messy_iban, messy_phone
from antifraud.tools.bench.measure import memory_mb

TOPIC = "antifraud.watchlist"


def account(serial: int) -> tuple[str, str, str]:
    """(kind, normalised value, the value as people write it) of account number `serial`."""
    share = serial % 10
    if share < 7:
        phone = make_phone(serial)
        return "phone", phone, messy_phone(phone)
    if share < 9:
        iban = make_iban("601", serial)
        return "iban", iban, messy_iban(iban)
    card = make_card(serial)
    return "card", card, " ".join(card[i : i + 4] for i in range(0, len(card), 4))


def rss_mb() -> dict[str, float]:
    """VmRSS (now) and VmHWM (peak) of this process, in MiB (Linux)."""
    return {name: round(mb, 1) for name, mb in memory_mb(os.getpid()).items()}


def lookups(path: str, entries: int, count: int) -> dict[str, Any]:
    rng = random.Random(7)
    # Half listed (serials below `entries`), half not; made before the memory is measured.
    queries = [
        account(rng.randrange(entries) if i % 2 == 0 else entries + rng.randrange(entries))
        for i in range(count)
    ]
    before = rss_mb()
    replica = WatchlistReplica(path, "127.0.0.1:1", topic=TOPIC)  # never connects
    replica.mark_ready()  # answer from the file as it is
    figures: dict[str, Any] = {"rss_before_open_mb": before["VmRSS"]}
    ways: tuple[tuple[str, Callable[[tuple[str, str, str]], bool]], ...] = (
        ("check_guessing_kind", lambda q: replica.check(q[2]).listed),
        ("check_with_kind", lambda q: replica.check(q[2], q[0]).listed),
        ("store_get_normalised_key", lambda q: replica.store.get(f"{q[0]}:{q[1]}") is not None),
    )
    for name, call in ways:
        started = time.perf_counter()
        listed = sum(1 for q in queries if call(q))
        seconds = time.perf_counter() - started
        if listed != (count + 1) // 2:
            raise AssertionError(f"{name}: {listed} of {count} listed, expected half")
        figures[f"{name}_per_second"] = round(count / seconds)
        figures[f"{name}_us"] = round(seconds / count * 1e6, 2)
    after = rss_mb()
    figures.update(rss_after_lookups_mb=after["VmRSS"], rss_peak_mb=after["VmHWM"])
    figures["replica_rss_mb"] = round(after["VmRSS"] - before["VmRSS"], 1)
    replica.close()
    return figures


if __name__ == "__main__":
    path, entries, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    print(orjson.dumps(lookups(path, entries, count)).decode())
