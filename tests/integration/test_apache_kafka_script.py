"""scripts/apache-kafka really runs Kafka: a single node, and a 3-node cluster that
keeps accepting acks=all writes with one node down."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaAdminClient, KafkaConsumer
from kafka.admin import ConfigResource, ConfigResourceType, NewTopic

from antifraud.harness.kafka_io import TopicLog, blocking_producer
from antifraud.harness.ports import free_port, free_port_range
from tests.integration.apache_kafka import ApacheKafka, java_available

pytestmark = [
    pytest.mark.integration,
    pytest.mark.apache_kafka,
    pytest.mark.skipif(not java_available(), reason="needs java to run Apache Kafka"),
]


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def accepts_connections(address: str) -> bool:
    host, port = address.rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=1):
            return True
    except OSError:
        return False


def consume_all(bootstrap: str, topic: str, expected: int, timeout: float = 30.0) -> list[Any]:
    reader = TopicLog(bootstrap, [topic])
    deadline = time.monotonic() + timeout
    try:
        while len(reader.records) < expected and time.monotonic() < deadline:
            reader.poll(timeout_ms=500)
    finally:
        reader.close()
    return reader.records


def test_single_node_produce_and_consume(tmp_path: Path) -> None:
    kafka = ApacheKafka()
    port = free_port()
    try:
        bootstrap = kafka.start_single(tmp_path / "kafka", port)
        assert bootstrap == f"127.0.0.1:{port}"
        assert (tmp_path / "kafka" / "kafka.pid").is_file()

        topic = "it.single"  # auto-created on first produce
        producer = blocking_producer(bootstrap, retries=5)
        try:
            meta = producer.send(topic, key=b"T-1", value=b'{"hello":"kafka"}').get(timeout=30)
        finally:
            producer.close()
        assert meta.topic == topic
        assert meta.offset == 0

        records = consume_all(bootstrap, topic, expected=1)
        assert [(r.key, r.value, r.partition, r.offset) for r in records] == [
            (b"T-1", b'{"hello":"kafka"}', meta.partition, 0)
        ]

        consumer = KafkaConsumer(bootstrap_servers=bootstrap)
        try:
            assert consumer.partitions_for_topic(topic) == {0, 1, 2, 3}  # num.partitions=4
        finally:
            consumer.close()
    finally:
        kafka.stop()

    assert not (tmp_path / "kafka" / "kafka.pid").exists()
    assert not accepts_connections(f"127.0.0.1:{port}")


def partitions(admin: KafkaAdminClient, topic: str) -> list[dict[str, Any]]:
    described = admin.describe_topics([topic])
    assert described[0]["error_code"] == 0, described
    parts: list[dict[str, Any]] = described[0]["partitions"]
    return parts


def test_cluster_keeps_acks_all_writes_with_one_node_down(tmp_path: Path) -> None:
    kafka = ApacheKafka()
    base = free_port_range(3)
    topic = "it.replicated"
    try:
        bootstrap = kafka.start_cluster(tmp_path / "cluster", base)
        assert bootstrap.split(",") == [f"127.0.0.1:{base + i}" for i in range(3)]
        for i in (1, 2, 3):
            assert (tmp_path / "cluster" / f"node-{i}" / "kafka.pid").is_file()

        admin = KafkaAdminClient(bootstrap_servers=bootstrap)
        try:
            assert sorted(b["broker_id"] for b in admin.describe_cluster()["brokers"]) == [1, 2, 3]
            admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=3)])
            wait_until(
                lambda: (
                    all(len(p["isr_nodes"]) == 3 for p in partitions(admin, topic))
                    and len(partitions(admin, topic)) == 3
                ),
                30,
                "topic fully replicated",
            )
            configs = admin.describe_configs(
                [ConfigResource(ConfigResourceType.TOPIC, topic, ["min.insync.replicas"])],
                config_filter="all",
            )
            assert configs["topic"][topic]["min.insync.replicas"]["value"] == "2"

            # Node 2 dies hard: the controller fences it and the ISRs shrink to two.
            kafka.kill_node(2)
            assert not accepts_connections(kafka.node_address(2))
            wait_until(
                lambda: all(
                    p["leader_id"] in (1, 3) and sorted(p["isr_nodes"]) == [1, 3]
                    for p in partitions(admin, topic)
                ),
                30,
                "ISR to shrink to nodes 1 and 3",
            )

            # acks=all still succeeds: two in-sync replicas satisfy min.insync.replicas=2.
            producer = blocking_producer(bootstrap, retries=10)
            try:
                sent = [
                    producer.send(topic, key=f"k{i}".encode(), value=f"v{i}".encode())
                    for i in range(30)
                ]
                metas = [f.get(timeout=30) for f in sent]
            finally:
                producer.close()
            assert {m.partition for m in metas} == {0, 1, 2}

            records = consume_all(bootstrap, topic, expected=30)
            assert sorted(r.value for r in records) == sorted(f"v{i}".encode() for i in range(30))

            # Node 2 comes back on its old data, catches up and rejoins every ISR.
            assert kafka.start_node(2) == kafka.node_address(2)
            wait_until(
                lambda: all(sorted(p["isr_nodes"]) == [1, 2, 3] for p in partitions(admin, topic)),
                60,
                "node 2 to rejoin the ISRs",
            )
            assert sorted(b["broker_id"] for b in admin.describe_cluster()["brokers"]) == [1, 2, 3]
        finally:
            admin.close()
    finally:
        kafka.stop()

    for i in range(3):
        assert not accepts_connections(f"127.0.0.1:{base + i}")
