"""Libraries for the platform's counterparts (banks), shipped in the same package.

`antifraud.clients.watchlist.WatchlistReplica` keeps a bank's local copy of the watchlist
and checks accounts against it before money moves (docs/watchlist.md).
"""

from antifraud.clients.watchlist import (
    DEFAULT_TOPIC,
    Check,
    ReplicaNotReady,
    Stats,
    WatchlistReplica,
)
from antifraud.core.identifiers import InvalidIdentifier
from antifraud.core.watchlist import WatchlistEntry

__all__ = [
    "DEFAULT_TOPIC",
    "Check",
    "InvalidIdentifier",
    "ReplicaNotReady",
    "Stats",
    "WatchlistEntry",
    "WatchlistReplica",
]
