"""Issue 5 on a secured Apache Kafka: SASL/SCRAM-SHA-512 over mutual TLS, and per-bank ACLs.

One broker (scripts/apache-kafka-secure): its only client listener is SASL_SSL with a
required client certificate, authorization is Kafka's StandardAuthorizer with
`allow.everyone.if.no.acl.found=false`. The worker is a real `antifraud worker` process
configured only through the ANTIFRAUD_* variables, with per-bank command topics, and runs
as `User:antifraud-worker` with explicit ACLs (not a super user). Banks and the police are
kafka-python clients with their own SCRAM users and the ACLs of SECURITY.md, section 3.
"""

from __future__ import annotations

import socket
import ssl
import struct
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import ACL, ACLOperation, ACLResourcePatternType, ResourceType
from kafka.errors import TopicAuthorizationFailedError

from antifraud.clients import WatchlistReplica
from antifraud.harness.simulation import identifier, make_iban, make_phone, report, transfer
from antifraud.harness.worker_process import WorkerProcess
from tests.integration.apache_kafka import java_available
from tests.integration.secure_kafka import SecureKafka, allow, new_password

pytestmark = [
    pytest.mark.apache_kafka,
    pytest.mark.skipif(not java_available(), reason="needs java for Apache Kafka"),
]

TRANSFERS = "antifraud.transfers"
REPORTS = "antifraud.reports"
ACKS = "antifraud.bank-acks"
WATCHLIST = "antifraud.watchlist"
CASPI, HALYK = "CASPKZKA", "HSBKKZKX"
HALYK_COMMANDS = f"antifraud.bank-commands.{HALYK}"
CASPI_COMMANDS = f"antifraud.bank-commands.{CASPI}"

WORKER, BANK_HSBK, BANK_CASP, POLICE = "antifraud-worker", "bank-hsbk", "bank-casp", "police-alm"
REPORT_KEYS = {"alm-1": b"secured-lane-report-key"}

Op, RT = ACLOperation, ResourceType
PREFIXED = ACLResourcePatternType.PREFIXED


def acl_matrix() -> list[ACL]:
    """SECURITY.md section 3, as Kafka ACLs."""
    worker = f"User:{WORKER}"
    acls = [
        # The worker: every topic and the consumer group under the app id "antifraud" (the
        # contract's `antifraud.*` topics and Faust's `antifraud-*` changelog/leader topics).
        allow(worker, RT.TOPIC, "antifraud", Op.ALL, PREFIXED),
        allow(worker, RT.GROUP, "antifraud", Op.ALL, PREFIXED),
        # The police system: writes reports, reads nothing.
        allow(f"User:{POLICE}", RT.TOPIC, REPORTS, Op.WRITE),
    ]
    for user, bic in ((BANK_HSBK, HALYK), (BANK_CASP, CASPI)):
        principal = f"User:{user}"
        acls += [
            allow(principal, RT.TOPIC, TRANSFERS, Op.WRITE),
            allow(principal, RT.TOPIC, ACKS, Op.WRITE),
            allow(principal, RT.TOPIC, f"antifraud.bank-commands.{bic}", Op.READ),
            allow(principal, RT.GROUP, user, Op.READ),
            # Every bank keeps a replica of the watchlist: read only, and no group needed
            # (the replica assigns itself every partition).
            allow(principal, RT.TOPIC, WATCHLIST, Op.READ),
        ]
    return acls


