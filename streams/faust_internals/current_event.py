"""11. The event a table write belongs to, set for one record of a batch.

Faust sends a table write's changelog record to the partition of `current_event()`, which
it sets as a stream hands over each record. An agent that takes a batch
(`Stream.noack_take`) handles records of several partitions together, and writes its table
after the batch's sends are delivered (streams/staged.py): it sets each record's event
around the record's handling and around the write of what that record changed. Nothing
else changes: acks and committed offsets stay the batch's, as before.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from faust.streams import _current_event


@contextmanager
def current_event_set(event: Any) -> Iterator[None]:
    """`faust.streams.current_event()` is `event` inside, what it was after."""
    token = _current_event.set(weakref.ref(event))
    try:
        yield
    finally:
        _current_event.reset(token)
