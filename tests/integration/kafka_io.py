"""Test-side Kafka clients (kafka-python): what a bank or a police system would run."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

import orjson
from kafka import KafkaConsumer, KafkaProducer
from kafka.admin import KafkaAdminClient

from antifraud.schemas import validator


class Bus:
    """Publish to and read from the broker the worker uses, like an integrating bank would."""

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self.producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=1)

    def send(self, topic: str, value: Any, key: str | bytes | None = None) -> None:
        raw = value if isinstance(value, bytes) else orjson.dumps(value)
        if isinstance(key, str):
            key = key.encode()
        self.producer.send(topic, key=key, value=raw)

    def flush(self) -> None:
        self.producer.flush(timeout=30)

    def reader(self, topic: str | list[str]) -> Reader:
        return Reader(self.bootstrap, [topic] if isinstance(topic, str) else topic)

    def close(self) -> None:
        self.producer.close(timeout=5)


class Reader:
    """Reads a topic from the beginning and keeps everything seen, so tests can wait for records."""

    def __init__(self, bootstrap: str, topics: list[str]) -> None:
        self.consumer = KafkaConsumer(
            bootstrap_servers=bootstrap,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            group_id=None,
            consumer_timeout_ms=200,
        )
        self.consumer.subscribe(topics)
        self.records: list[Any] = []

    def poll(self) -> None:
        batches = self.consumer.poll(timeout_ms=200)
        for batch in batches.values():
            self.records.extend(batch)

    def values(
        self, where: Callable[[dict[str, Any]], bool] = lambda _: True
    ) -> list[dict[str, Any]]:
        out = []
        for record in self.records:
            value = orjson.loads(record.value)
            if where(value):
                out.append(value)
        return out

    def wait_for(
        self,
        where: Callable[[dict[str, Any]], bool],
        count: int = 1,
        timeout: float = 30.0,
    ) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while True:
            self.poll()
            found = self.values(where)
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"waited {timeout} s for {count} matching records, saw {len(found)}: {found}"
                )

    def settle(self, seconds: float) -> None:
        """Keep reading for a while: for tests that assert nothing more arrives."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.poll()

    def close(self) -> None:
        self.consumer.close()


def topic_names(bootstrap: str) -> set[str]:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        return set(admin.list_topics())
    finally:
        admin.close()


def conforms(record_name: str, records: Iterable[dict[str, Any]]) -> None:
    """Every record validates against the contract's JSON Schema (schemas/json/<name>.json)."""
    check = validator(record_name)
    for record in records:
        check(record)


def about(identifiers: Iterable[str]) -> Callable[[dict[str, Any]], bool]:
    """Commands whose account value is one of `identifiers` (normalised values)."""
    wanted = set(identifiers)
    return lambda command: command.get("account", {}).get("value") in wanted
