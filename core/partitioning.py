"""Which partition owns an identifier: the one rule every sender of identifier events follows.

Identifier events travel in bundles (one record per partition per batch), sent to an
explicit partition, so the owner is fixed by this function rather than by a client's
key partitioner. CRC-32 is stable across processes and versions (Python's `hash` is not).
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from collections.abc import Iterable
from typing import TypeVar

T = TypeVar("T")


def owner_partition(identifier_key: str, partitions: int) -> int:
    return zlib.crc32(identifier_key.encode()) % partitions


def by_owner(items: Iterable[tuple[str, T]], partitions: int) -> dict[int, list[tuple[str, T]]]:
    """Group (identifier key, item) pairs by owner partition, keeping their order within each."""
    groups: dict[int, list[tuple[str, T]]] = defaultdict(list)
    for key, item in items:
        groups[owner_partition(key, partitions)].append((key, item))
    return dict(groups)
