"""The watchlist against the real session worker (contract, "Watchlist"), on both lanes.

A bank's replica (`antifraud.clients.WatchlistReplica`) follows the topic while police
reports, money followed out and a revocation go through the worker; another replica
started afterwards must hold exactly what the first one followed. On Apache Kafka, with
the topic's segments rolled quickly, compaction leaves one record per live account.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from kafka import KafkaConsumer
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient
from kafka.partitioner.default import murmur2

from antifraud.clients import WatchlistEntry, WatchlistReplica
from antifraud.core.names import WatchlistMarker
from antifraud.core.timestamps import format_rfc3339
from antifraud.harness.kafka_io import read_topic
from antifraud.harness.simulation import identifier, make_iban, make_phone, report, revocation
from antifraud.harness.worker_process import WorkerProcess
from antifraud.schemas import validator
from tests.integration.bus import Bus
from tests.integration.conftest import REPORT_KEYS, Broker, isolated_env
from tests.integration.test_follow_the_money import pay, plain, send

WATCHLIST = "antifraud.watchlist"
REPORTS = "antifraud.reports"
HALYK, CASPI, FORTE = "HSBKKZKX", "CASPKZKA", "IRTYKZKA"


@pytest.fixture
def replica(broker: Broker, worker: WorkerProcess, tmp_path: Path) -> Iterator[WatchlistReplica]:
    """A bank's replica following the worker's watchlist from before the test's first record."""
    with WatchlistReplica(
        tmp_path / "following", broker.bootstrap, poll_timeout_seconds=0.05
    ) as following:
        following.start().wait_ready(timeout=60)
        yield following


