"""The watchlist (contract, "Watchlist"): each watched account's entry on a compacted topic.

Publishing: the matching agent derives an identifier's entry from its state before and
after a bundle (`antifraud.core.watchlist`) and, when it changed, hands it to `publish`
here, among the sends it waits for before writing the state (streams/emit.py, `delivered`).
The entry is a function of the state alone, so a replay after a restart or a rebalance
writes what the state says and never an older entry: a tombstone stays a tombstone.

Counting: `antifraud_watchlist_entries{marker}` is counted from what was published, by
following the topic with the banks' own replica (`antifraud.clients`) in a thread, kept in
`<ANTIFRAUD_DATA_DIR>/watchlist-replica`. Every worker counts the whole list (the topic is
not split like the work): aggregate the workers' figures with `max`, not `sum`.
`ANTIFRAUD_WATCHLIST_GAUGE=false` turns the follower off.
"""

from __future__ import annotations

import atexit
import logging
from pathlib import Path
from typing import Any

from antifraud.clients import WatchlistReplica
from antifraud.core.identifiers import mask_key
from antifraud.core.names import WatchlistMarker
from antifraud.core.watchlist import WatchlistEntry, entry_record
from antifraud.streams import metrics, topics
from antifraud.streams.app import app, settings
from antifraud.streams.emit import Deliveries, write
from antifraud.streams.kafka_security import kafka_python_security_options

log = logging.getLogger("antifraud")

watchlist_out = topics.raw_topic(settings.topics.watchlist)

TOMBSTONE = "tombstone"  # the `marker` label of a tombstone written


async def publish(changes: list[tuple[str, WatchlistEntry | None]]) -> Deliveries:
    """Send each changed entry (None: a tombstone); returns their deliveries."""
    deliveries: Deliveries = []
    for identifier_key, entry in changes:
        key, value = entry_record(identifier_key, entry)
        deliveries.append(await write(watchlist_out, key, value))
        marker = TOMBSTONE if entry is None else entry.marker
        metrics.WATCHLIST_WRITES.labels(marker).inc()
        log.info(
            "event=watchlist account=%s marker=%s hop=%s",
            mask_key(identifier_key),
            marker,
            "-" if entry is None else entry.hop,
        )
    return deliveries


_replica: WatchlistReplica | None = None


@app.task
async def follow_published_entries() -> None:
    """Start the replica that counts the published entries (a thread; see the docstring)."""
    global _replica
    if not settings.watchlist_gauge or _replica is not None:
        return
    _replica = WatchlistReplica(
        Path(settings.data_dir) / "watchlist-replica",
        settings.bootstrap_servers,
        topic=settings.topics.watchlist,
        consumer_options=kafka_python_security_options(settings.security),
    ).start()
    atexit.register(_replica.close)


@app.timer(interval=5.0)
async def count_watched_accounts() -> None:
    replica: Any = _replica
    if replica is None or not replica.ready:
        return
    by_marker = replica.stats().by_marker
    for marker in WatchlistMarker.ALL:
        metrics.WATCHLIST_ENTRIES.labels(marker).set(by_marker.get(marker, 0))
