"""The demo as a bank's watchlist replica sees it: the time from a police report to its
account's entry being visible in the replica (`antifraud.clients.WatchlistReplica`)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from antifraud.clients import WatchlistReplica
from antifraud.core.identifiers import InvalidIdentifier
from antifraud.harness.simulation import Scenario


class WatchlistTimer:
    """Follows the watchlist in a replica of its own and times each report to its entry.

    `to_entry`: report id -> seconds from sending the report to the replica listing the
    reported account with that report among its `report_ids`.
    """

    def __init__(self, path: Path, bootstrap: str, topic: str) -> None:
        self.replica = WatchlistReplica(path, bootstrap, topic=topic, poll_timeout_seconds=0.05)
        self.pending: dict[str, tuple[float, dict[str, str]]] = {}  # report id -> (sent, account)
        self.to_entry: dict[str, float] = {}

    async def start(self, timeout: float = 60.0) -> None:
        self.replica.start()
        await asyncio.to_thread(self.replica.wait_ready, timeout)

    def on_report(self, case: Scenario, record: dict[str, Any]) -> None:
        if record.get("action") != "report" or not case.account:
            return
        if case.report_id not in self.to_entry:
            self.pending.setdefault(case.report_id, (time.monotonic(), case.account))

    def check(self) -> None:
        """Time the pending reports whose entry the replica now lists."""
        for report_id, (sent, account) in list(self.pending.items()):
            try:
                entry = self.replica.check(account["value"], account["kind"]).entry
            except InvalidIdentifier:
                del self.pending[report_id]
                continue
            if entry is not None and report_id in entry.report_ids:
                self.to_entry[report_id] = time.monotonic() - sent
                del self.pending[report_id]

    async def run(self) -> None:
        while True:
            self.check()
            await asyncio.sleep(0.02)

    def close(self) -> None:
        self.replica.close()
