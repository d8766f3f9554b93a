"""The Kafka clients that tools and tests run, each written once.

Two client libraries, on purpose: the tools run on asyncio beside the worker's own client
(aiokafka), the tests and `antifraud audit verify` block the way a bank's script would
(kafka-python). Each gets one producer factory and one topic reader here:

- `producer` and `consumer` (aiokafka) carry the configured security settings
  (`client_options`, from `antifraud.streams.kafka_security`); `blocking_producer`
  (kafka-python) takes its options from the caller;
- `TopicReader` (aiokafka) reads topics from every partition, from their beginning or their
  end, for `antifraud demo`, `simulate` and the bench's bank side;
- `TopicLog` (kafka-python) reads topics from every partition from the beginning and keeps
  what it read, for tests that wait for records; `read_topic` reads one topic to its end.

Broker URL and bootstrap servers convert with `antifraud.streams.settings.bootstrap_servers`
and `broker_url`: the worker parses its own URL with the same function.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from kafka import KafkaConsumer, KafkaProducer
from kafka import TopicPartition as BlockingTopicPartition
from kafka.consumer.fetcher import ConsumerRecord

from antifraud.streams.app import settings
from antifraud.streams.kafka_security import aiokafka_security_options

Where = Callable[[dict[str, Any]], bool]


def client_options() -> dict[str, Any]:
    """aiokafka keyword arguments for the configured security (SASL, TLS); empty for PLAINTEXT."""
    return aiokafka_security_options(settings.security)


def producer(bootstrap: str, **tuning: Any) -> AIOKafkaProducer:
    """An aiokafka producer that waits for every in-sync replica (`acks="all"`) unless told."""
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap, **{"acks": "all", **tuning}, **client_options()
    )


def consumer(bootstrap: str, **tuning: Any) -> AIOKafkaConsumer:
    """An aiokafka consumer that commits nothing unless it is told to."""
    return AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        **{"enable_auto_commit": False, **tuning},
        **client_options(),
    )


def blocking_producer(bootstrap: str, **options: Any) -> KafkaProducer:
    """A kafka-python producer that waits for every in-sync replica (`acks="all"`) unless told."""
    return KafkaProducer(bootstrap_servers=bootstrap, **{"acks": "all", **options})


def json_object(raw: bytes | None) -> dict[str, Any] | None:
    """The record value as a JSON object; None for anything else (a reader skips it)."""
    try:
        value = orjson.loads(raw or b"")
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


class TopicReader:
    """Reads topics from every partition (aiokafka), from the beginning or from their end.

    The start positions are pinned in `start`, so a record written after it returns is seen.
    Topics must exist by then: partitions created later are not read.
    """

    def __init__(self, bootstrap: str, names: list[str], from_beginning: bool) -> None:
        self.names = names
        self.from_beginning = from_beginning
        self.consumer = consumer(
            bootstrap,
            group_id=None,
            auto_offset_reset="earliest" if from_beginning else "latest",
        )

    async def start(self) -> TopicReader:
        """Assign every partition and pin the start positions, so nothing later is missed."""
        await self.consumer.start()
        await self.consumer.topics()  # loads the metadata
        partitions = [
            TopicPartition(name, p)
            for name in self.names
            for p in sorted(self.consumer.partitions_for_topic(name) or ())
        ]
        self.consumer.assign(partitions)
        if self.from_beginning:
            await self.consumer.seek_to_beginning(*partitions)
        else:
            await self.consumer.seek_to_end(*partitions)
        for tp in partitions:
            await self.consumer.position(tp)
        return self

    async def read(self, timeout_ms: int = 200) -> list[tuple[str, dict[str, Any]]]:
        """The next batch: (topic, value); values that are not JSON objects are skipped."""
        batches = await self.consumer.getmany(timeout_ms=timeout_ms)
        out = []
        for tp, records in batches.items():
            for record in records:
                value = json_object(record.value)
                if value is not None:
                    out.append((tp.topic, value))
        return out

    async def stop(self) -> None:
        await self.consumer.stop()


class TopicLog:
    """Reads topics from every partition from the beginning (kafka-python) and keeps what it
    read, so a test can wait for records. Partitions that appear later are read too.

    `keep=False` keeps nothing: `poll` hands each record out once (a long run's watcher).
    """

    def __init__(self, bootstrap: str, topics: list[str], keep: bool = True, **options: Any):
        self.consumer = KafkaConsumer(
            bootstrap_servers=bootstrap,
            **{
                "auto_offset_reset": "earliest",
                "enable_auto_commit": False,
                "group_id": None,
                "consumer_timeout_ms": 200,
                **options,
            },
        )
        self.consumer.subscribe(topics)
        self.keep = keep
        self.records: list[ConsumerRecord] = []

    def poll(self, timeout_ms: int = 200) -> list[ConsumerRecord]:
        """The records that arrived since the last poll, partition by partition."""
        batches = self.consumer.poll(timeout_ms=timeout_ms)
        new = [record for batch in batches.values() for record in batch]
        if self.keep:
            self.records.extend(new)
        return new

    def values(self, where: Where = lambda _: True) -> list[dict[str, Any]]:
        out = []
        for record in self.records:
            value = orjson.loads(record.value)
            if where(value):
                out.append(value)
        return out

    def wait_for(self, where: Where, count: int = 1, timeout: float = 30.0) -> list[dict[str, Any]]:
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


def read_topic(
    bootstrap: str, topic: str, security: Mapping[str, Any] | None = None
) -> list[ConsumerRecord]:
    """Every record of `topic`, partition by partition, up to the end offsets seen at the start
    (kafka-python; `security` as `kafka_python_security_options` gives it)."""
    reader = KafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None, **(security or {})
    )
    try:
        partitions = reader.partitions_for_topic(topic) or set()
        tps = [BlockingTopicPartition(topic, p) for p in sorted(partitions)]
        if not tps:
            return []
        reader.assign(tps)
        reader.seek_to_beginning(*tps)
        ends = reader.end_offsets(tps)
        records: list[ConsumerRecord] = []
        remaining = {tp for tp in tps if ends[tp] > 0}
        while remaining:
            for tp, batch in reader.poll(timeout_ms=1000).items():
                records.extend(batch)
                if reader.position(tp) >= ends[tp]:
                    remaining.discard(tp)
        # Some brokers (the embedded one) report the last batch's base offset as the end:
        # keep reading until nothing more comes (at most 10 s more on a busy topic), so the
        # tail of a chain is not left out.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (batches := reader.poll(timeout_ms=500)):
            for batch in batches.values():
                records.extend(batch)
        return records
    finally:
        reader.close()
