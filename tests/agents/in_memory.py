"""The worker's own agents under Faust's `test_context()`, with no broker.

The app is the worker's (antifraud.streams.app) with its tables in memory, flow control
resumed and its loop set to the running one, as Faust's testing guide prescribes. Records
go straight into the agent's channel; what the agent would send to other topics is
replaced by the test (the sends are the integration tests' business).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from antifraud.streams.app import app

_in_memory = False


def _tables_in_memory() -> None:
    """Every table of the worker's app in memory (once: Faust warns when set twice)."""
    global _in_memory
    if _in_memory:
        return
    # A table's store is made on first use: one made already would stay on RocksDB.
    opened = [table.name for table in app.tables.values() if table._data is not None]
    assert not opened, f"tables opened before the switch to memory: {opened}"
    app.conf.store = "memory://"  # the unit tests never open the worker's RocksDB files
    _in_memory = True


@asynccontextmanager
async def under_test(agent: Any) -> AsyncIterator[Any]:
    """`agent.test_context()` on the worker's app; tables stay in memory for the session, so
    each test uses keys of its own."""
    app.loop = asyncio.get_running_loop()
    _tables_in_memory()
    app.finalize()
    app.flow_control.resume()
    try:
        async with agent.test_context() as tested:
            yield tested
    finally:
        app.loop = None  # the next user gets its own running loop
