"""The tests' bank and police: publish to the broker the worker uses, read what it answers.

Built on the shared clients of `antifraud.harness.kafka_io` (kafka-python, blocking), plus
the checks every integration test makes of what it reads.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from typing import Any

import orjson
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import TopicAlreadyExistsError

from antifraud.harness.kafka_io import TopicLog, blocking_producer
from antifraud.schemas import validator

# What the suite's input topics and its producer accept: above the worker's default 1 MiB
# record limit, so that a record over it reaches the worker (and gets `too_large`).
INPUT_TOPIC_MAX_MESSAGE_BYTES = 2 * 1024 * 1024


class Bus:
    """Publish to and read from the broker the worker uses, like an integrating bank would."""

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self.producer = blocking_producer(
            bootstrap, linger_ms=1, max_request_size=INPUT_TOPIC_MAX_MESSAGE_BYTES
        )

    def send(
        self, topic: str, value: Any, key: str | bytes | None = None, partition: int | None = None
    ) -> None:
        raw = value if isinstance(value, bytes) else orjson.dumps(value)
        if isinstance(key, str):
            key = key.encode()
        self.producer.send(topic, key=key, value=raw, partition=partition)

    def flush(self) -> None:
        self.producer.flush(timeout=30)

    def reader(self, topic: str | list[str]) -> TopicLog:
        """Reads `topic` from the beginning and keeps everything seen, so tests can wait."""
        return TopicLog(self.bootstrap, [topic] if isinstance(topic, str) else topic)

    def close(self) -> None:
        self.producer.close(timeout=5)


def create_topics(
    bootstrap: str, names: Iterable[str], partitions: int, config: dict[str, str]
) -> None:
    """Create `names` with `config` (an operator's pre-created topics); existing ones stay."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        for name in names:
            with contextlib.suppress(TopicAlreadyExistsError):
                admin.create_topics([NewTopic(name, partitions, 1, topic_configs=config)])
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
