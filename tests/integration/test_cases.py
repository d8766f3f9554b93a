"""Cases end to end (CONTRACT.md, "Cases"): a real worker, a real broker, banks played here.

A report with its victims, holds and a freeze that banks ack, a sanctioned extension, a
sanctioned return under rules 1-3, the banks' `returned` acks, and what police read on
`antifraud.case-status`; then the bad orders, each dead-lettered with nothing changed.
"""

from __future__ import annotations

import time
from typing import Any

from antifraud.core.timestamps import format_rfc3339
from antifraud.harness import simulation
from antifraud.harness.kafka_io import TopicLog
from antifraud.harness.simulation import (
    identifier,
    make_iban,
    make_phone,
    report,
    signed,
    transfer,
)
from antifraud.harness.worker_process import WorkerProcess
from tests.integration.bus import Bus, about, conforms
from tests.integration.conftest import REPORT_KEYS

TRANSFERS = "antifraud.transfers"
REPORTS = "antifraud.reports"
ACKS = "antifraud.bank-acks"
COMMANDS = "antifraud.bank-commands"
DEAD = "antifraud.dead-letter"
CASE_STATUS = "antifraud.case-status"

CASPI, HALYK = "CASPKZKA", "HSBKKZKX"
ISSUER = "ALM-PD-CYBER"
SANCTION = {
    "authority": "Almaty city prosecutor",
    "reference": "SK-2026-7781",
    "issued_at": "2026-12-03T10:00:00+05:00",
}
WAIT = 60.0  # seconds: a bound for each wait, not a timing assertion


def send_report(bus: Bus, record: dict[str, Any]) -> None:
    bus.send(REPORTS, record, key=record["report_id"])
    bus.flush()


def order(
    report_id: str, action: str, *, issuer: str = ISSUER, until: float | None = None
) -> dict[str, Any]:
    return simulation.order(
        report_id, action, time.time(), REPORT_KEYS, until, issuer, sanctioned=SANCTION
    )


def file_report(bus: Bus, report_id: str, mule: str, victim_iban: str, lost: int) -> None:
    lost_by = simulation.victim(identifier("iban", victim_iban, CASPI), lost)
    mules = [identifier("phone", mule, HALYK)]
    filed = report(
        report_id, mules, time.time(), keys=REPORT_KEYS, issuer=ISSUER, victims=[lost_by]
    )
    send_report(bus, filed)


def bank_acks(bus: Bus, commands: list[dict[str, Any]], status: str, **amounts: Any) -> None:
    """What the simulated banks answer, one ack per command."""
    for command in commands:
        ack = {
            "command_id": command["command_id"],
            "bank_id": command["bank_id"],
            "status": status,
            "at": format_rfc3339(time.time()),
            **{name: value(command) for name, value in amounts.items()},
        }
        bus.send(ACKS, ack, key=command["command_id"])
    bus.flush()


