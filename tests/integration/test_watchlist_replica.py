"""The bank-side replica against a real broker, fed by hand (the worker's side: test_watchlist.py).

Each test writes entries and tombstones to a topic of its own, as the platform would, and
reads them with `WatchlistReplica`: from the beginning, then following, then after a restart.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest
from kafka import KafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic

from antifraud.clients import InvalidIdentifier, ReplicaNotReady, WatchlistReplica
from antifraud.core.identifiers import Identifier
from antifraud.core.names import WatchlistMarker
from antifraud.core.watchlist import WatchlistEntry, entry_record
from tests.core.strategies import iban_id, phone_id
from tests.integration.conftest import Broker


def entry(identifier: Identifier, hop: int, report: str = "R-1") -> WatchlistEntry:
    return WatchlistEntry(
        account=identifier,
        marker=WatchlistMarker.REPORTED_ACCOUNT if hop == 0 else WatchlistMarker.MULE_SUSPECT,
        hop=hop,
        fraud_types=("bank_impersonation",),
        report_ids=(report,),
        banks=("HSBKKZKX",),
        since="2026-11-29T09:05:00.000Z",
        amount_limit=None if hop == 0 else 25_000_000,
    )


class Publisher:
    """Writes the topic as the platform does: key `kind:value`, value the entry or nothing."""

    def __init__(self, broker: Broker, topic: str, partitions: int = 3) -> None:
        admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
        try:
            admin.create_topics([NewTopic(topic, partitions, 1)])
        finally:
            admin.close()
        self.topic = topic
        self.producer = KafkaProducer(bootstrap_servers=broker.bootstrap, acks="all")

    def put(self, identifier: Identifier, value: WatchlistEntry | None) -> None:
        key, raw = entry_record(identifier.key, value)
        self.producer.send(self.topic, key=key, value=raw)
        self.producer.flush(timeout=30)

    def close(self) -> None:
        self.producer.close(timeout=5)


@pytest.fixture
def publisher(broker: Broker, serial: int) -> Publisher:
    publisher = Publisher(broker, f"replica-test-{serial}.watchlist")
    yield publisher  # type: ignore[misc]
    publisher.close()


def replica_for(broker: Broker, publisher: Publisher, path: Path) -> WatchlistReplica:
    return WatchlistReplica(path, broker.bootstrap, topic=publisher.topic, poll_timeout_seconds=0.1)


def test_a_replica_read_from_the_beginning_holds_the_live_set(
    broker: Broker, publisher: Publisher, serial: int, tmp_path: Path
) -> None:
    phones = [phone_id(serial + i) for i in range(20)]
    mule = iban_id("601", serial)
    for phone in phones:
        publisher.put(phone, entry(phone, 0))
    publisher.put(mule, entry(mule, 1))
    publisher.put(mule, entry(mule, 2, report="R-2"))  # its entry changed
    for phone in phones[:5]:
        publisher.put(phone, None)  # revoked

    with replica_for(broker, publisher, tmp_path) as replica:
        with pytest.raises(ReplicaNotReady):
            replica.check(phones[0].value)
        replica.sync(timeout=60)
        listed = {e.key: e for e in replica.store.entries()}
        assert set(listed) == {p.key for p in phones[5:]} | {mule.key}
        assert listed[mule.key] == entry(mule, 2, report="R-2")
        stats = replica.stats()
        assert (stats.entries, stats.by_marker, stats.by_hop) == (
            16,
            {WatchlistMarker.REPORTED_ACCOUNT: 15, WatchlistMarker.MULE_SUSPECT: 1},
            {0: 15, 2: 1},
        )
        # any way people write it
        national = phones[7].value[2:]
        for written in (f"8 {national}", f"+7 ({national[:3]}) {national[3:]}", national):
            answer = replica.check(written)
            assert answer.listed and answer.entry == entry(phones[7], 0), written
        assert not replica.check(phones[0].value).listed  # tombstoned
        assert replica.check(mule.value.lower(), kind="iban").entry == entry(mule, 2, "R-2")
        with pytest.raises(InvalidIdentifier):
            replica.check("not an account")


def test_a_started_replica_follows_new_entries_and_tombstones(
    broker: Broker, publisher: Publisher, serial: int, tmp_path: Path
) -> None:
    phone = phone_id(serial)
    with replica_for(broker, publisher, tmp_path) as replica:
        replica.start().wait_ready(timeout=60)
        assert not replica.check(phone.value).listed
        written = time.monotonic()
        publisher.put(phone, entry(phone, 0))
        while not replica.check(phone.value).listed:
            assert time.monotonic() - written < 10, "the entry never reached the replica"
            time.sleep(0.01)
        print(f"entry visible in the replica after {time.monotonic() - written:.3f} s")
        publisher.put(phone, None)
        deadline = time.monotonic() + 10
        while replica.check(phone.value).listed:
            assert time.monotonic() < deadline, "the tombstone never reached the replica"
            time.sleep(0.01)
        assert replica.stats().entries == 0


class CountingReplica(WatchlistReplica):
    applied = 0

    def poll(self) -> int:
        n = super().poll()
        self.applied += n
        return n


def test_a_restarted_replica_reads_only_what_is_new_unless_it_was_away_too_long(
    broker: Broker, publisher: Publisher, serial: int, tmp_path: Path
) -> None:
    phones = [phone_id(serial + i) for i in range(10)]
    for phone in phones[:6]:
        publisher.put(phone, entry(phone, 0))
    with replica_for(broker, publisher, tmp_path) as replica:
        replica.sync(timeout=60)
        assert len(replica) == 6
    publisher.put(phones[0], None)
    for phone in phones[6:]:
        publisher.put(phone, entry(phone, 1))

    def reopen(**options: float) -> CountingReplica:
        return CountingReplica(
            tmp_path, broker.bootstrap, topic=publisher.topic, poll_timeout_seconds=0.1, **options
        )

    with reopen() as replica:
        replica.sync(timeout=60)
        assert replica.applied == 5  # the tombstone and the four new entries
        assert {e.key for e in replica.store.entries()} == {p.key for p in phones[1:]}
        assert replica.stats().by_hop == {0: 5, 1: 4}
    with reopen(rebuild_after_seconds=0.0) as replica:
        replica.sync(timeout=60)
        assert replica.applied == 11  # everything, from the beginning
        assert {e.key for e in replica.store.entries()} == {p.key for p in phones[1:]}
        assert replica.stats().by_hop == {0: 5, 1: 4}


def test_the_cli_checks_and_counts(
    broker: Broker, publisher: Publisher, serial: int, tmp_path: Path
) -> None:
    listed, mule, unlisted = phone_id(serial), iban_id("601", serial), phone_id(serial + 1)
    publisher.put(listed, entry(listed, 0))
    publisher.put(mule, entry(mule, 1))
    cli = str(Path(sys.executable).with_name("antifraud"))
    env = {**os.environ, "ANTIFRAUD_BROKER": broker.url, "ANTIFRAUD_DATA_DIR": str(tmp_path)}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [cli, "watchlist", *args, "--topic", publisher.topic],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    national = listed.value[2:]
    found = run("check", f"8 ({national[:3]}) {national[3:6]}-{national[6:]}")
    assert found.returncode == 0, found.stderr[-2000:]
    assert orjson.loads(found.stdout)["entry"] == entry(listed, 0).as_json()
    missing = run("check", unlisted.value, "--kind", "phone")
    assert missing.returncode == 1, missing.stderr[-2000:]
    assert orjson.loads(missing.stdout) == {
        "listed": False,
        "looked_up": [unlisted.key],
        "entry": None,
    }
    assert run("check", "KZ00 not an iban").returncode == 2
    counted = run("stats")
    assert counted.returncode == 0, counted.stderr[-2000:]
    stats = orjson.loads(counted.stdout)
    assert (stats["entries"], stats["by_marker"], stats["by_hop"]) == (
        2,
        {WatchlistMarker.REPORTED_ACCOUNT: 1, WatchlistMarker.MULE_SUSPECT: 1},
        {"0": 1, "1": 1},
    )