class Secured:
    def __init__(self, kafka: SecureKafka, worker: WorkerProcess) -> None:
        self.kafka = kafka
        self.worker = worker

    def producer(self, user: str) -> KafkaProducer:
        return KafkaProducer(acks="all", **self.kafka.client_options(user))

    def consumer(self, user: str, group: str | None) -> KafkaConsumer:
        return KafkaConsumer(
            group_id=group,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            metadata_max_age_ms=2000,
            **self.kafka.client_options(user),
        )


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Secured]:
    users = {name: new_password() for name in (WORKER, BANK_HSBK, BANK_CASP, POLICE)}
    base = tmp_path_factory.mktemp("secured")
    with SecureKafka(users) as kafka:
        kafka.start(base / "kafka")
        kafka.create_acls(acl_matrix())
        env = {
            **kafka.antifraud_env(WORKER),
            "ANTIFRAUD_PER_BANK_TOPICS": "true",
            "ANTIFRAUD_PARTITIONS": "2",
            "ANTIFRAUD_STORE": "rocksdb://",
            "ANTIFRAUD_SESSION_TIMEOUT": "6",
            "ANTIFRAUD_HEARTBEAT_INTERVAL": "1",
            "ANTIFRAUD_REPORT_KEYS": ",".join(f"{k}={v.decode()}" for k, v in REPORT_KEYS.items()),
        }
        worker = WorkerProcess(env["ANTIFRAUD_BROKER"], base / "worker", env)
        try:
            worker.start(timeout=180)
            yield Secured(kafka, worker)
        finally:
            worker.stop()


def send(producer: KafkaProducer, topic: str, key: str, value: dict[str, Any]) -> None:
    producer.send(topic, key=key.encode(), value=orjson.dumps(value)).get(timeout=60)


def read_until(
    consumer: KafkaConsumer,
    done: Callable[[list[dict[str, Any]]], bool],
    # Past Faust's 90 s broker request timeout: once in three clean-clone runs (2026-12-02) a
    # commit on this SASL_SSL broker hung for exactly 90.6 s ("Timer commit is overlapping"),
    # /health said stalled, and the hold came 2 s after a 90 s wait gave up. That stall is a
    # finding of its own (issue 18 note); this test is about ACLs and per-bank topics.
    timeout: float = 150.0,
) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while not done(seen):
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout} s; saw {seen}")
        for batch in consumer.poll(timeout_ms=500).values():
            seen.extend(orjson.loads(record.value) for record in batch)
    return seen


def read_denied(secured: Secured, user: str, topic: str, group: str) -> None:
    """Reading `topic` as `user` (with `user`'s own group) fails with the topic's ACL error."""
    consumer = secured.consumer(user, group)
    try:
        consumer.assign([TopicPartition(topic, 0)])
        with pytest.raises(TopicAuthorizationFailedError):
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                assert not consumer.poll(timeout_ms=500), f"{user} read {topic}"
    finally:
        consumer.close()


def test_worker_turns_police_report_and_bank_transfer_into_commands_on_per_bank_topics(
    secured: Secured,
) -> None:
    phone = make_phone(5_550_001)
    sender = identifier("iban", make_iban("722", 55_500_001))
    now = time.time()

    police = secured.producer(POLICE)
    try:
        signed = report("R-secured-1", [identifier("phone", phone, HALYK)], now, keys=REPORT_KEYS)
        send(police, REPORTS, signed["report_id"], signed)
    finally:
        police.close()
    caspi = secured.producer(BANK_CASP)
    try:
        record = transfer(
            "T-secured-1", CASPI, sender, identifier("phone", phone, HALYK), 25_000_000, now + 1
        )
        send(caspi, TRANSFERS, record["transfer_id"], record)
    finally:
        caspi.close()

    # Halyk reads its own topic, with its own consumer group: the freeze and its hold.
    halyk = secured.consumer(BANK_HSBK, BANK_HSBK)
    try:
        halyk.subscribe([HALYK_COMMANDS])
        seen = read_until(halyk, lambda s: {"freeze_account", "hold_transfer"} <= types(s, phone))
    finally:
        halyk.close()
    assert {c["bank_id"] for c in seen} == {HALYK}
    hold = next(c for c in seen if c["type"] == "hold_transfer")
    assert hold["transfer"] == {"bank_id": CASPI, "transfer_id": "T-secured-1"}
    assert hold["report_ids"] == ["R-secured-1"]

    # Caspi, the sending bank, gets its hold on its own topic.
    caspi_reader = secured.consumer(BANK_CASP, BANK_CASP)
    try:
        caspi_reader.subscribe([CASPI_COMMANDS])
        seen = read_until(caspi_reader, lambda s: "hold_transfer" in types(s, phone))
    finally:
        caspi_reader.close()
    assert {c["bank_id"] for c in seen} == {CASPI}

    # The per-bank topics were created by the worker (topic auto-creation is off).
    assert {HALYK_COMMANDS, CASPI_COMMANDS} <= secured.kafka.topics()
    assert secured.worker.alive()


