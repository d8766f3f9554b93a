"""The replica's RocksDB file: the listed accounts, the offsets read, and the counts.

Everything lives on disk, so a national-size list (millions of entries) costs RocksDB's
caches, not Python objects. One file holds three things, written together in one atomic
batch per poll, so a crash leaves them consistent with each other:

- one key per listed account, `kind:value` (as the topic is keyed), its value the
  entry's JSON exactly as published;
- per partition, the next offset to read (`\\x00offset/<partition>`);
- the number of entries per marker and hop (`\\x00counts`), kept as records arrive so that
  `stats()` never scans the list;
- the topic the file replicates and when it last heard from the broker.

Meta keys start with a zero byte; account keys start with a letter, so they never meet.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson
import rocksdict

from antifraud.core.identifiers import mask_key
from antifraud.core.names import WatchlistMarker
from antifraud.core.watchlist import WatchlistEntry, parse_entry_value

log = logging.getLogger("antifraud.clients")

_META = b"\x00"
_OFFSET = _META + b"offset/"
_COUNTS = _META + b"counts"
_TOPIC = _META + b"topic"
_HEARD_AT = _META + b"heard_at"


@dataclass(frozen=True, slots=True)
class Record:
    """One watchlist record as read from Kafka: a value of None is a tombstone."""

    partition: int
    offset: int
    key: bytes
    value: bytes | None


def _count_key(value: bytes | None) -> str | None:
    """`marker/hop` of a published entry (None for a tombstone), the only fields counted.

    Reads just those two (a full `WatchlistEntry` costs three times as much, and the file
    is filled a million records at a time); raises on what is not an entry.
    """
    if value is None:
        return None
    data = orjson.loads(value)
    marker, hop = data["marker"], data["hop"]
    if marker not in WatchlistMarker.ALL or type(hop) is not int or not data["account"]["value"]:
        raise ValueError("not a watchlist entry")
    return f"{marker}/{hop}"


class WatchlistStore:
    """The replica's file. Not for use on its own: `WatchlistReplica` feeds and reads it."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self._db = self._open()
        raw = self._db.get(_COUNTS)
        self._counts: dict[str, int] = orjson.loads(raw) if raw else {}

    def _open(self) -> rocksdict.Rdict:
        options = rocksdict.Options(raw_mode=True)
        options.create_if_missing(True)
        table = rocksdict.BlockBasedOptions()
        # A lookup of an account that is not listed (almost every payment) is answered by
        # the bloom filter without reading a data block.
        table.set_bloom_filter(10, False)
        # Index and filters stay in the table reader's memory (a few MB a million entries):
        # in the block cache, a file's index (2 MB at a million entries) is larger than a
        # cache shard and was read again for every lookup (2 ms each, measured).
        table.set_cache_index_and_filter_blocks(False)
        table.set_block_cache(rocksdict.Cache(32 * 1024 * 1024))
        options.set_block_based_table_factory(table)
        # The options given for the default column family too: without them, rocksdict
        # reopens an existing file with the options stored in it, which lose the filter.
        return rocksdict.Rdict(str(self.path), options, column_families={"default": options})

    # -------------------------------------------------------------------- reading

    def get(self, key: str) -> WatchlistEntry | None:
        """The entry listed under `key` (`kind:value`, normalised), or None."""
        return parse_entry_value(self._db.get(key.encode()))

    def __len__(self) -> int:
        return sum(self._counts.values())

    def counts(self) -> dict[str, int]:
        """Entries per `marker/hop`, e.g. `{"reported_account/0": 12, "mule_suspect/1": 3}`."""
        return {key: n for key, n in sorted(self._counts.items()) if n}

    def entries(self) -> Iterator[WatchlistEntry]:
        """Every listed entry, in key order (a scan: for audits, not for payments)."""
        iterator = self._db.iter()
        iterator.seek(b"\x01")
        while iterator.valid():
            value = parse_entry_value(iterator.value())
            if value is not None:
                yield value
            iterator.next()

    def offsets(self) -> dict[int, int]:
        """Per partition, the next offset to read."""
        found: dict[int, int] = {}
        iterator = self._db.iter()
        iterator.seek(_OFFSET)
        while iterator.valid() and iterator.key().startswith(_OFFSET):
            found[int(iterator.key()[len(_OFFSET) :])] = int(iterator.value())
            iterator.next()
        return found

    @property
    def topic(self) -> str | None:
        raw = self._db.get(_TOPIC)
        return raw.decode() if raw else None

    @property
    def heard_at(self) -> float | None:
        """When this file last heard from the broker (unix seconds), whatever it brought."""
        raw = self._db.get(_HEARD_AT)
        return float(raw) if raw else None

    # -------------------------------------------------------------------- writing

    def apply(self, records: Iterable[Record], now: float | None = None) -> int:
        """Apply records in offset order, all or nothing; returns how many were applied.

        A record whose value is not an entry (only the platform writes this topic, so this
        is a bug somewhere) is logged and skipped: the account keeps what it had.
        """
        batch = rocksdict.WriteBatch(raw_mode=True)
        counts = dict(self._counts)  # kept only once the batch is written
        pending: dict[bytes, bytes | None] = {}  # this batch's writes, read before the file
        next_offsets: dict[int, int] = {}
        applied = 0
        for record in records:
            next_offsets[record.partition] = record.offset + 1
            try:
                new = _count_key(record.value)
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError):
                log.warning(
                    "event=watchlist_record_skipped key=%s partition=%d offset=%d",
                    mask_key(record.key.decode("utf-8", "replace")),
                    record.partition,
                    record.offset,
                )
                continue
            old_raw = pending[record.key] if record.key in pending else self._db.get(record.key)
            old = _count_key(old_raw)
            if old is not None:
                counts[old] = counts.get(old, 0) - 1
            if new is not None:
                counts[new] = counts.get(new, 0) + 1
                batch.put(record.key, record.value)
            else:
                batch.delete(record.key)
            pending[record.key] = record.value
            applied += 1
        for partition, offset in next_offsets.items():
            batch.put(_OFFSET + str(partition).encode(), str(offset).encode())
        batch.put(_COUNTS, orjson.dumps(counts))
        batch.put(_HEARD_AT, repr(time.time() if now is None else now).encode())
        self._db.write(batch)
        self._counts = counts
        return applied

    def heard(self, now: float | None = None) -> None:
        """Note that the broker answered (with nothing new)."""
        self._db.put(_HEARD_AT, repr(time.time() if now is None else now).encode())

    def reset(self, topic: str) -> None:
        """Forget everything and start over as a replica of `topic` (read from the beginning).

        The file is destroyed and made anew: a range deletion over every key would stay in
        the file and cost every later lookup a walk through it (1.5 ms a lookup instead of
        microseconds, measured at a million entries).
        """
        self._db.close()
        rocksdict.Rdict.destroy(str(self.path))
        self._db = self._open()
        self._counts = {}
        self._db.put(_TOPIC, topic.encode())

    def close(self) -> None:
        self._db.close()