def wait_until(
    condition: Callable[[], bool], what: str, timeout: float = 30.0, every: float = 0.01
) -> float:
    """Seconds until `condition()` held."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"waited {timeout} s for {what}")
        time.sleep(every)
    return time.monotonic() - started


def entry_of(replica: WatchlistReplica, account: dict[str, str]) -> WatchlistEntry | None:
    return replica.check(account["value"], account["kind"]).entry


def key_of(account: dict[str, str]) -> str:
    return f"{account['kind']}:{account['value']}"


def test_reports_money_and_a_revoke_publish_entries_and_tombstones(
    worker: WorkerProcess, bus: Bus, broker: Broker, replica: WatchlistReplica, serial: int
) -> None:
    fraud = identifier("phone", make_phone(serial + 41), HALYK)
    shared = identifier("iban", make_iban("722", 41_000_000 + serial), CASPI)
    mule = identifier("iban", make_iban("965", 42_000_000 + serial), FORTE)
    first, second = f"R-watch-{serial}", f"R-watch-{serial}-b"
    now = time.time()

    # A report makes its accounts' entries appear.
    send(bus, REPORTS, report(first, [fraud, shared], now, keys=REPORT_KEYS), first)
    seconds = wait_until(lambda: entry_of(replica, shared) is not None, "the report's entries")
    wait_until(lambda: entry_of(replica, fraud) is not None, "the phone's entry")
    print(f"report -> entry visible in a bank's replica: {seconds:.3f} s")
    reported = entry_of(replica, fraud)
    assert reported is not None
    assert reported.as_json() == {
        "account": plain(fraud),
        "marker": WatchlistMarker.REPORTED_ACCOUNT,
        "hop": 0,
        "fraud_types": ["bank_impersonation"],
        "report_ids": [first],
        "banks": [HALYK],
        "since": format_rfc3339(now),
        "amount_limit": None,
    }
    # A second report naming one of them changes that entry.
    send(bus, REPORTS, report(second, [shared], now + 60, "fake_online_store", REPORT_KEYS), second)
    wait_until(
        lambda: (e := entry_of(replica, shared)) is not None and len(e.report_ids) == 2,
        "the shared account's second report",
    )
    both = entry_of(replica, shared)
    assert both is not None
    assert both.report_ids == (first, second)
    assert both.fraud_types == ("bank_impersonation", "fake_online_store")
    assert both.since == format_rfc3339(now)  # the earliest live report

    # Money followed out makes the suspect's entry appear.
    pay(bus, f"T-watch-{serial}", fraud, mule, 1_000_000, now + 5)
    wait_until(lambda: entry_of(replica, mule) is not None, "the suspect's entry")
    suspect = entry_of(replica, mule)
    assert suspect is not None
    assert (suspect.marker, suspect.hop, suspect.amount_limit) == (
        WatchlistMarker.MULE_SUSPECT,
        1,
        1_000_000,
    )
    assert (suspect.report_ids, suspect.banks) == ((first,), (FORTE,))

    # A revoke turns what only that report supported into tombstones.
    send(bus, REPORTS, revocation(first, now + 120, keys=REPORT_KEYS), first)
    wait_until(
        lambda: entry_of(replica, fraud) is None and entry_of(replica, mule) is None,
        "the tombstones of the revoked report's accounts",
    )
    kept = entry_of(replica, shared)
    assert kept is not None
    assert (kept.report_ids, kept.fraud_types) == ((second,), ("fake_online_store",))
    assert kept.since == format_rfc3339(now + 60)

    # On the topic: entries that keep the contract and nothing more, and real tombstones.
    records = defaultdict(list)
    for record in read_topic(broker.bootstrap, WATCHLIST):
        records[record.key.decode()].append(record.value)
    for account in (fraud, mule):
        values = records[key_of(account)]
        assert values[-1] is None, f"no tombstone for {key_of(account)}"
        for value in values[:-1]:
            entry = orjson.loads(value)
            validator("watchlist_entry")(entry)
            assert set(entry) == set(reported.as_json())  # no case number, no victim
    assert orjson.loads(records[key_of(shared)][-1])["report_ids"] == [second]

    # A replica started after all this has exactly the live set.
    with WatchlistReplica(Path(replica.store.path).parent / "late", broker.bootstrap) as late:
        late.sync(timeout=60)
        assert [e.key for e in late.store.entries()] == [e.key for e in replica.store.entries()]
        assert list(late.store.entries()) == list(replica.store.entries())
        assert late.stats().by_marker == replica.stats().by_marker
        assert entry_of(late, fraud) is None and entry_of(late, mule) is None
        assert entry_of(late, shared) == kept
        live = late.stats().by_marker

    # The worker's gauge counts the same published entries.
    def gauge() -> dict[str, float]:
        found = {}
        for line in worker.metrics().splitlines():
            if line.startswith("antifraud_watchlist_entries{"):
                marker = line.split('marker="', 1)[1].split('"', 1)[0]
                found[marker] = float(line.rsplit(" ", 1)[1])
        return found

    expected = {m: float(live.get(m, 0)) for m in WatchlistMarker.ALL}
    wait_until(lambda: gauge() == expected, f"the gauge to read {expected}", 20.0, 0.5)


# ---------------------------------------------------------------------------- restarts


def test_a_killed_worker_neither_loses_an_entry_nor_brings_back_a_tombstone(
    broker: Broker, bus: Bus, worker_env: dict[str, str], tmp_path: Path, serial: int
) -> None:
    """kill -9 right after a revoke: the restarted worker rebuilds its tables and replays what
    was not committed, and the watchlist still ends as the state says."""
    app_id = f"watchlist-restart-{serial}"
    topic = f"{app_id}.watchlist"
    env = {**isolated_env(worker_env, app_id), "ANTIFRAUD_TOPIC_WATCHLIST": topic}
    reports = env["ANTIFRAUD_TOPIC_REPORTS"]
    gone, kept, later = (identifier("phone", make_phone(serial + 61 + i), HALYK) for i in range(3))
    first, second, third = (f"R-restart-{serial}-{i}" for i in range(3))
    now = time.time()
    process = WorkerProcess(broker.url, tmp_path / "worker", env)
    process.start(timeout=120)
    try:
        with WatchlistReplica(
            tmp_path / "following", broker.bootstrap, topic=topic, poll_timeout_seconds=0.05
        ) as following:
            following.start().wait_ready(timeout=60)
            send(bus, reports, report(first, [gone, kept], now, keys=REPORT_KEYS), first)
            send(bus, reports, report(second, [kept], now, keys=REPORT_KEYS), second)
            wait_until(
                lambda: (e := entry_of(following, kept)) is not None and len(e.report_ids) == 2,
                "both reports' entries",
            )
            send(bus, reports, revocation(first, now + 1, keys=REPORT_KEYS), first)
            wait_until(lambda: entry_of(following, gone) is None, "the revoke's tombstone")
            process.kill()
            process.start(timeout=120)
            send(bus, reports, report(third, [later], now + 2, keys=REPORT_KEYS), third)
            wait_until(lambda: entry_of(following, later) is not None, "a report after the restart")
            assert entry_of(following, gone) is None
            survivor = entry_of(following, kept)
            assert survivor is not None and survivor.report_ids == (second,)
        with WatchlistReplica(tmp_path / "late", broker.bootstrap, topic=topic) as late:
            late.sync(timeout=60)
            assert [e.key for e in late.store.entries()] == sorted([key_of(kept), key_of(later)])
    finally:
        process.stop()


# ---------------------------------------------------------------------------- compaction


def topic_configs(admin: KafkaAdminClient, topic: str) -> dict[str, Any]:
    """The topic's configs set on it (not the broker's defaults): name -> value."""
    described = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
    return {name: config["value"] for name, config in described["topic"][topic].items()}


def partition_of(key: str, partitions: int) -> int:
    """The partition the producer's default partitioner gives `key` (murmur2, like Java's)."""
    return (murmur2(key.encode()) & 0x7FFFFFFF) % partitions


@pytest.mark.apache_kafka
def test_compaction_leaves_one_record_per_live_account(
    worker: WorkerProcess, bus: Bus, broker: Broker, replica: WatchlistReplica, serial: int
) -> None:
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
    try:
        assert topic_configs(admin, WATCHLIST)["cleanup.policy"] == "compact"  # the worker's
        quick = {
            "segment.ms": "100",
            "min.cleanable.dirty.ratio": "0.01",
            "delete.retention.ms": "100",
            "min.compaction.lag.ms": "0",
        }
        admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, WATCHLIST, configs=quick)])
        assert topic_configs(admin, WATCHLIST) == {"cleanup.policy": "compact", **quick}
        try:
            compacts(bus, broker, replica, serial)
        finally:
            back = {name: ("DELETE", None) for name in quick}  # incremental: only these
            admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, WATCHLIST, configs=back)])
        assert topic_configs(admin, WATCHLIST) == {"cleanup.policy": "compact"}
    finally:
        admin.close()


def compacts(bus: Bus, broker: Broker, replica: WatchlistReplica, serial: int) -> None:
    accounts = [identifier("phone", make_phone(serial + 50 + i), HALYK) for i in range(5)]
    now = time.time()
    # Each account reported on its own; the first three by a second report too (a second
    # record each); the last one's report revoked (an entry, then a tombstone).
    for i, account in enumerate(accounts):
        send(bus, REPORTS, report(f"R-compact-{serial}-{i}", [account], now, keys=REPORT_KEYS), "r")
    wait_until(lambda: all(entry_of(replica, a) for a in accounts), "the entries", 30.0)
    time.sleep(0.3)  # past segment.ms: what comes next starts new segments
    send(bus, REPORTS, report(f"R-compact-{serial}-b", accounts[:3], now, keys=REPORT_KEYS), "r")
    send(bus, REPORTS, revocation(f"R-compact-{serial}-4", now + 1, keys=REPORT_KEYS), "r")
    wait_until(
        lambda: (
            entry_of(replica, accounts[4]) is None
            and all(len(entry_of(replica, a).report_ids) == 2 for a in accounts[:3])
        ),  # type: ignore[union-attr]
        "the second report and the revocation",
        30.0,
    )
    # The last record of a partition stays in its active segment, which is never compacted:
    # a report for one more account on every partition rolls each segment holding ours.
    time.sleep(0.3)
    partitions = len(read_partitions(broker))
    rolled: set[int] = set()
    extra = 0
    while len(rolled) < partitions:
        account = identifier("phone", make_phone(serial + 100 + extra), HALYK)
        extra += 1
        partition = partition_of(key_of(account), partitions)
        if partition in rolled:
            continue
        rolled.add(partition)
        send(
            bus, REPORTS, report(f"R-roll-{serial}-{extra}", [account], now, keys=REPORT_KEYS), "r"
        )
    ours = {key_of(a) for a in accounts}
    live = {key_of(a) for a in accounts[:4]}

    def ours_compacted() -> dict[str, list[bytes | None]]:
        kept: dict[str, list[bytes | None]] = defaultdict(list)
        for record in read_topic(broker.bootstrap, WATCHLIST):
            if record.key.decode() in ours:
                kept[record.key.decode()].append(record.value)
        return kept

    # (Each of the first three and the last one was written twice, so one record each means
    # the cleaner ran; how soon it runs is the broker's: log.cleaner.backoff.ms, 15 s.)
    started = time.monotonic()
    deadline = started + 120
    while True:
        kept = ours_compacted()
        if all(len(kept[k]) == 1 for k in live) and len(kept[key_of(accounts[4])]) <= 1:
            print(f"compacted {time.monotonic() - started:.1f} s after the segments rolled")
            break
        if time.monotonic() > deadline:
            raise AssertionError(
                f"not compacted after 120 s: { {k: len(v) for k, v in kept.items()} }"
            )
        time.sleep(2)
    for key in live:
        (value,) = kept[key]
        entry: dict[str, Any] = orjson.loads(value)  # type: ignore[arg-type]
        expected = entry_of(replica, {"kind": "phone", "value": key.split(":", 1)[1]})
        assert expected is not None and entry == expected.as_json()
    assert kept[key_of(accounts[4])] in ([], [None])  # the tombstone, or nothing once it aged


def read_partitions(broker: Broker) -> set[int]:
    consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap)
    try:
        return set(consumer.partitions_for_topic(WATCHLIST) or ())
    finally:
        consumer.close()
