"""The money one report followed out of an identifier, and the bound on what is remembered of it.

When a watched account sends money, matching makes its recipient a suspect one hop further
(`antifraud.core.matching._follow`) and remembers, per report, each transfer it followed:
- to send it once (and again only when a shorter path is found: a lower hop), and
- to pass a revocation of that report on to every recipient it made a suspect.

A watched account that sends thousands of followed transfers (a mule paying out to many
accounts, a marketplace payout account named in a report) would keep thousands of these
markers: 5,000 made a 375,197-byte state row, and about 12,000 would pass the changelog's
record limit (CONTRACT.md, "Robustness promises" 2). `forget_followed` bounds them in two
steps, so that what is forgotten first costs least:

1. Beyond `keep_transfers` markers (all reports together), markers are forgotten, but
   their recipients are kept, in `recipients`: the revocation cascade needs only those. The
   markers of transfers the identifier no longer remembers go first (oldest first): only a
   repeat of that very transfer (a later status of it) could follow it again. Then the
   oldest of the report with the most. Should a transfer whose marker was forgotten be
   followed again (a repeat, or a watch event for the report re-following every transfer
   remembered), its watch is sent again, which the recipient applies as a repeat (same
   report, same transfer, same command ids): work, no new command.
2. Beyond `keep_recipients` such recipients, the oldest of the report with the most is
   forgotten too. Only then is something lost: a revocation of that report no longer
   reaches that recipient, which stays a suspect for the report (its holds and freezes
   lapse by their `expires_at`, new transfers to it are still held) until a revocation
   reaches it by another path. Both are counted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Container, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any


@dataclass(slots=True)
class Followed:
    """What one report followed out of an identifier, oldest first."""

    # "recipient key|transfer key" -> the hop its watch was sent at
    transfers: dict[str, int] = field(default_factory=dict)
    # recipients reached by transfers whose markers were forgotten (the cascade still needs them)
    recipients: dict[str, None] = field(default_factory=dict)
    # how many markers name each recipient: derived from `transfers` when built (never
    # stored), so that forgetting one costs no pass over the others; `transfers` is changed
    # only through `send` and `forget_marker`, which keep it in step
    _naming: Counter[str] = field(default_factory=Counter, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._naming.update(_recipient(marker) for marker in self.transfers)

    def send(self, recipient_key: str, transfer_key: str, hop: int) -> bool:
        """Remember that `transfer_key` is followed to `recipient_key` at `hop`; False when it
        already was, at that hop or a nearer one (nothing to send)."""
        marker = f"{recipient_key}|{transfer_key}"
        earlier = self.transfers.get(marker)
        if earlier is None:
            self._naming[recipient_key] += 1
        elif earlier <= hop:
            return False
        else:
            del self.transfers[marker]  # re-sent nearer: it is the newest now
        self.transfers[marker] = hop
        return True

    def forget_marker(self, marker: str) -> None:
        """Forget a marker; its recipient, if no other marker names it, is kept bare."""
        del self.transfers[marker]
        recipient_key = _recipient(marker)
        self._naming[recipient_key] -= 1
        if not self._naming[recipient_key]:
            del self._naming[recipient_key]
            self.recipients.setdefault(recipient_key, None)

    def forget_recipient(self, recipient_key: str) -> bool:
        """Forget a bare recipient; True when a revocation can no longer reach it."""
        del self.recipients[recipient_key]
        return recipient_key not in self._naming

    def reached(self) -> set[str]:
        """Every recipient a revocation of the report must reach."""
        return set(self._naming).union(self.recipients)

    def __bool__(self) -> bool:
        return bool(self.transfers or self.recipients)


def _recipient(marker: str) -> str:
    return marker.partition("|")[0]  # an identifier key has no "|"; a transfer id may


def forget_followed(
    spread: dict[str, Followed],
    keep_transfers: int,
    keep_recipients: int,
    outflows: Container[str] = (),
) -> tuple[int, int]:
    """Bound what `spread` (report id -> Followed) remembers; return how many transfer
    markers were forgotten, and how many recipients a revocation can no longer reach.

    Markers of transfers no longer in `outflows` (the transfers the identifier remembers)
    go first: only a repeat of that very transfer could follow it again.
    """
    excess = sum(len(followed.transfers) for followed in spread.values()) - keep_transfers
    markers = 0
    for followed, marker in _not_remembered(spread, excess, outflows):
        followed.forget_marker(marker)
        markers += 1
    for followed, marker in _oldest(spread, keep_transfers, _markers):
        followed.forget_marker(marker)
        markers += 1
    lost = 0
    for followed, recipient_key in _oldest(spread, keep_recipients, _recipients):
        lost += followed.forget_recipient(recipient_key)
    for report_id in [r for r, followed in spread.items() if not followed]:
        del spread[report_id]
    return markers, lost


def _not_remembered(
    spread: dict[str, Followed], excess: int, outflows: Container[str]
) -> list[tuple[Followed, str]]:
    """Up to `excess` markers, oldest first, of transfers not in `outflows`."""
    found: list[tuple[Followed, str]] = []
    for followed in sorted(spread.values(), key=lambda f: len(f.transfers), reverse=True):
        for marker in followed.transfers:
            if len(found) >= excess:
                return found
            if marker.partition("|")[2] not in outflows:
                found.append((followed, marker))
    return found


def _markers(followed: Followed) -> dict[str, Any]:
    return followed.transfers


def _recipients(followed: Followed) -> dict[str, Any]:
    return followed.recipients


def _oldest(
    spread: dict[str, Followed], keep: int, entries: Callable[[Followed], dict[str, Any]]
) -> Iterator[tuple[Followed, str]]:
    """While all reports together have more than `keep` entries, the oldest entries of the
    report with the most, each to be forgotten before the next is asked for. Down to the
    next largest report at once, so that one busy report costs one pass."""
    excess = sum(len(entries(followed)) for followed in spread.values()) - keep
    while excess > 0:
        sizes = sorted(((len(entries(f)), r) for r, f in spread.items()), reverse=True)
        (largest, report_id), next_largest = sizes[0], sizes[1][0] if len(sizes) > 1 else 0
        owner = spread[report_id]
        batch = list(islice(entries(owner), max(1, min(excess, largest - next_largest))))
        for entry in batch:
            yield owner, entry
        excess -= len(batch)
