"""Every reveal of full account numbers, written to the audit trail before it is shown.

The console writes nowhere else. The entry goes to the internal audit-entries topic, as the
worker's own entries do (`antifraud.streams.emit.audit`), and the worker's audit agent
chains it into `antifraud.audit`: a reveal is in the same tamper-evident trail as the
decisions it looks at. A reveal whose entry cannot be written is refused.
"""

from __future__ import annotations

import time
from typing import Any

import orjson
from kafka import KafkaProducer

from antifraud.core.timestamps import format_rfc3339

WRITE_TIMEOUT_SECONDS = 10.0


def reveal_entry(report_id: str, route: str, peer: str, now: float) -> dict[str, Any]:
    return {
        "kind": "console_reveal",
        "report_id": report_id,
        "route": route,
        "role": "reveal",
        "peer": peer,
        "at": format_rfc3339(now),
    }


class RevealLog:
    def __init__(self, bootstrap: str, topic: str, options: dict[str, Any]) -> None:
        self.topic = topic
        self.producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", **options)

    def write(self, report_id: str, route: str, peer: str) -> None:
        """Blocks until the broker has the entry; raises when it cannot be written."""
        entry = reveal_entry(report_id, route, peer, time.time())
        future = self.producer.send(self.topic, value=orjson.dumps(entry))
        future.get(timeout=WRITE_TIMEOUT_SECONDS)

    def close(self) -> None:
        self.producer.close(timeout=5)
