"""A bank's side of the bench: when each transfer's first hold command became readable."""

from __future__ import annotations

import asyncio
import contextlib
import time

from antifraud.harness.kafka_io import TopicReader


class CommandReader:
    """A bank's consumer of `antifraud.bank-commands`: when each transfer's first hold arrived.

    It reads from the topic's end at `start`: only commands issued after that are seen.
    """

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.reader = TopicReader(bootstrap, [topic], from_beginning=False)
        self.first_hold: dict[str, float] = {}  # transfer_id -> monotonic arrival
        self.holds: set[tuple[str, str]] = set()  # (bank that must act, transfer_id)
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> CommandReader:
        await self.reader.start()
        self.task = asyncio.create_task(self._run())
        return self

    async def _run(self) -> None:
        while True:
            batch = await self.reader.read(timeout_ms=100)
            now = time.monotonic()
            for _, command in batch:
                if command.get("type") != "hold_transfer":
                    continue
                transfer_id = command["transfer"]["transfer_id"]
                self.first_hold.setdefault(transfer_id, now)
                self.holds.add((command["bank_id"], transfer_id))

    def count_holds(self, prefix: str) -> int:
        return sum(1 for _, transfer_id in self.holds if transfer_id.startswith(prefix))

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        await self.reader.stop()
