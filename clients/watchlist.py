"""`WatchlistReplica`: a bank's local copy of the platform's watchlist, and `check()` on it.

For a bank's integration team. The platform publishes every account it watches to the
compacted topic `antifraud.watchlist` (contract, "Watchlist"): key the normalised account
(`phone:+77011234567`), value its entry, a tombstone (no value) once no live police report
supports it. This class reads that topic from the beginning into a RocksDB file on local
disk, keeps following it, and answers `check(account)` from the file in microseconds,
without a network call on the payment path.

    from antifraud.clients import WatchlistReplica

    replica = WatchlistReplica(
        "/var/lib/bank/watchlist",                # local directory, kept across restarts
        "kafka-1.antifraud.example:9093",
        consumer_options={                        # any kafka-python KafkaConsumer option
            "security_protocol": "SASL_SSL",
            "sasl_mechanism": "SCRAM-SHA-512",
            "sasl_plain_username": "bank-hsbkkzkx",
            "sasl_plain_password": secret,
            "ssl_cafile": "/etc/bank/antifraud-ca.pem",
        },
    )
    replica.start()                  # a background thread reads and then follows the topic
    replica.wait_ready(timeout=600)  # until it holds everything published when it started

    answer = replica.check("8 (701) 123-45-67")   # any way people write a phone, IBAN or card
    if answer.listed:
        entry = answer.entry         # marker, hop, fraud_types, report_ids, banks, since, ...
        ...                          # refuse or delay the payment: the bank's own policy

What to know:

- Following: call `start()` once (a daemon thread polls the topic; `stop()` or `close()`
  ends it), or, without a thread, `sync()` once and then `poll()` from your own loop. Not
  both: the Kafka consumer belongs to one thread. `check()` and `stats()` are safe from any
  thread at any time; they raise `ReplicaNotReady` until the first catch-up is done, so a
  half-read list never answers "not listed" for a listed account.
- Freshness: the platform writes an entry within a second of the account becoming watched;
  the replica sees it within its poll interval (about 0.1 s) after that. `stats().heard_at`
  says when the broker last answered: alert when it is old.
- Restarts: the file keeps the entries and the offsets read, so a restart reads only what
  is new. It starts over from the beginning when it was away longer than
  `rebuild_after_seconds` (default 12 h: under the topic's `delete.retention.ms`, 24 h by
  default, after which compaction may drop a tombstone the file never saw), when the topic's
  log no longer holds the offsets it stopped at, or when the directory replicated another topic.
- Access: the replica reads with `group_id=None` and assigns itself every partition, so a
  bank's principal needs only Read (and Describe) on the topic, no consumer group and no
  write right. Nothing on the topic names a victim or a case; the file is still a list of
  suspected fraud accounts: protect it like customer data.
- Input: `check()` normalises exactly as the platform does (`antifraud.core.identifiers`). A
  kind may be given (`check(value, kind="iban")`) or guessed; a value that passes no
  check raises `InvalidIdentifier` (a payment to it cannot be valid either).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from kafka import KafkaConsumer, TopicPartition

from antifraud.clients.watchlist_store import Record, WatchlistStore
from antifraud.core.watchlist import WatchlistEntry, lookup_identifiers

log = logging.getLogger("antifraud.clients")

DEFAULT_TOPIC = "antifraud.watchlist"
# Under the broker's default delete.retention.ms (24 h): see the module's docstring.
DEFAULT_REBUILD_AFTER_SECONDS = 12 * 3600.0
_METADATA_REFRESH_SECONDS = 30.0  # how often new partitions (or a new topic) are looked for
_HEARD_WRITE_SECONDS = 10.0  # how often an empty poll is noted on disk


class ReplicaNotReady(RuntimeError):
    """`check()` before the replica caught up once: its answer could be wrong."""


@dataclass(frozen=True, slots=True)
class Check:
    """The answer for one account: `listed`, and if so its `entry` as published."""

    looked_up: tuple[str, ...]  # the normalised keys looked up (usually one)
    entry: WatchlistEntry | None

    @property
    def listed(self) -> bool:
        return self.entry is not None

    def as_json(self) -> dict[str, Any]:
        return {
            "listed": self.listed,
            "looked_up": list(self.looked_up),
            "entry": None if self.entry is None else self.entry.as_json(),
        }


@dataclass(frozen=True, slots=True)
class Stats:
    """Counts of the listed accounts, by marker and by hop."""

    entries: int
    by_marker: dict[str, int] = field(default_factory=dict)
    by_hop: dict[int, int] = field(default_factory=dict)
    heard_at: float | None = None  # unix seconds the broker last answered the replica

    @classmethod
    def from_counts(cls, counts: Mapping[str, int], heard_at: float | None) -> Stats:
        by_marker: dict[str, int] = {}
        by_hop: dict[int, int] = {}
        for marker_hop, n in counts.items():
            marker, _, hop = marker_hop.rpartition("/")
            by_marker[marker] = by_marker.get(marker, 0) + n
            by_hop[int(hop)] = by_hop.get(int(hop), 0) + n
        return cls(sum(counts.values()), by_marker, dict(sorted(by_hop.items())), heard_at)

    def as_json(self) -> dict[str, Any]:
        return {
            "entries": self.entries,
            "by_marker": self.by_marker,
            "by_hop": {str(hop): n for hop, n in self.by_hop.items()},
            "heard_at": self.heard_at,
        }


class WatchlistReplica:
    """A local, followed copy of `antifraud.watchlist` (see the module's docstring)."""

    def __init__(
        self,
        path: str | Path,
        bootstrap_servers: str | list[str],
        *,
        topic: str = DEFAULT_TOPIC,
        consumer_options: Mapping[str, Any] | None = None,
        rebuild_after_seconds: float = DEFAULT_REBUILD_AFTER_SECONDS,
        poll_timeout_seconds: float = 0.5,
    ) -> None:
        self.topic = topic
        self.store = WatchlistStore(path)
        self._bootstrap = bootstrap_servers
        self._options = dict(consumer_options or {})
        self._rebuild_after = rebuild_after_seconds
        self._poll_timeout_ms = int(poll_timeout_seconds * 1000)
        self._consumer: KafkaConsumer | None = None
        self._assigned: set[TopicPartition] = set()
        self._partitions_checked_at = 0.0
        self._heard_written_at = 0.0
        self._ready = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None

    # -------------------------------------------------------------------- answers

    def check(self, account: str, kind: str | None = None) -> Check:
        """Whether `account` is listed, written any way people write it (see the docstring)."""
        if not self._ready.is_set():
            raise ReplicaNotReady("the replica has not caught up yet: sync() or wait_ready()")
        identifiers = lookup_identifiers(account, kind)
        keys = tuple(identifier.key for identifier in identifiers)
        for key in keys:
            entry = self.store.get(key)
            if entry is not None:
                return Check(keys, entry)
        return Check(keys, None)

    def stats(self) -> Stats:
        if not self._ready.is_set():
            raise ReplicaNotReady("the replica has not caught up yet: sync() or wait_ready()")
        return Stats.from_counts(self.store.counts(), self.store.heard_at)

    def __len__(self) -> int:
        return len(self.store)

    # -------------------------------------------------------------------- following

    def sync(self, timeout: float = 600.0) -> None:
        """Read until the replica holds everything published when this was called.

        Without a thread only; with `start()`, use `wait_ready()`.
        """
        if self._thread is not None:
            raise RuntimeError("the replica follows in its own thread: use wait_ready()")
        self._catch_up(time.monotonic() + timeout)
        self._ready.set()

    def poll(self) -> int:
        """Apply what arrived since the last call (waits up to the poll timeout for it);
        returns how many records were applied."""
        consumer = self._connect()
        if not self._refresh_partitions(consumer):
            time.sleep(self._poll_timeout_ms / 1000)
            return 0
        batches = consumer.poll(timeout_ms=self._poll_timeout_ms, max_records=10_000)
        records = [
            Record(r.partition, r.offset, r.key, r.value)
            for batch in batches.values()
            for r in batch
        ]
        now = time.time()
        if records:
            self._heard_written_at = now
            return self.store.apply(records, now)
        if now - self._heard_written_at >= _HEARD_WRITE_SECONDS:
            self._heard_written_at = now
            self.store.heard(now)
        return 0

    def start(self) -> WatchlistReplica:
        """Follow the topic in a daemon thread: catch up, become ready, then keep polling."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._follow, name="watchlist-replica", daemon=True
            )
            self._thread.start()
        return self

    def wait_ready(self, timeout: float | None = None) -> None:
        """Block until the first catch-up is done (raises TimeoutError, or what stopped it)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._ready.wait(0.1):
            if self._failure is not None:
                raise self._failure
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"watchlist replica not caught up after {timeout} s")

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    def mark_ready(self) -> None:
        """Answer from the file as it is, without catching up first: for a bench, or for a
        bank that prefers a list as old as `stats().heard_at` to none while its broker is
        unreachable at start. `sync()` and `start()` still bring it up to date."""
        self._ready.set()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def close(self) -> None:
        self.stop()
        if self._consumer is not None:
            self._consumer.close()
            self._consumer = None
        self.store.close()

    def __enter__(self) -> WatchlistReplica:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -------------------------------------------------------------------- inside

    def _follow(self) -> None:
        try:
            self._catch_up(None)
            self._ready.set()
            log.info("event=watchlist_replica_ready entries=%d", len(self.store))
            while not self._stopping.is_set():
                try:
                    self.poll()
                except Exception as exc:  # kafka-python retries most errors itself
                    log.warning("event=watchlist_replica_poll_failed error=%r", exc)
                    self._stopping.wait(1.0)
        except BaseException as exc:
            self._failure = exc
            log.error("event=watchlist_replica_stopped error=%r", exc)

    def _catch_up(self, deadline: float | None) -> None:
        """Poll until every partition reaches the end it had when the catch-up started."""
        consumer = self._connect()
        while not self._refresh_partitions(consumer, force=True):
            self._check_deadline(deadline, "the topic does not exist")
            time.sleep(0.5)
        ends = consumer.end_offsets(sorted(self._assigned, key=lambda tp: tp.partition))
        while any(consumer.position(tp) < end for tp, end in ends.items()):
            self._check_deadline(deadline, "not caught up")
            self.poll()
        # Some brokers (the embedded Tansu) report the last batch's first offset as the end:
        # read on until a poll brings nothing, so the tail is not left out.
        while self.poll():
            self._check_deadline(deadline, "not caught up")

    def _check_deadline(self, deadline: float | None, what: str) -> None:
        if self._stopping.is_set():
            raise RuntimeError("watchlist replica stopped")
        if deadline is not None and time.monotonic() > deadline:
            raise TimeoutError(f"watchlist replica: {what} ({self.topic})")

    def _connect(self) -> KafkaConsumer:
        if self._consumer is None:
            self._consumer = KafkaConsumer(
                bootstrap_servers=self._bootstrap,
                group_id=None,
                enable_auto_commit=False,
                allow_auto_create_topics=False,
                fetch_max_wait_ms=100,
                **self._options,
            )
        return self._consumer

    def _refresh_partitions(self, consumer: KafkaConsumer, force: bool = False) -> bool:
        """Assign every partition of the topic (new ones too, from their beginning); on the
        first assignment, start over when the file cannot be trusted. False: no topic yet."""
        now = time.monotonic()
        if (
            not force
            and self._assigned
            and now - self._partitions_checked_at < (_METADATA_REFRESH_SECONDS)
        ):
            return True
        self._partitions_checked_at = now
        partitions = consumer.partitions_for_topic(self.topic)
        if not partitions:
            return bool(self._assigned)
        tps = {TopicPartition(self.topic, p) for p in partitions}
        if tps == self._assigned:
            return True
        first = not self._assigned
        new = sorted(tps - self._assigned, key=lambda tp: tp.partition)
        consumer.assign(sorted(tps, key=lambda tp: tp.partition))
        beginnings = consumer.beginning_offsets(new)
        stored = self.store.offsets()
        if first and self._must_start_over(stored, beginnings, consumer.end_offsets(new)):
            self.store.reset(self.topic)
            stored = {}
        for tp in new:
            consumer.seek(tp, stored.get(tp.partition, beginnings[tp]))
        self._assigned = tps
        return True

    def _must_start_over(
        self,
        stored: Mapping[int, int],
        beginnings: Mapping[TopicPartition, int],
        ends: Mapping[TopicPartition, int],
    ) -> bool:
        reason = ""
        heard_at = self.store.heard_at
        if self.store.topic != self.topic:
            reason = "new_file" if self.store.topic is None else "other_topic"
        elif stored and (heard_at is None or time.time() - heard_at > self._rebuild_after):
            reason = "away_too_long"
        else:
            for tp, beginning in beginnings.items():
                offset = stored.get(tp.partition)
                if offset is not None and not beginning <= offset <= max(ends[tp], beginning):
                    reason = "offsets_out_of_range"
        if reason:
            log.info("event=watchlist_replica_reset reason=%s topic=%s", reason, self.topic)
        return bool(reason)
