"""The transfers an identifier's state remembers, kept in their stored form.

A busy account (a payroll account, a marketplace paying its sellers, a merchant whose bank
sends no `settled`) can have thousands of transfers in its state, and its state is read and
written on every event that reaches it. Building a `Transfer` object for each of them on
every read cost about 6 us per remembered transfer per event (70 ms per event at 10,000).
So they stay rows, as `orjson` decoded them, and only become `Transfer`s when a report asks
for all of them (the look-back, following the money).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from typing import Any

from antifraud.core.identifiers import Identifier
from antifraud.core.records import Transfer

# Positions in a row, as `transfer_to_json` writes it.
_RECIPIENT_BANK = 5
_CREATED_AT = 9


def transfer_to_json(t: Transfer) -> list[Any]:
    return [
        t.bank_id,
        t.transfer_id,
        t.sender.key,
        t.sender_bank,
        t.recipient.key,
        t.recipient_bank,
        t.amount,
        t.currency,
        t.status,
        t.created_at,
        t.purpose,
    ]


def transfer_from_json(row: list[Any]) -> Transfer:
    return Transfer(
        bank_id=row[0],
        transfer_id=row[1],
        sender=Identifier.from_key(row[2]),
        sender_bank=row[3],
        recipient=Identifier.from_key(row[4]),
        recipient_bank=row[5],
        amount=row[6],
        currency=row[7],
        status=row[8],
        created_at=row[9],
        purpose=row[10],
    )


_NEVER = float("inf")


def _key_of(row: list[Any]) -> str:
    return f"{row[0]}/{row[1]}"  # as Transfer.key


class TransferRows:
    """Transfers by `Transfer.key`, in the order they were remembered."""

    __slots__ = ("_oldest", "_rows")

    def __init__(self, transfers: Iterable[Transfer] = ()) -> None:
        self._rows: dict[str, list[Any]] = {t.key: transfer_to_json(t) for t in transfers}
        # No row was created before this (a lower bound, exact after a prune): `prune` runs on
        # every event, and most events find nothing to forget without reading every row.
        self._oldest = min((row[_CREATED_AT] for row in self._rows.values()), default=_NEVER)

    @classmethod
    def from_rows(cls, rows: Iterable[list[Any]]) -> TransferRows:
        remembered = cls()
        remembered._rows = {_key_of(row): row for row in rows}
        remembered._oldest = min(
            (row[_CREATED_AT] for row in remembered._rows.values()), default=_NEVER
        )
        return remembered

    def rows(self) -> list[list[Any]]:
        return list(self._rows.values())

    def put(self, transfer: Transfer) -> bool:
        """Remember `transfer` (replacing one with its key); True when it is new."""
        key = transfer.key
        new = key not in self._rows
        self._rows[key] = transfer_to_json(transfer)
        self._oldest = min(self._oldest, transfer.created_at)
        return new

    def discard(self, key: str) -> bool:
        """Forget the transfer named `key`; True when there was one."""
        return self._rows.pop(key, None) is not None

    def prune(self, horizon: float) -> int:
        """Forget the transfers created before `horizon`; how many there were."""
        if horizon <= self._oldest:
            return 0
        stale = [key for key, row in self._rows.items() if row[_CREATED_AT] < horizon]
        for key in stale:
            del self._rows[key]
        self._oldest = min((row[_CREATED_AT] for row in self._rows.values()), default=_NEVER)
        return len(stale)

    def keep_newest(self, limit: int) -> int:
        """Forget the oldest transfers beyond `limit`; how many were forgotten."""
        excess = len(self._rows) - limit
        if excess <= 0:
            return 0
        rows = self._rows
        for key in heapq.nsmallest(excess, rows, key=lambda k: (rows[k][_CREATED_AT], k)):
            del rows[key]
        return excess

    def get(self, key: str) -> Transfer | None:
        row = self._rows.get(key)
        return None if row is None else transfer_from_json(row)

    def transfers(self) -> list[Transfer]:
        """Every remembered transfer, decoded, ordered by key (so outcomes are deterministic)."""
        return [transfer_from_json(self._rows[key]) for key in sorted(self._rows)]

    def recipient_banks(self) -> set[str]:
        return {row[_RECIPIENT_BANK] for row in self._rows.values()}

    def __contains__(self, key: object) -> bool:
        return key in self._rows

    def __len__(self) -> int:
        return len(self._rows)

    def __iter__(self) -> Iterator[str]:
        return iter(self._rows)

    def __bool__(self) -> bool:
        return bool(self._rows)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TransferRows):
            return NotImplemented
        return self._rows == other._rows

    def __repr__(self) -> str:
        return f"TransferRows({sorted(self._rows)!r})"
