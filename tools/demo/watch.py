"""The platform's output read back: every command and dead letter, as a bank would read them."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from antifraud.harness.kafka_io import TopicReader
from antifraud.harness.simulation import Scenario
from antifraud.harness.traffic import BankDesk
from antifraud.streams.settings import Topics
from antifraud.tools.demo.contract import Seen
from antifraud.tools.demo.narration import Narrator


class Watch:
    """Keeps what was read (`seen`), shows it, and hands each command to the bank desk.

    `planted(key)` says whether a dead letter's source key is a bad record the demo sent on
    purpose. `first_command` times each report, from its sending to its first command.
    """

    def __init__(
        self, topics: Topics, narrator: Narrator, desk: BankDesk, planted: Callable[[str], bool]
    ) -> None:
        self.topics = topics
        self.narrator = narrator
        self.desk = desk
        self.planted = planted
        self.seen = Seen()
        self.report_sent: dict[str, float] = {}  # report id -> when it was sent (monotonic)
        self.first_command: dict[str, float] = {}  # report id -> seconds to its first command

    def on_report(self, case: Scenario, record: dict[str, Any]) -> None:
        """A police report (or its withdrawal) was sent: the clock for its first command starts."""
        self.report_sent.setdefault(case.report_id, time.monotonic())
        self.narrator.report(case, record)

    async def run(self, reader: TopicReader) -> None:
        while True:
            for topic, value in await reader.read():
                self.seen.records += 1
                self.seen.last_at = time.monotonic()
                if topic == self.topics.dead_letter:
                    self.dead_letter(value)
                else:
                    self.command(value)

    def command(self, value: dict[str, Any]) -> None:
        command_id = str(value.get("command_id"))
        repeat = command_id in self.seen.commands
        if repeat:
            self.seen.repeats += 1
        else:
            self.seen.commands[command_id] = value
        if value.get("type") != "release":
            for report_id in value.get("report_ids") or []:
                sent = self.report_sent.get(report_id)
                if sent is not None and report_id not in self.first_command:
                    self.first_command[report_id] = self.seen.last_at - sent
        self.narrator.command(value, repeat)
        self.desk.on_command(value)

    def dead_letter(self, value: dict[str, Any]) -> None:
        planted = self.planted(str((value.get("source") or {}).get("key")))
        value["_planted"] = planted
        self.seen.dead_letters.append(value)
        self.narrator.dead_letter(value, planted)
