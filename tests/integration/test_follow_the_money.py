"""Contract promises 4 and 5 and the bank loop: mule chains, revocation, acks, overdue, audit."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson

from antifraud.harness.kafka_io import blocking_producer, read_topic
from antifraud.harness.simulation import (
    identifier,
    make_card,
    make_iban,
    make_phone,
    report,
    revocation,
    transfer,
)
from antifraud.harness.worker_process import WorkerProcess
from antifraud.tools.audit_verify import verify_records
from tests.integration.bus import Bus, about, conforms
from tests.integration.conftest import ACK_SLA_SECONDS, REPORT_KEYS, Broker

TRANSFERS = "antifraud.transfers"
REPORTS = "antifraud.reports"
ACKS = "antifraud.bank-acks"
COMMANDS = "antifraud.bank-commands"

HALYK, CASPI, FORTE, JUSAN, BCC = "HSBKKZKX", "CASPKZKA", "IRTYKZKA", "TSESKZKA", "KCJBKZKX"


def plain(account: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in account.items() if k != "bank_id"}


def send(bus: Bus, topic: str, record: dict[str, Any], key: str) -> None:
    bus.send(topic, record, key=key)
    bus.flush()


def pay(
    bus: Bus,
    transfer_id: str,
    sender: dict[str, str],
    recipient: dict[str, str],
    amount: int,
    created_at: float,
    **extra: Any,
) -> None:
    record = transfer(
        transfer_id, sender["bank_id"], plain(sender), recipient, amount, created_at, **extra
    )
    send(bus, TRANSFERS, record, transfer_id)


def summary(commands: list[dict[str, Any]]) -> set[tuple[Any, ...]]:
    """(type, bank, account, hop, amount_limit or transfer id) per distinct command id."""
    conforms("command", commands)
    out = set()
    for c in {c["command_id"]: c for c in commands}.values():
        detail = (
            c.get("amount_limit") if c["type"] != "hold_transfer" else c["transfer"]["transfer_id"]
        )
        out.add((c["type"], c["bank_id"], c["account"]["value"], c["hop"], detail))
    return out


def test_three_hop_chain_first_hop_before_the_report(
    worker: WorkerProcess, bus: Bus, serial: int
) -> None:
    victim = identifier("iban", make_iban("998", 30_000_000 + serial), JUSAN)
    fraud = identifier("phone", make_phone(serial + 21), HALYK)
    mule1 = identifier("iban", make_iban("722", 31_000_000 + serial), CASPI)
    mule2 = identifier("card", make_card(serial + 22), FORTE)
    mule3 = identifier("iban", make_iban("826", 32_000_000 + serial), BCC)
    beyond = identifier("phone", make_phone(serial + 23), HALYK)
    commands = bus.reader(COMMANDS)
    now = time.time()
    s = serial
    pay(bus, f"T-v-{s}", victim, fraud, 5_000_000, now - 900)  # still in flight
    pay(bus, f"T-h1-{s}", fraud, mule1, 1_000_000, now - 600, status="settled")  # before report
    time.sleep(1.0)
    send(bus, REPORTS, report(f"R-chain-{s}", [plain(fraud)], now, keys=REPORT_KEYS), "r")
    pay(bus, f"T-h2-{s}", mule1, mule2, 600_000, now + 5)
    pay(bus, f"T-h3-{s}", mule2, mule3, 300_000, now + 10)
    pay(bus, f"T-h4-{s}", mule3, beyond, 100_000, now + 15)
    accounts = [a["value"] for a in (victim, fraud, mule1, mule2, mule3, beyond)]
    commands.wait_for(about(accounts), count=10, timeout=40)
    commands.settle(3.0)
    assert summary(commands.values(about(accounts))) == {
        # the reported account: frozen whole, the victim's transfer held at both banks
        ("freeze_account", HALYK, fraud["value"], 0, None),
        ("hold_transfer", HALYK, fraud["value"], 0, f"T-v-{s}"),
        ("hold_transfer", JUSAN, fraud["value"], 0, f"T-v-{s}"),
        # hop 1: money left before the report (settled: nothing to hold, the account frozen)
        ("freeze_account", CASPI, mule1["value"], 1, 1_000_000),
        # hop 2 and 3: frozen up to what reached them, their incoming transfers held
        ("freeze_account", FORTE, mule2["value"], 2, 600_000),
        ("hold_transfer", FORTE, mule2["value"], 2, f"T-h2-{s}"),
        ("hold_transfer", CASPI, mule2["value"], 2, f"T-h2-{s}"),
        ("freeze_account", BCC, mule3["value"], 3, 300_000),
        ("hold_transfer", BCC, mule3["value"], 3, f"T-h3-{s}"),
        ("hold_transfer", FORTE, mule3["value"], 3, f"T-h3-{s}"),
        # hop 4 is past the hop limit (3): the money is not followed there
    }
    mule_commands = commands.values(about([mule1["value"], mule2["value"], mule3["value"]]))
    assert {c["reason"] for c in mule_commands} == {"mule_chain"}
    commands.close()


def test_carve_out_stops_the_chain(worker: WorkerProcess, bus: Bus, serial: int) -> None:
    fraud = identifier("phone", make_phone(serial + 31), HALYK)
    employee = identifier("iban", make_iban("722", 33_000_000 + serial), CASPI)
    mule = identifier("iban", make_iban("965", 34_000_000 + serial), FORTE)
    commands = bus.reader(COMMANDS)
    now = time.time()
    send(bus, REPORTS, report(f"R-carve-{serial}", [plain(fraud)], now, keys=REPORT_KEYS), "r")
    pay(bus, f"T-sal-{serial}", fraud, employee, 400_000, now + 1, purpose="salary")
    pay(bus, f"T-mule-{serial}", fraud, mule, 400_000, now + 2)
    commands.wait_for(about([mule["value"]]), count=2)
    commands.settle(2.0)
    assert commands.values(about([employee["value"]])) == []
    commands.close()


def test_revocation_releases_only_what_the_revoked_report_caused(
    worker: WorkerProcess, bus: Bus, serial: int
) -> None:
    first = identifier("phone", make_phone(serial + 41), HALYK)
    second = identifier("phone", make_phone(serial + 42), CASPI)
    shared_mule = identifier("iban", make_iban("965", 35_000_000 + serial), FORTE)
    own_mule = identifier("iban", make_iban("998", 36_000_000 + serial), JUSAN)
    victim = identifier("iban", make_iban("826", 37_000_000 + serial), BCC)
    commands = bus.reader(COMMANDS)
    now = time.time()
    s = serial
    send(bus, REPORTS, report(f"R-one-{s}", [plain(first)], now, keys=REPORT_KEYS), "r1")
    send(bus, REPORTS, report(f"R-two-{s}", [plain(second)], now, keys=REPORT_KEYS), "r2")
    pay(bus, f"T-v1-{s}", victim, first, 900_000, now + 1)
    pay(bus, f"T-m1-{s}", first, shared_mule, 500_000, now + 2)
    pay(bus, f"T-m2-{s}", second, shared_mule, 200_000, now + 3)
    pay(bus, f"T-o1-{s}", first, own_mule, 100_000, now + 4)
    everyone = [a["value"] for a in (first, second, shared_mule, own_mule, victim)]
    # first: freeze + 2 holds; second: freeze; shared mule: freeze(s) + holds; own mule: same
    commands.wait_for(about([own_mule["value"]]), count=3)
    commands.wait_for(about([shared_mule["value"]]), count=5)
    commands.settle(2.0)
    before = {c["command_id"]: c for c in commands.values(about(everyone))}
    send(bus, REPORTS, revocation(f"R-one-{s}", now + 10, keys=REPORT_KEYS), f"R-one-{s}")
    releases = commands.wait_for(lambda c: c["type"] == "release" and about(everyone)(c), count=6)
    commands.settle(3.0)
    releases = [c for c in commands.values(about(everyone)) if c["type"] == "release"]
    released = {c["releases"] for c in releases}
    assert len(released) == len({c["command_id"] for c in releases}), "a command released twice"
    expected = {
        cid
        for cid, c in before.items()
        if c["type"] != "release" and c["account"]["value"] in {first["value"], own_mule["value"]}
    }
    assert released == expected
    conforms("command", releases)
    assert all(c["reason"] == "report_revoked" for c in releases)
    assert all(c["report_ids"] == [f"R-one-{s}"] for c in releases)
    # What the second report supports stays: nothing of the shared mule or second was released.
    kept = {
        cid
        for cid, c in before.items()
        if c["account"]["value"] in {second["value"], shared_mule["value"]}
    }
    assert kept and not (kept & released)
    commands.close()


def test_acks_move_the_figures_and_unknown_acks_are_rejected(
    worker: WorkerProcess, bus: Bus, serial: int
) -> None:
    fraud = identifier("phone", make_phone(serial + 51), HALYK)
    victim = identifier("iban", make_iban("722", 38_000_000 + serial), CASPI)
    commands = bus.reader(COMMANDS)
    now = time.time()
    send(bus, REPORTS, report(f"R-ack-{serial}", [plain(fraud)], now, keys=REPORT_KEYS), "r")
    pay(bus, f"T-ack-{serial}", victim, fraud, 12_345_600, now)
    holds = commands.wait_for(
        lambda c: c["type"] == "hold_transfer" and about([fraud["value"]])(c), count=2
    )
    by_bank = {c["bank_id"]: c for c in holds}
    before = figures(worker)
    applied = {
        "command_id": by_bank[HALYK]["command_id"],
        "bank_id": HALYK,
        "status": "applied",
        "amount_held": 12_345_600,
        "at": "2026-11-29T09:05:02Z",
    }
    too_late = {
        "command_id": by_bank[CASPI]["command_id"],
        "bank_id": CASPI,
        "status": "too_late",
        "at": "2026-11-29T09:05:03Z",
    }
    send(bus, ACKS, applied, applied["command_id"])
    send(bus, ACKS, too_late, too_late["command_id"])
    send(bus, ACKS, applied, applied["command_id"])  # a duplicate ack counts once
    deadline = time.time() + 20
    while time.time() < deadline:
        after = figures(worker)
        if after["escaped", CASPI] > before["escaped", CASPI]:
            break
        time.sleep(0.5)
    assert after["held", HALYK] - before["held", HALYK] == 123_456.0
    assert after["escaped", CASPI] - before["escaped", CASPI] == 123_456.0
    assert after["acks_applied", HALYK] - before["acks_applied", HALYK] == 1
    commands.close()


METRIC = re.compile(r"^(antifraud_\w+)\{([^}]*)\} ([0-9.e+-]+)$", re.M)


def figures(worker: WorkerProcess) -> dict[tuple[str, str], float]:
    out: dict[tuple[str, str], float] = {}
    for name, labels, value in METRIC.findall(worker.metrics()):
        bank = re.search(r'bank_id="([^"]+)"', labels)
        if not bank:
            continue
        if name == "antifraud_held_amount_tenge_total":
            out["held", bank.group(1)] = float(value)
        elif name == "antifraud_escaped_amount_tenge_total":
            out["escaped", bank.group(1)] = float(value)
        elif name == "antifraud_acks_total" and 'status="applied"' in labels:
            out["acks_applied", bank.group(1)] = float(value)
        elif name == "antifraud_overdue_commands_total":
            out["overdue", bank.group(1)] = float(value)
    return _Zero(out)


class _Zero(dict):  # type: ignore[type-arg]
    def __missing__(self, key: Any) -> float:
        return 0.0


def test_unacknowledged_command_is_resent_once_with_the_same_id(
    worker: WorkerProcess, bus: Bus, serial: int
) -> None:
    fraud = identifier("iban", make_iban("601", 39_000_000 + serial), HALYK)
    commands = bus.reader(COMMANDS)
    before = figures(worker)
    send(
        bus,
        REPORTS,
        report(f"R-late-{serial}", [plain(fraud)], time.time(), keys=REPORT_KEYS),
        "r",
    )
    [freeze] = commands.wait_for(about([fraud["value"]]))
    # Nobody acknowledges: after the SLA the same command (same id) is sent once more.
    copies = commands.wait_for(
        lambda c: c["command_id"] == freeze["command_id"], count=2, timeout=ACK_SLA_SECONDS + 20
    )
    assert copies[0] == copies[1]
    commands.settle(ACK_SLA_SECONDS + 3)
    assert len(commands.values(lambda c: c["command_id"] == freeze["command_id"])) == 2
    assert figures(worker)["overdue", HALYK] > before["overdue", HALYK]
    commands.close()


def test_audit_verify_reports_intact_and_catches_tampering(
    worker: WorkerProcess, broker: Broker, bus: Bus, tmp_path: Path
) -> None:
    # The earlier tests produced decisions; the chains must be intact.
    records = read_topic(broker.bootstrap, "antifraud.audit")
    assert len(records) > 10
    conforms("audit_record", (orjson.loads(r.value) for r in records))
    verdicts = verify_records(records)
    assert verdicts and all(v.intact for v in verdicts.values())
    cli = Path(sys.executable).parent / "antifraud"
    env = {"ANTIFRAUD_BROKER": broker.url, "PATH": "/usr/bin:/bin"}
    ok = subprocess.run([cli, "audit", "verify"], env=env, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "all intact" in ok.stdout
    # A copy of the trail with one entry edited, as someone covering their tracks would.
    copy_topic = f"audit-tampered-{int(time.time())}"
    producer = blocking_producer(broker.bootstrap)
    victim_index = len(records) // 2
    for index, record in enumerate(records):
        value = record.value
        if index == victim_index:
            value = value.replace(b'"kind":"', b'"kind":"x', 1)
        producer.send(copy_topic, key=record.key, value=value, partition=0)
    producer.flush()
    producer.close()
    bad = subprocess.run(
        [cli, "audit", "verify", "--topic", copy_topic], env=env, capture_output=True, text=True
    )
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "BROKEN at seq" in bad.stdout
