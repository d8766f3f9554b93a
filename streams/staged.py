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

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from faust.streams import current_event

from antifraud.streams.faust_internals.current_event import current_event_set

V = TypeVar("V")


class Staged(Generic[V]):
    """`table` seen through one batch: `load(key, raw)` on first read, `dump` on write-back."""

    def __init__(
        self,
        table: Any,
        load: Callable[[bytes, bytes | None], V],
        dump: Callable[[V], bytes],
    ) -> None:
        self._table = table
        self._load = load
        self._dump = dump
        self._values: dict[bytes, V] = {}
        # Key -> the record that changed it: Faust sends a table write's changelog record to
        # the partition of the event current when it is written.
        self._changed: dict[bytes, Any] = {}

    def __getitem__(self, key: bytes) -> V:
        if key not in self._values:
            self._values[key] = self._load(key, self._table.get(key))
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
            value = self._dump(self._values[key])
            if event is None:
                self._table[key] = value
            else:
                with current_event_set(event):
                    self._table[key] = value
        self._changed.clear()
