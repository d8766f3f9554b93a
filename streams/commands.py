"""The verbs beside Faust's own `worker`: broker, demo, simulate, bench, audit, sign."""

from __future__ import annotations

import asyncio
import time

from faust.cli import option

from streams.app import app
from streams.embedded_broker import EmbeddedBroker


@app.command(
    option("--port", type=int, default=9092, show_default=True, help="Port to listen on."),
)
async def broker(self: object, port: int) -> None:
    """Run the embedded Kafka-compatible broker (Tansu, memory only) in the foreground."""
    with EmbeddedBroker(port) as embedded:
        print(f"embedded broker listening on {embedded.url}", flush=True)
        while embedded.process is not None and embedded.process.poll() is None:
            await asyncio.sleep(0.5)
    _ = time
