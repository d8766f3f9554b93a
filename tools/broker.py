"""`antifraud broker`: the embedded Kafka-compatible broker (Tansu), in the foreground."""

from __future__ import annotations

import asyncio
from typing import Any

from faust.cli import option

from antifraud.harness.embedded_broker import EmbeddedBroker
from antifraud.streams.app import app


@app.command(
    option("--port", type=int, default=9092, show_default=True, help="Port to listen on."),
)
async def broker(self: Any, port: int) -> None:
    """Run the embedded Kafka-compatible broker (Tansu, memory only) in the foreground."""
    with EmbeddedBroker(port) as embedded:
        print(f"embedded broker listening on {embedded.url}", flush=True)
        while embedded.process is not None and embedded.process.poll() is None:
            await asyncio.sleep(0.5)
