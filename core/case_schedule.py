"""Which cases time alone may change next, and how many there are by status.

The cases' timer used to decode every case on the worker every 30 s to find those whose
status a lifetime's end had changed and to count them by status: about 0.4 ms per ordinary
case, so 100,000 cases (a year of reports) would hold the worker's event loop 43 s of every
30. The agent notes each case it writes here instead, and the timer reads this; it is rebuilt
from the table only when the worker's partitions change.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


@dataclass(slots=True)
class CaseSchedule(Generic[K]):
    _due: dict[K, float] = field(default_factory=dict)  # when time alone may change it
    _status: dict[K, str] = field(default_factory=dict)
    # While rebuilt from the table (a pass that lets the agent run between its reads): the
    # keys the agent noted meanwhile, whose notes are newer than what the pass read.
    _noted_in_rebuild: set[K] | None = None

    def note(self, key: K, due: float | None, status: str) -> None:
        """`key`'s status now, and when time alone may next change it (None: never)."""
        if self._noted_in_rebuild is not None:
            self._noted_in_rebuild.add(key)
        self._set(key, due, status)

    def begin_rebuild(self) -> None:
        self.clear()
        self._noted_in_rebuild = set()

    def note_from_table(self, key: K, due: float | None, status: str) -> None:
        """As `note`, from the rebuild's read of the table: never over a newer note."""
        if self._noted_in_rebuild is None or key not in self._noted_in_rebuild:
            self._set(key, due, status)

    def end_rebuild(self) -> None:
        self._noted_in_rebuild = None

    def _set(self, key: K, due: float | None, status: str) -> None:
        self._status[key] = status
        if due is None:
            self._due.pop(key, None)
        else:
            self._due[key] = due

    def due(self, now: float) -> list[K]:
        """The cases whose status time may have changed by `now`."""
        return [key for key, when in self._due.items() if when <= now]

    def counts(self) -> Counter[str]:
        return Counter(self._status.values())

    def clear(self) -> None:
        self._due.clear()
        self._status.clear()
