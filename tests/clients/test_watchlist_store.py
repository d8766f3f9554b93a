"""The replica's RocksDB file: last write wins per account, tombstones delete, counts follow."""

from __future__ import annotations

import itertools
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from antifraud.clients.watchlist_store import Record, WatchlistStore
from antifraud.core.identifiers import Identifier
from antifraud.core.names import WatchlistMarker
from antifraud.core.watchlist import WatchlistEntry, entry_record
from tests.core.strategies import phone_id

KEYS = [phone_id(i).key for i in range(6)]


def entry(key: str, hop: int) -> WatchlistEntry:
    return WatchlistEntry(
        account=Identifier.from_key(key),
        marker=WatchlistMarker.REPORTED_ACCOUNT if hop == 0 else WatchlistMarker.MULE_SUSPECT,
        hop=hop,
        fraud_types=("other",),
        report_ids=("R-1",),
        banks=("HSBKKZKX",),
        since="2026-11-29T09:00:00.000Z",
        amount_limit=None if hop == 0 else 500,
    )


def record(partition: int, offset: int, key: str, hop: int | None) -> Record:
    raw_key, value = entry_record(key, None if hop is None else entry(key, hop))
    return Record(partition, offset, raw_key, value)


WRITES = st.lists(
    st.tuples(st.sampled_from(KEYS), st.none() | st.integers(0, 3), st.integers(1, 5)),
    max_size=40,
)


@settings(max_examples=60, deadline=None)
@given(WRITES)
def test_the_file_holds_the_last_write_of_every_key_and_counts_it(
    tmp_path_factory: pytest.TempPathFactory, writes: list[tuple[str, int | None, int]]
) -> None:
    path = tmp_path_factory.mktemp("store")
    store = WatchlistStore(path)
    store.reset("antifraud.watchlist")
    offsets = itertools.count()
    latest: dict[str, int | None] = {}
    pending: list[Record] = []
    for key, hop, flush_after in writes:
        pending.append(record(0, next(offsets), key, hop))
        latest[key] = hop
        if len(pending) >= flush_after:  # batches of any size, a key written twice in one
            store.apply(pending)
            pending = []
    store.apply(pending)
    expected = {key: hop for key, hop in latest.items() if hop is not None}
    for key in KEYS:
        got = store.get(key)
        assert (got.hop if got else None) == expected.get(key)
    assert [e.key for e in store.entries()] == sorted(expected)
    expected_counts = Counter(
        f"{WatchlistMarker.REPORTED_ACCOUNT if hop == 0 else WatchlistMarker.MULE_SUSPECT}/{hop}"
        for hop in expected.values()
    )
    assert store.counts() == dict(sorted(expected_counts.items()))
    assert len(store) == len(expected)
    if writes:
        assert store.offsets() == {0: len(writes)}
    store.close()


def test_offsets_counts_and_entries_survive_a_reopen(tmp_path: Path) -> None:
    store = WatchlistStore(tmp_path)
    store.reset("antifraud.watchlist")
    store.apply([record(0, 0, KEYS[0], 0), record(1, 7, KEYS[1], 2), record(1, 8, KEYS[2], 1)])
    store.apply([record(1, 9, KEYS[2], None)], now=1234.5)
    store.close()
    again = WatchlistStore(tmp_path)
    assert again.topic == "antifraud.watchlist"
    assert again.offsets() == {0: 1, 1: 10}
    assert again.counts() == {"mule_suspect/2": 1, "reported_account/0": 1}
    assert again.heard_at == 1234.5
    assert again.get(KEYS[2]) is None
    got = again.get(KEYS[1])
    assert got is not None and got == entry(KEYS[1], 2)
    again.close()


def test_a_reset_forgets_everything(tmp_path: Path) -> None:
    store = WatchlistStore(tmp_path)
    store.reset("a")
    store.apply([record(0, 0, KEYS[0], 0)])
    store.reset("b")
    assert (store.topic, store.offsets(), store.counts(), len(store)) == ("b", {}, {}, 0)
    assert store.get(KEYS[0]) is None and list(store.entries()) == []
    store.close()


def test_a_record_that_is_not_an_entry_is_skipped_and_its_account_keeps_what_it_had(
    tmp_path: Path,
) -> None:
    store = WatchlistStore(tmp_path)
    store.reset("antifraud.watchlist")
    store.apply([record(0, 0, KEYS[0], 0)])
    applied = store.apply(
        [Record(0, 1, KEYS[0].encode(), b"{not json"), Record(0, 2, KEYS[1].encode(), b"{}")]
    )
    assert applied == 0
    assert store.get(KEYS[0]) == entry(KEYS[0], 0)
    assert store.get(KEYS[1]) is None
    assert store.offsets() == {0: 3}  # read past, not stuck on it
    assert store.counts() == {"reported_account/0": 1}
    store.close()
