"""One batch's view of a table: each value read once, changed in memory, and written back
only after the batch's sends are on the broker.

Agents that write a table after sending (a command, a case status) used to wait for the
broker once per record: at a few ms a round trip, a burst of acks or of a busy account's
holds kept an agent behind for tens of seconds, and a full agent queue stops Faust handing
records to every agent of the worker. With a staged view the agent waits once per batch,
and the rule of `streams/emit.py` (`delivered`) still holds: no table state reaches its
changelog ahead of the sends it records.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from faust.streams import current_event

from antifraud.streams.faust_internals.current_event import current_event_set

V = TypeVar("V")


class Decoded(Generic[V]):
    """Values decoded by earlier batches, each with the bytes it stands for: a later batch
    that reads the same bytes from the table takes the value instead of decoding it again.

    For tables with large values read batch after batch (a busy account's case holds 1,000
    holds in 370 KB, 25 ms to decode). Kept only up to `max_bytes` of their bytes, the
    least recently used dropped first. A value is taken out while a batch holds it and put
    back by its write-back, so a batch that fails midway leaves nothing half-changed here.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[bytes, tuple[bytes, V]] = OrderedDict()
        self._bytes = 0

    def take(self, key: bytes, raw: bytes) -> V | None:
        entry = self._entries.pop(key, None)
        if entry is None:
            return None
        self._bytes -= len(entry[0])
        # Another worker may have written the key since (a rebalance): then decode again.
        return entry[1] if entry[0] == raw else None

    def keep(self, key: bytes, raw: bytes, value: V) -> None:
        if len(raw) > self.max_bytes:
            return
        self._entries[key] = (raw, value)
        self._bytes += len(raw)
        while self._bytes > self.max_bytes:
            _, (dropped, _) = self._entries.popitem(last=False)
            self._bytes -= len(dropped)


class Staged(Generic[V]):
    """`table` seen through one batch: `load(key, raw)` on first read, `dump` on write-back.

    A value changed in place must be marked (`changed`): with `decoded`, one read and not
    marked is handed to later batches as the bytes it was read from."""

    def __init__(
        self,
        table: Any,
        load: Callable[[bytes, bytes | None], V],
        dump: Callable[[V], bytes],
        decoded: Decoded[V] | None = None,
    ) -> None:
        self._table = table
        self._load = load
        self._dump = dump
        self._decoded = decoded
        self._values: dict[bytes, V] = {}
        self._raw: dict[bytes, bytes] = {}  # key -> the bytes its value stands for
        # Key -> the record that changed it: Faust sends a table write's changelog record to
        # the partition of the event current when it is written.
        self._changed: dict[bytes, Any] = {}

    def __getitem__(self, key: bytes) -> V:
        if key not in self._values:
            raw = self._table.get(key)
            value = None
            if raw is not None and self._decoded is not None:
                value = self._decoded.take(key, raw)
            self._values[key] = self._load(key, raw) if value is None else value
            if raw is not None:
                self._raw[key] = raw
        return self._values[key]

    def __setitem__(self, key: bytes, value: V) -> None:
        self._values[key] = value
        self.changed(key)

    def changed(self, key: bytes) -> None:
        """The value read at `key` was changed in place: write it back."""
        self._changed[key] = current_event()

    def write_back(self) -> None:
        """Into the table, once the sends these values record are delivered."""
        for key, event in self._changed.items():
            raw = self._dump(self._values[key])
            if event is None:
                self._table[key] = raw
            else:
                with current_event_set(event):
                    self._table[key] = raw
            self._raw[key] = raw
        self._changed.clear()
        if self._decoded is not None:
            # Handed on to later batches: this view lets go of them (its batch is over).
            for key, raw in self._raw.items():
                self._decoded.keep(key, raw, self._values[key])
            self._values.clear()
            self._raw.clear()