def unique(commands: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One per command id: an unacked command is re-sent once, with its own id."""
    return list({c["command_id"]: c for c in commands}.values())


def distinct(log: TopicLog, where: Any, count: int) -> list[dict[str, Any]]:
    """Wait for `count` commands with distinct ids (re-sends are not new commands)."""
    deadline = time.monotonic() + WAIT
    while len(found := unique(log.values(where))) < count:
        assert time.monotonic() < deadline, f"waited for {count} commands, saw {found}"
        log.poll()
    return found


def returns_of(report_id: str) -> Any:
    return lambda c: c["type"] == "return_funds" and c["report_ids"] == [report_id]


def of_case(report_id: str, status: str | None = None, **totals: int) -> Any:
    def match(record: dict[str, Any]) -> bool:
        return (
            record["report_id"] == report_id
            and (status is None or record["status"] == status)
            and all(record["totals"].get(name) == value for name, value in totals.items())
        )

    return match


def test_a_case_from_report_to_returned(worker: WorkerProcess, bus: Bus, serial: int) -> None:
    mule, victim = make_phone(serial + 11), make_iban("722", 52_000_000 + serial)
    report_id = f"R-case-{serial}"
    commands, statuses = bus.reader(COMMANDS), bus.reader(CASE_STATUS)
    file_report(bus, report_id, mule, victim, 30_000_000)
    to_mule = transfer(
        f"T-case-{serial}",
        CASPI,
        identifier("iban", victim),
        identifier("phone", mule, HALYK),
        25_000_000,
        time.time(),
    )
    bus.send(TRANSFERS, to_mule, key=to_mule["transfer_id"])
    bus.flush()
    held = distinct(commands, about([mule]), 3)
    assert sorted((c["type"], c["bank_id"]) for c in held) == [
        ("freeze_account", HALYK),
        ("hold_transfer", CASPI),
        ("hold_transfer", HALYK),
    ]
    statuses.wait_for(of_case(report_id, "tracking"), timeout=WAIT)
    bank_acks(bus, held, "applied", amount_held=lambda c: c.get("amount", 8_000_000))
    statuses.wait_for(of_case(report_id, "holding", amount_held=33_000_000), timeout=WAIT)

    until = float(int(time.time()) + 30 * 86400)
    send_report(bus, order(report_id, "extend", until=until))
    ids = {c["command_id"] for c in held}
    extends = unique(commands.wait_for(lambda c: c.get("extends") in ids, count=3, timeout=WAIT))
    conforms("command", extends)
    assert {c["extends"] for c in extends} == ids
    assert {(c["type"], c["expires_at"], c["reason"]) for c in extends} == {
        ("extend", format_rfc3339(until), "hold_extended")
    }
    assert all(c["sanction"] == SANCTION for c in extends)
    bank_acks(bus, extends, "applied")

    send_report(bus, order(report_id, "return"))
    returns = distinct(commands, returns_of(report_id), 2)
    conforms("command", returns)
    sending_hold = next(c for c in held if c["type"] == "hold_transfer" and c["bank_id"] == CASPI)
    freeze = next(c for c in held if c["type"] == "freeze_account")
    by_source = {c["returns"]: c for c in returns}
    # Rule 1: the transfer back to its sender, from the sending bank only (both held it).
    assert by_source[sending_hold["command_id"]]["amount"] == 25_000_000
    assert by_source[sending_hold["command_id"]]["bank_id"] == CASPI
    # Rule 2: the victim is still owed 5,000,000 of its 30,000,000: that much from the freeze.
    assert by_source[freeze["command_id"]]["amount"] == 5_000_000
    assert len(returns) == 2
    for command in returns:
        assert command["beneficiary"] == {
            "account": {"kind": "iban", "value": victim},
            "bank_id": CASPI,
        }
    statuses.wait_for(of_case(report_id, "returning"), timeout=WAIT)

    bank_acks(bus, returns, "returned", amount_returned=lambda c: c["amount"])
    (final,) = statuses.wait_for(of_case(report_id, "returned"), timeout=WAIT)
    conforms("case_status", [final])
    assert final["totals"]["amount_returned"] == 30_000_000
    assert final["totals"]["amount_held"] == 3_000_000  # no victim can take it: stays held
    assert final["totals"]["amount_lost"] == 30_000_000
    (account,) = final["accounts"]
    assert account["account"] == {"kind": "phone", "value": mule}
    assert (account["hop"], account["via"], account["holds"], account["freezes"]) == (0, None, 2, 1)
    assert account["expires_at"] == format_rfc3339(until)
    metrics = worker.metrics()
    assert 'antifraud_returned_amount_tenge_total{bank_id="CASPKZKA"}' in metrics
    assert "antifraud_report_to_return_seconds_count" in metrics

    # A revocation now releases only what was not returned (rule 3).
    send_report(bus, order(report_id, "revoke"))
    releases = distinct(commands, lambda c: c["type"] == "release" and c["releases"] in ids, 2)
    by_released = {c["releases"]: c for c in releases}
    assert sending_hold["command_id"] not in by_released  # its transfer went back whole
    assert by_released[freeze["command_id"]]["amount_returned"] == 5_000_000
    conforms("command", releases)
    statuses.wait_for(of_case(report_id, "revoked"), timeout=WAIT)
    commands.close()
    statuses.close()


def test_bad_orders_are_dead_lettered_and_change_nothing(
    worker: WorkerProcess, bus: Bus, serial: int
) -> None:
    mule, victim = make_phone(serial + 12), make_iban("722", 53_000_000 + serial)
    report_id = f"R-bad-{serial}"
    dead, commands = bus.reader(DEAD), bus.reader(COMMANDS)
    file_report(bus, report_id, mule, victim, 1_000_000)
    commands.wait_for(about([mule]), timeout=WAIT)  # the freeze

    unsanctioned = {k: v for k, v in order(report_id, "return").items() if k != "sanction"}
    send_report(bus, {**signed(unsanctioned, REPORT_KEYS), "report_id": report_id})
    unknown = order(f"R-never-{serial}", "return")
    send_report(bus, unknown)
    for action in ("revoke", "extend", "return"):
        foreign = order(report_id, action, issuer="AST-PD-CYBER", until=time.time() + 86400)
        send_report(bus, foreign)

    def codes() -> list[tuple[str, str]]:
        keys = {report_id, f"R-never-{serial}"}
        return [
            (letter["source"]["key"], letter["error"]["code"])
            for letter in dead.values(lambda d: d["source"]["key"] in keys)
        ]

    dead.wait_for(lambda d: d["source"]["key"] in {report_id, f"R-never-{serial}"}, 5, WAIT)
    assert sorted(codes()) == sorted(
        [
            (report_id, "schema_violation"),
            (f"R-never-{serial}", "unknown_report"),
            (report_id, "forbidden"),
            (report_id, "forbidden"),
            (report_id, "forbidden"),
        ]
    )
    conforms("dead_letter", dead.values())
    commands.settle(2.0)
    kinds = {c["type"] for c in commands.values(about([mule]))}
    assert kinds == {"freeze_account"}  # no release, no extend, no return
    dead.close()
    commands.close()


def test_a_return_before_any_ack_a_repeated_one_and_one_after_a_revoke(
    worker: WorkerProcess, bus: Bus, serial: int
) -> None:
    mule, victim = make_phone(serial + 13), make_iban("722", 54_000_000 + serial)
    report_id = f"R-again-{serial}"
    commands, statuses = bus.reader(COMMANDS), bus.reader(CASE_STATUS)
    file_report(bus, report_id, mule, victim, 1_000_000)
    (freeze,) = unique(commands.wait_for(about([mule]), timeout=WAIT))

    send_report(bus, order(report_id, "return"))  # no bank holds anything yet
    waiting = statuses.wait_for(
        lambda s: s["report_id"] == report_id and s.get("return_verdict") == "nothing_yet",
        timeout=WAIT,
    )
    assert waiting[-1]["status"] == "tracking"

    bank_acks(bus, [freeze], "applied", amount_held=lambda _: 400_000)
    statuses.wait_for(of_case(report_id, "holding", amount_held=400_000), timeout=WAIT)
    send_report(bus, order(report_id, "return"))
    returned = commands.wait_for(lambda c: c.get("returns") == freeze["command_id"], timeout=WAIT)
    assert returned[0]["amount"] == 400_000
    send_report(bus, order(report_id, "return"))  # again: nothing new
    statuses.wait_for(of_case(report_id, "returning"), timeout=WAIT)
    commands.settle(3.0)
    ids = {c["command_id"] for c in commands.values(returns_of(report_id))}
    assert ids == {returned[0]["command_id"]}  # the same one, or a re-send of it

    send_report(bus, order(report_id, "revoke"))
    statuses.wait_for(of_case(report_id, "revoked"), timeout=WAIT)
    # Its money all given back, the freeze gets no release: nothing is left to release.
    send_report(bus, order(report_id, "return"))
    statuses.wait_for(
        lambda s: s["report_id"] == report_id and s.get("return_verdict") == "revoked",
        timeout=WAIT,
    )
    commands.settle(2.0)
    after = {c["command_id"] for c in commands.values(returns_of(report_id))}
    assert after == ids
    assert commands.values(lambda c: c.get("releases") == freeze["command_id"]) == []
    commands.close()
    statuses.close()
