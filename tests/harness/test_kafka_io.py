"""The shared Kafka clients: one place decides acks, security options and what a reader keeps."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from antifraud.harness import kafka_io
from antifraud.streams.app import settings
from antifraud.streams.settings import Security


class Recorder:
    """Stands in for a client class: keeps the keyword arguments it was built with."""

    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs


SASL = Security(
    protocol="SASL_PLAINTEXT", sasl_username="bank-hsbk", sasl_password="secret-password"
)


@pytest.fixture
def secured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kafka_io, "settings", dataclasses.replace(settings, security=SASL))
    monkeypatch.setattr(kafka_io, "AIOKafkaProducer", Recorder)
    monkeypatch.setattr(kafka_io, "AIOKafkaConsumer", Recorder)


@pytest.mark.usefixtures("secured")
def test_producers_wait_for_every_replica_and_carry_the_configured_security() -> None:
    built: Any = kafka_io.producer("h1:9092,h2:9092", linger_ms=5)
    assert built.kwargs["bootstrap_servers"] == "h1:9092,h2:9092"
    assert built.kwargs["acks"] == "all"
    assert built.kwargs["linger_ms"] == 5
    assert built.kwargs["security_protocol"] == "SASL_PLAINTEXT"
    assert built.kwargs["sasl_plain_username"] == "bank-hsbk"
    less: Any = kafka_io.producer("h:1", acks=1)  # a caller may ask for less
    assert less.kwargs["acks"] == 1


@pytest.mark.usefixtures("secured")
def test_consumers_commit_nothing_unless_told_and_carry_the_configured_security() -> None:
    built: Any = kafka_io.consumer("h:1", group_id=None)
    assert built.kwargs["enable_auto_commit"] is False
    assert built.kwargs["group_id"] is None
    assert built.kwargs["sasl_plain_password"] == "secret-password"


def test_plaintext_adds_no_security_options(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kafka_io, "settings", dataclasses.replace(settings, security=Security()))
    assert kafka_io.client_options() == {}
    monkeypatch.setattr(kafka_io, "settings", dataclasses.replace(settings, security=SASL))
    assert kafka_io.client_options()["security_protocol"] == "SASL_PLAINTEXT"


def test_blocking_producers_wait_for_every_replica(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kafka_io, "KafkaProducer", Recorder)
    built: Any = kafka_io.blocking_producer("h:1", retries=5)
    assert built.kwargs == {"bootstrap_servers": "h:1", "acks": "all", "retries": 5}


@pytest.mark.parametrize(
    "raw,expected",
    [
        (b'{"type":"hold_transfer"}', {"type": "hold_transfer"}),
        (b"[1, 2]", None),  # JSON, but not an object
        (b"\xff not json", None),
        (b"", None),
        (None, None),  # a tombstone
    ],
)
def test_readers_hand_out_json_objects_only(raw: bytes | None, expected: Any) -> None:
    assert kafka_io.json_object(raw) == expected
