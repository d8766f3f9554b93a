"""What several tests of the Faust overrides build: our consumer, on the worker's app."""

from __future__ import annotations

from typing import Any

from antifraud.streams.app import app
from antifraud.streams.faust_internals.transport import make_transport


def fast_consumer() -> tuple[Any, Any]:
    """Our transport class and a consumer of it, on the app (not started)."""
    transport = make_transport(fetch_max_wait_ms=37)(app.conf.broker_consumer, app)
    consumer = transport.create_consumer(
        callback=app.topics.on_message,
        on_partitions_revoked=app._on_partitions_revoked,
        on_partitions_assigned=app._on_partitions_assigned,
    )
    return transport, consumer
