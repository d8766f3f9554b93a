"""Contract promises 1, 2, 3 and 6 on a real broker with a real `antifraud worker` process."""

from __future__ import annotations

import time
from typing import Any

from antifraud.harness.simulation import (
    identifier,
    make_card,
    make_iban,
    make_phone,
    messy_iban,
    messy_phone,
    report,
    transfer,
)
from antifraud.harness.worker_process import WorkerProcess
from tests.integration.bus import Bus, about, conforms
from tests.integration.conftest import REPORT_KEYS

TRANSFERS = "antifraud.transfers"
REPORTS = "antifraud.reports"
COMMANDS = "antifraud.bank-commands"

CASPI, HALYK, FORTE = "CASPKZKA", "HSBKKZKX", "IRTYKZKA"


def sender(serial: int) -> dict[str, str]:
    return identifier("iban", make_iban("722", 50_000_000 + serial))


def send_transfer(bus: Bus, record: dict[str, Any]) -> None:
    bus.send(TRANSFERS, record, key=record["transfer_id"])
    bus.flush()


def send_report(bus: Bus, record: dict[str, Any]) -> None:
    bus.send(REPORTS, record, key=record["report_id"])
    bus.flush()


def unique_ids(commands: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {c["command_id"]: c for c in commands}


def test_forward_match_holds_at_both_banks_and_freezes(
    worker: WorkerProcess, bus: Bus, serial: int
) -> None:
    phone = make_phone(serial + 1)
    commands = bus.reader(COMMANDS)
    now = time.time()
    send_report(
        bus, report(f"R-fwd-{serial}", [identifier("phone", phone, HALYK)], now, keys=REPORT_KEYS)
    )
    send_transfer(
        bus,
        transfer(
            f"T-fwd-{serial}",
            CASPI,
            sender(serial),
            identifier("phone", phone, HALYK),
            25_000_000,
            now + 1,
        ),
    )
    found = commands.wait_for(about([phone]), count=3)
    conforms("command", found)
    by_type = sorted((c["type"], c["bank_id"]) for c in unique_ids(found).values())
    assert by_type == [
        ("freeze_account", HALYK),
        ("hold_transfer", CASPI),
        ("hold_transfer", HALYK),
    ]
    hold = next(c for c in found if c["type"] == "hold_transfer")
    assert hold["transfer"] == {"bank_id": CASPI, "transfer_id": f"T-fwd-{serial}"}
    assert hold["amount"] == 25_000_000 and hold["currency"] == "KZT"
    assert hold["report_ids"] == [f"R-fwd-{serial}"]
    assert hold["reason"] == "reported_account" and hold["hop"] == 0
    assert hold["account"] == {"kind": "phone", "value": phone}
    assert "__faust" not in hold
    commands.close()


def test_look_back_match_holds_transfer_already_in_flight(
    worker: WorkerProcess, bus: Bus, serial: int
) -> None:
    iban = make_iban("601", 70_000_000 + serial)
    commands = bus.reader(COMMANDS)
    now = time.time()
    # In flight since two hours before the report arrives; the recipient bank is the sender's too.
    send_transfer(
        bus,
        transfer(
            f"T-lb-{serial}",
            HALYK,
            sender(serial),
            identifier("iban", iban, HALYK),
            9_900_000,
            now - 7200,
        ),
    )
    time.sleep(1.0)
    send_report(bus, report(f"R-lb-{serial}", [identifier("iban", iban)], now, keys=REPORT_KEYS))
    found = unique_ids(commands.wait_for(about([iban]), count=2))
    kinds = sorted((c["type"], c["bank_id"]) for c in found.values())
    # One bank holds both ends, so one hold; the bank is derived from the IBAN's bank code.
    assert kinds == [("freeze_account", HALYK), ("hold_transfer", HALYK)]
    commands.close()


def test_transfer_older_than_look_back_window_is_not_held(
    worker: WorkerProcess, bus: Bus, serial: int
) -> None:
    card = make_card(serial + 7)
    commands = bus.reader(COMMANDS)
    now = time.time()
    send_transfer(
        bus,
        transfer(
            f"T-old-{serial}",
            CASPI,
            sender(serial),
            identifier("card", card, FORTE),
            1_000_000,
            now - 80 * 3600,
        ),
    )
    time.sleep(1.0)
    send_report(
        bus, report(f"R-old-{serial}", [identifier("card", card, FORTE)], now, keys=REPORT_KEYS)
    )
    found = commands.wait_for(about([card]), count=1)
    commands.settle(2.0)
    assert [c["type"] for c in commands.values(about([card]))] == ["freeze_account"]
    assert found[0]["bank_id"] == FORTE
    commands.close()


def test_settled_and_carved_out_transfers_are_not_held(
    worker: WorkerProcess, bus: Bus, serial: int
) -> None:
    phone = make_phone(serial + 2)
    recipient = identifier("phone", phone, HALYK)
    commands = bus.reader(COMMANDS)
    now = time.time()
    send_report(
        bus, report(f"R-carve-{serial}", [identifier("phone", phone, HALYK)], now, keys=REPORT_KEYS)
    )
    send_transfer(
        bus,
        transfer(
            f"T-settled-{serial}", CASPI, sender(serial), recipient, 500_000, now, status="settled"
        ),
    )
    send_transfer(
        bus,
        transfer(
            f"T-cancel-{serial}", CASPI, sender(serial), recipient, 500_000, now, status="cancelled"
        ),
    )
    for purpose in ("salary", "pension", "social_benefit"):
        send_transfer(
            bus,
            transfer(
                f"T-{purpose}-{serial}",
                CASPI,
                sender(serial),
                recipient,
                500_000,
                now,
                purpose=purpose,
            ),
        )
    # A held transfer after them shows the worker got that far.
    send_transfer(
        bus,
        transfer(
            f"T-held-{serial}", CASPI, sender(serial), recipient, 700_000, now, purpose="purchase"
        ),
    )
    commands.wait_for(
        lambda c: c.get("transfer", {}).get("transfer_id") == f"T-held-{serial}", count=2
    )
    held = {
        c["transfer"]["transfer_id"]
        for c in commands.values(about([phone]))
        if c["type"] == "hold_transfer"
    }
    assert held == {f"T-held-{serial}"}
    commands.close()


def test_duplicate_and_status_update_give_no_new_command_id(
    worker: WorkerProcess, bus: Bus, serial: int
) -> None:
    phone = make_phone(serial + 3)
    recipient = identifier("phone", phone, FORTE)
    commands = bus.reader(COMMANDS)
    now = time.time()
    send_report(bus, report(f"R-dup-{serial}", [identifier("phone", phone)], now, keys=REPORT_KEYS))
    record = transfer(f"T-dup-{serial}", CASPI, sender(serial), recipient, 3_000_000, now)
    for _ in range(3):
        send_transfer(bus, record)
    # The same report again (a replay) must not mint anything either.
    send_report(bus, report(f"R-dup-{serial}", [identifier("phone", phone)], now, keys=REPORT_KEYS))
    commands.wait_for(about([phone]), count=3)
    commands.settle(3.0)
    ids = unique_ids(commands.values(about([phone])))
    # Unknown bank at report time; the transfer reveals FORTE: a freeze there, holds at both ends.
    assert sorted((c["type"], c["bank_id"]) for c in ids.values()) == [
        ("freeze_account", FORTE),
        ("hold_transfer", CASPI),
        ("hold_transfer", FORTE),
    ]
    commands.close()


def test_messy_phone_and_iban_forms_match(worker: WorkerProcess, bus: Bus, serial: int) -> None:
    phone = make_phone(serial + 4)
    iban = make_iban("722", 60_000_000 + serial)
    commands = bus.reader(COMMANDS)
    now = time.time()
    send_report(
        bus,
        report(
            f"R-messy-{serial}",
            [identifier("phone", messy_phone(phone)), identifier("iban", messy_iban(iban))],
            now,
            keys=REPORT_KEYS,
        ),
    )
    # The bank writes the phone yet another way.
    national = phone[2:]
    bank_form = f"+7 ({national[:3]}) {national[3:6]}-{national[6:8]}-{national[8:]}"
    send_transfer(
        bus,
        transfer(
            f"T-messy-p-{serial}",
            HALYK,
            sender(serial),
            identifier("phone", bank_form, CASPI),
            1_000_000,
            now,
        ),
    )
    send_transfer(
        bus,
        transfer(
            f"T-messy-i-{serial}",
            HALYK,
            sender(serial),
            identifier("iban", iban.lower(), CASPI),
            2_000_000,
            now,
        ),
    )
    holds = commands.wait_for(
        lambda c: c["type"] == "hold_transfer" and about([phone, iban])(c), count=4
    )
    assert {c["account"]["value"] for c in holds} == {phone, iban}
    commands.close()


def test_innocent_traffic_gets_no_commands(worker: WorkerProcess, bus: Bus, serial: int) -> None:
    commands = bus.reader(COMMANDS)
    now = time.time()
    innocents = [make_phone(serial + 100 + i) for i in range(50)]
    for i, phone in enumerate(innocents):
        send_transfer(
            bus,
            transfer(
                f"T-inn-{serial}-{i}",
                CASPI,
                sender(serial + i),
                identifier("phone", phone, HALYK),
                100_000 + i,
                now,
            ),
        )
    # A marker case proves the worker processed past the innocent transfers.
    marker = make_phone(serial + 999)
    send_report(
        bus,
        report(f"R-marker-{serial}", [identifier("phone", marker, HALYK)], now, keys=REPORT_KEYS),
    )
    commands.wait_for(about([marker]), count=1)
    commands.settle(1.0)
    assert commands.values(about(innocents)) == []
    commands.close()
