"""The console's reader: one kafka-python consumer in a background thread, feeding the view.

It reads, from the beginning and without a consumer group (it commits nothing and takes no
partition from anyone), the topics the platform publishes: case status, bank commands (and
the per-bank command topics, when there are), bank acks, the audit trail, and the police's
reports (for fraud type, report time and victims). Topics created later (a console started
before the worker) are picked up.
Every record goes into `ConsoleView` under its lock; the web handlers read it the same way.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError

from antifraud.core.console_audit import AuditWatch
from antifraud.core.console_cases import CaseBook
from antifraud.streams.settings import Topics

log = logging.getLogger(__name__)

REFRESH_PARTITIONS_SECONDS = 5.0


@dataclass
class ConsoleView:
    """What the console has read; hold `lock` to read or change it."""

    book: CaseBook = field(default_factory=CaseBook)
    audit: AuditWatch = field(default_factory=AuditWatch)
    lock: threading.Lock = field(default_factory=threading.Lock)
    records: int = 0


class Feed(threading.Thread):
    def __init__(
        self, view: ConsoleView, bootstrap: str, topics: Topics, options: dict[str, Any]
    ) -> None:
        super().__init__(name="console-feed", daemon=True)
        self.view = view
        self.bootstrap = bootstrap
        self.options = options
        self.stopping = threading.Event()
        # Per-bank command topics (ANTIFRAUD_PER_BANK_TOPICS): `<commands topic>.<bank_id>`,
        # whichever exist; the console reads them all.
        self.per_bank_prefix = topics.bank_commands + "."
        self.roles = {
            topics.case_status: "case_status",
            topics.bank_commands: "command",
            topics.bank_acks: "ack",
            topics.audit: "audit",
            topics.reports: "report",
        }

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                self._read()
            except KafkaError as exc:  # the broker away: try again, the view stays as it is
                log.warning("event=console_feed_error error=%s", type(exc).__name__)
                self.stopping.wait(2.0)
            except Exception:  # never a silent, stale console: say it, and read again
                log.exception("event=console_feed_failed")
                self.stopping.wait(2.0)

    def _read(self) -> None:
        consumer = KafkaConsumer(
            bootstrap_servers=self.bootstrap,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            **self.options,
        )
        assigned: set[TopicPartition] = set()
        looked = 0.0
        try:
            while not self.stopping.is_set():
                if time.monotonic() - looked > REFRESH_PARTITIONS_SECONDS:
                    looked = time.monotonic()
                    assigned = self._assign(consumer, assigned)
                if not assigned:
                    self.stopping.wait(0.5)
                    continue
                for tp, records in consumer.poll(timeout_ms=300).items():
                    role = self.roles.get(tp.topic, "command")
                    with self.view.lock:
                        for record in records:
                            self._apply(role, record)
                        self.view.records += len(records)
        finally:
            consumer.close()

    def _assign(
        self, consumer: KafkaConsumer, assigned: set[TopicPartition]
    ) -> set[TopicPartition]:
        """Every partition of our topics that exists now; new ones start at their beginning."""
        existing = set(consumer.topics())
        per_bank = {t for t in existing if t.startswith(self.per_bank_prefix)}
        wanted = {
            TopicPartition(topic, p)
            for topic in (set(self.roles) & existing) | per_bank
            for p in consumer.partitions_for_topic(topic) or ()
        }
        if wanted != assigned:
            positions = {tp: consumer.position(tp) for tp in assigned}
            consumer.assign(sorted(wanted))
            for tp in wanted:
                if tp in positions:
                    consumer.seek(tp, positions[tp])
                else:
                    consumer.seek_to_beginning(tp)
        return wanted

    def _apply(self, role: str, record: Any) -> None:
        book = self.view.book
        if role == "case_status":
            key = record.key.decode("utf-8", "replace") if record.key else ""
            book.add_case_status(key, record.value, record.timestamp / 1000)
        elif role == "command":
            book.add_command(record.value)
        elif role == "ack":
            book.add_ack(record.value)
        elif role == "report":
            book.add_report(record.value)
        else:
            key = record.key.decode("utf-8", "replace") if record.key else ""
            self.view.audit.add(record.value, key, record.partition)

    def stop(self) -> None:
        self.stopping.set()