def types(commands: list[dict[str, Any]], phone: str) -> set[str]:
    return {c["type"] for c in commands if c.get("account", {}).get("value") == phone}


def test_a_bank_cannot_read_another_banks_commands(secured: Secured) -> None:
    read_denied(secured, BANK_HSBK, CASPI_COMMANDS, BANK_HSBK)
    read_denied(secured, BANK_CASP, HALYK_COMMANDS, BANK_CASP)


def test_the_police_cannot_read_commands(secured: Secured) -> None:
    # Give the police a consumer group of its own, so the topic ACL is what says no.
    secured.kafka.create_acls([allow(f"User:{POLICE}", RT.GROUP, POLICE, Op.READ)])
    read_denied(secured, POLICE, HALYK_COMMANDS, POLICE)


def test_a_bank_cannot_write_police_reports(secured: Secured) -> None:
    forged = report("R-forged-1", [identifier("phone", make_phone(5_550_002))], time.time())
    bank = secured.producer(BANK_HSBK)
    try:
        with pytest.raises(TopicAuthorizationFailedError):
            send(bank, REPORTS, forged["report_id"], forged)
    finally:
        bank.close()


def api_versions(secured: Secured, client_cert: bool) -> bytes:
    """Send Kafka's ApiVersions v0 over TLS (allowed before SASL) and read the reply header."""
    host, port = secured.kafka.bootstrap.split(":")
    context = ssl.create_default_context(cafile=str(secured.kafka.ca_file))
    if client_cert:
        context.load_cert_chain(str(secured.kafka.client_cert), str(secured.kafka.client_key))
    client_id = b"cert-probe"
    request = struct.pack(">hhih", 18, 0, 7, len(client_id)) + client_id
    with (
        socket.create_connection((host, int(port)), timeout=30) as raw,
        context.wrap_socket(raw, server_hostname=host) as tls,
    ):
        tls.sendall(struct.pack(">i", len(request)) + request)
        # TLS 1.3: a missing client certificate is reported on the first read.
        return tls.recv(8)


def test_every_bank_replicates_the_watchlist_and_none_can_write_to_it(
    secured: Secured, tmp_path: Path
) -> None:
    phone = make_phone(5_550_003)
    police = secured.producer(POLICE)
    try:
        signed = report(
            "R-secured-watch", [identifier("phone", phone, HALYK)], time.time(), keys=REPORT_KEYS
        )
        send(police, REPORTS, signed["report_id"], signed)
    finally:
        police.close()
    for user in (BANK_HSBK, BANK_CASP):
        options = secured.kafka.client_options(user)
        bootstrap = options.pop("bootstrap_servers")
        with WatchlistReplica(tmp_path / user, bootstrap, consumer_options=options) as replica:
            deadline = time.monotonic() + 90
            replica.sync(timeout=90)
            while not replica.check(phone).listed:
                assert time.monotonic() < deadline, f"{user}: the entry never arrived"
                replica.poll()
            entry = replica.check(phone).entry
            assert entry is not None
            assert (entry.marker, entry.report_ids, entry.banks) == (
                "reported_account",
                ("R-secured-watch",),
                (HALYK,),
            )
        bank = secured.producer(user)
        try:
            forged = {**entry.as_json(), "report_ids": ["R-forged"]}
            with pytest.raises(TopicAuthorizationFailedError):
                send(bank, WATCHLIST, f"phone:{phone}", forged)
        finally:
            bank.close()


def test_the_broker_requires_a_client_certificate(secured: Secured) -> None:
    size, correlation = struct.unpack(">ii", api_versions(secured, client_cert=True))
    assert size > 0 and correlation == 7
    with pytest.raises(ssl.SSLError, match=r"(?i)certificate"):
        api_versions(secured, client_cert=False)
