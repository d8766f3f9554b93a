"""bench-watchlist's two phases on a small file: the fill counts what it wrote, and the
lookups find exactly the listed half (the phase itself raises otherwise)."""

from __future__ import annotations

from pathlib import Path

from antifraud.core.identifiers import Identifier
from antifraud.core.names import WatchlistMarker
from antifraud.core.watchlist import lookup_identifiers
from antifraud.tools.bench.watchlist import entry_for, fill
from antifraud.tools.bench.watchlist_lookups import account, lookups


def test_fill_then_lookups(tmp_path: Path) -> None:
    figures = fill(tmp_path / "replica", 2_000)
    assert figures["entries"] == 2_000
    assert sum(figures["counts"].values()) == 2_000
    assert figures["counts"][f"{WatchlistMarker.REPORTED_ACCOUNT}/0"] == 1_600
    measured = lookups(str(tmp_path / "replica"), 2_000, 300)
    for way in ("check_guessing_kind", "check_with_kind", "store_get_normalised_key"):
        assert measured[f"{way}_per_second"] > 0
    assert measured["rss_after_lookups_mb"] >= measured["rss_before_open_mb"] > 0


def test_the_accounts_are_valid_and_their_entries_say_so() -> None:
    kinds = set()
    for serial in range(10):
        kind, value, written = account(serial)
        assert lookup_identifiers(written, kind) == [Identifier(kind, value)]
        kinds.add(kind)
    assert kinds == {"phone", "iban", "card"}
    suspect = entry_for(5)
    assert (suspect.marker, suspect.hop, suspect.amount_limit) == (
        WatchlistMarker.MULE_SUSPECT,
        3,
        2_500_000,
    )
    assert entry_for(1).marker == WatchlistMarker.REPORTED_ACCOUNT
