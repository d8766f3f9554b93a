"""The watchlist entry of one identifier, derived from its matching state (contract: "Watchlist").

`antifraud.watchlist` is a compacted topic keyed by the normalised identifier: one entry per
account the platform watches, a tombstone (no value) once no live report supports it. The
entry is a pure function of the identifier's `IdentifierState`, so whatever replays a worker
goes through after a restart or a rebalance, the entry it writes is the one its state says:
the worker compares the entry before and after an event and writes only when it changed.

An entry carries no more than the contract's fields: no case number, no victim, no amount
held. A bank reads it to refuse or delay a payment before it is initiated.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from antifraud.core.identifiers import KINDS, Identifier, InvalidIdentifier, normalise
from antifraud.core.matching import IdentifierState, amount_limit
from antifraud.core.names import WatchlistMarker
from antifraud.core.timestamps import format_rfc3339


@dataclass(frozen=True, slots=True)
class WatchlistEntry:
    """One listed account, as the contract writes it (`as_json`)."""

    account: Identifier
    marker: str  # WatchlistMarker: REPORTED_ACCOUNT (hop 0) or MULE_SUSPECT (hop >= 1)
    hop: int
    fraud_types: tuple[str, ...]
    report_ids: tuple[str, ...]
    banks: tuple[str, ...]
    since: str  # RFC 3339, UTC: the earliest live report's `reported_at`
    amount_limit: int | None  # a suspect's freeze limit; None for a reported account

    @property
    def key(self) -> str:
        return self.account.key

    def as_json(self) -> dict[str, Any]:
        return {
            "account": self.account.as_json(),
            "marker": self.marker,
            "hop": self.hop,
            "fraud_types": list(self.fraud_types),
            "report_ids": list(self.report_ids),
            "banks": list(self.banks),
            "since": self.since,
            "amount_limit": self.amount_limit,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WatchlistEntry:
        """Read a published entry; unknown extra fields are ignored (the contract's rule)."""
        account = data["account"]
        return cls(
            account=Identifier(str(account["kind"]), str(account["value"])),
            marker=str(data["marker"]),
            hop=int(data["hop"]),
            fraud_types=tuple(data.get("fraud_types") or ()),
            report_ids=tuple(data.get("report_ids") or ()),
            banks=tuple(data.get("banks") or ()),
            since=str(data["since"]),
            amount_limit=data.get("amount_limit"),
        )


def watchlist_entry(identifier_key: str, state: IdentifierState) -> WatchlistEntry | None:
    """The entry `state` makes for `identifier_key`, or None (a tombstone) when unwatched.

    A report naming the account (hop 0) makes it a reported account whatever else supports
    it; otherwise it is a suspect at the nearest hop any live report reached it by, with the
    limit its freeze has (`antifraud.core.matching.amount_limit`).
    """
    supports = state.supports.values()
    if not supports:
        return None
    hop = min(s.hop for s in supports)
    return WatchlistEntry(
        account=Identifier.from_key(identifier_key),
        marker=WatchlistMarker.REPORTED_ACCOUNT if hop == 0 else WatchlistMarker.MULE_SUSPECT,
        hop=hop,
        fraud_types=tuple(sorted({s.fraud_type for s in supports})),
        report_ids=tuple(sorted(state.supports)),
        banks=tuple(sorted(set(state.banks))),
        since=format_rfc3339(min(s.reported_at for s in supports)),
        amount_limit=None if hop == 0 else amount_limit(state),
    )


def entry_changed(before: WatchlistEntry | None, after: WatchlistEntry | None) -> bool:
    """Whether the topic needs a new record: the entry appeared, went, or any field moved.

    Unwatched before and after (a transfer between two accounts nobody reported) writes
    nothing: the topic only ever hears about watched accounts and their tombstones.
    """
    return before != after


def entry_record(identifier_key: str, entry: WatchlistEntry | None) -> tuple[bytes, bytes | None]:
    """The topic record: key `kind:value`, value the entry's JSON or None (a tombstone)."""
    value = None if entry is None else orjson.dumps(entry.as_json())
    return identifier_key.encode(), value


def parse_entry_value(value: bytes | None) -> WatchlistEntry | None:
    """The inverse of `entry_record`'s value (None for a tombstone)."""
    return None if value is None else WatchlistEntry.from_json(orjson.loads(value))


def lookup_identifiers(text: str, kind: str | None = None) -> list[Identifier]:
    """What a bank's `check(text)` must look up, normalised exactly as the platform does.

    `kind` given: that kind only (InvalidIdentifier when the value fails its check). Not
    given: `text` may say its kind (`phone:+77011234567`, as the topic is keyed); else every
    kind whose check `text` passes, in the order iban, card, phone. A value passes at most
    one check in practice (letters make an IBAN; a card needs 13-19 digits and the Luhn
    check, a phone written without `+` or `00` has 10 or 11 digits), and when one passes
    two, both are looked up. InvalidIdentifier when none does.
    """
    if kind is None:
        prefix, sep, rest = text.partition(":")
        if sep and prefix.strip().lower() in KINDS:
            kind, text = prefix.strip().lower(), rest
    if kind is not None:
        return [normalise(kind, text)]
    found: list[Identifier] = []
    reasons: list[str] = []
    for candidate in KINDS:
        try:
            found.append(normalise(candidate, text))
        except InvalidIdentifier as exc:
            reasons.append(str(exc))
    if not found:
        raise InvalidIdentifier("not an IBAN, card or phone number (" + "; ".join(reasons) + ")")
    return found
