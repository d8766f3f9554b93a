"""Issue 18's smaller findings, on the suite's worker at the default 1 MiB record limit.

Contract, "Robustness promises" 6 (acks that contradict their command) and 7 (spaces in
identifiers); "Report" (the signature is over the bytes as written; unknown fields are
ignored); "Topics" and "Dead letters" (a dead letter is keyed by the rejected record's key).
Same shape as test_robustness.py: bounded waits, one assertion of everything observed.
"""

from __future__ import annotations

import base64
import json
import time

import orjson

from antifraud.core.signatures import sign_report
from antifraud.harness.simulation import identifier, make_iban, make_phone, report, revocation
from antifraud.harness.simulation import transfer as make_transfer
from antifraud.harness.worker_process import WorkerProcess
from tests.integration.bus import Bus, about
from tests.integration.conftest import REPORT_KEYS
from tests.integration.robustness import (
    ACKS,
    CASPI,
    COMMANDS,
    DEAD,
    HALYK,
    REPORTS,
    TRANSFERS,
    ack,
    codes,
    distinct,
    gather,
    holds_of,
    keyed,
    metric_sum,
    of_type,
    pay,
    payer,
    send_report,
    send_transfer,
    signed_report,
    wait_metric,
)

HELD = "antifraud_held_amount_tenge_total"
ACKED = "antifraud_acks_total"


def test_acks_of_releases_never_count_as_money_held(
    worker: WorkerProcess, bus: Bus, serial: int
) -> None:
    """An ack on a `release` moves no held money; one with `amount_held` is `invalid_ack`. Issue
    18 (main at 1345b1e): that amount is added to the held-money metric."""
    phone = make_phone(serial + 32)
    dead, commands = bus.reader(DEAD), bus.reader(COMMANDS)
    rid = f"R-released-{serial}"
    send_report(bus, REPORTS, rid, [phone], time.time())
    send_transfer(bus, TRANSFERS, pay(f"T-released-{serial}", phone, 0, 40_500_000 + serial))
    commands.wait_for(about([phone]), count=3)
    bus.send(REPORTS, revocation(rid, time.time(), keys=REPORT_KEYS), key=rid)
    bus.flush()
    releases = {c["command_id"]: c for c in commands.wait_for(of_type("release", [phone]), 3)}
    plain, with_amount = sorted(releases.values(), key=lambda c: c["command_id"])[:2]
    held_before, acked_before = metric_sum(worker, HELD), metric_sum(worker, ACKED)
    bus.send(ACKS, ack(plain), key=plain["command_id"])
    bus.flush()
    acked = wait_metric(worker, ACKED, acked_before + 1)
    held_after_plain = metric_sum(worker, HELD)
    bus.send(ACKS, ack(with_amount, amount_held=1_000_000), key=with_amount["command_id"])
    bus.flush()
    letters = gather(dead, keyed(with_amount["command_id"]))
    time.sleep(1.0)  # an ack wrongly counted would show by now
    assert {
        "plain_release_ack_recorded": acked > acked_before,
        "held_moved_by_the_plain_ack": held_after_plain - held_before,
        "release_ack_with_amount": codes(letters),
        "held_moved_in_all": metric_sum(worker, HELD) - held_before,
    } == {
        "plain_release_ack_recorded": True,
        "held_moved_by_the_plain_ack": 0.0,
        "release_ack_with_amount": ["invalid_ack"],
        "held_moved_in_all": 0.0,
    }
    dead.close()
    commands.close()


def test_an_ack_holding_more_than_its_command_is_invalid(
    worker: WorkerProcess, bus: Bus, serial: int
) -> None:
    """`amount_held` 10^15 for a 1,000,000 hold is `invalid_ack`, and no money is counted. Issue
    18 (main at 1345b1e): the held-money metric grows by 10^13 tenge."""
    phone = make_phone(serial + 33)
    dead, commands = bus.reader(DEAD), bus.reader(COMMANDS)
    send_report(bus, REPORTS, f"R-overheld-{serial}", [phone], time.time())
    paid = make_transfer(
        f"T-overheld-{serial}",
        CASPI,
        payer(41_500_000 + serial, 0),
        identifier("phone", phone, HALYK),
        1_000_000,
        time.time(),
    )
    send_transfer(bus, TRANSFERS, paid)
    [hold, *_] = commands.wait_for(holds_of(paid["transfer_id"]), count=2)
    assert hold["amount"] == 1_000_000
    held_before = metric_sum(worker, HELD)
    bus.send(ACKS, ack(hold, amount_held=10**15), key=hold["command_id"])
    bus.flush()
    letters = gather(dead, keyed(hold["command_id"]))
    time.sleep(1.0)  # an ack wrongly counted would show by now
    assert {
        "ack": codes(letters),
        "held_moved": metric_sum(worker, HELD) - held_before,
    } == {"ack": ["invalid_ack"], "held_moved": 0.0}
    dead.close()
    commands.close()


def test_an_iban_with_no_break_spaces_is_accepted_and_matches(
    worker: WorkerProcess, bus: Bus, serial: int
) -> None:
    """NBSP (U+00A0) is removed inside IBANs as inside cards and phones. Issue 18 (main at
    1345b1e): an IBAN with NBSP is `invalid_identifier`, in the report and in the transfer
    alike."""
    iban = make_iban("601", 42_000_000 + serial)  # Halyk's bank code: the directory names it
    grouped = "\u00a0".join(iban[i : i + 4] for i in range(0, len(iban), 4))
    dead, commands = bus.reader(DEAD), bus.reader(COMMANDS)
    rid = f"R-nbsp-{serial}"
    bus.send(REPORTS, signed_report(rid, [identifier("iban", grouped)], time.time()), key=rid)
    paid = make_transfer(
        f"T-nbsp-{serial}",
        CASPI,
        payer(42_500_000 + serial, 0),
        identifier("iban", grouped.lower(), HALYK),
        2_000_000,
        time.time(),
    )
    send_transfer(bus, TRANSFERS, paid)
    found = {c["command_id"]: c for c in gather(commands, about([iban]), count=3)}
    dead.settle(1.0)
    assert {
        "commands": sorted((c["type"], c["bank_id"]) for c in found.values()),
        "dead_letters": codes(dead.values(keyed(rid)) + dead.values(keyed(paid["transfer_id"]))),
    } == {
        "commands": [("freeze_account", HALYK), ("hold_transfer", CASPI), ("hold_transfer", HALYK)],
        "dead_letters": [],
    }
    dead.close()
    commands.close()


def test_a_signed_report_with_an_integer_beyond_64_bits_verifies(
    worker: WorkerProcess, bus: Bus, serial: int
) -> None:
    """Unknown fields are ignored, and the signature is over the canonical JSON of the report as
    sent: an integer above 2^64 must stay that integer. Issue 18 (main at 1345b1e): it is read
    as a float and the report is rejected `bad_signature`."""
    phone = make_phone(serial + 34)
    dead, commands = bus.reader(DEAD), bus.reader(COMMANDS)
    rid = f"R-bigint-{serial}"
    body = report(rid, [identifier("phone", phone, HALYK)], time.time())
    body["x_registry_number"] = 2**64 + 12_345
    signed = sign_report(body, "test-1", REPORT_KEYS["test-1"])
    # The stdlib writes the integer's digits as they are (orjson refuses integers over 64 bits).
    raw = json.dumps(signed, ensure_ascii=False).encode()
    assert b"18446744073709563961" in raw
    bus.send(REPORTS, raw, key=rid)
    bus.flush()
    freezes = gather(commands, of_type("freeze_account", [phone]))
    dead.settle(1.0)
    assert {"freezes": distinct(freezes), "dead_letters": codes(dead.values(keyed(rid)))} == {
        "freezes": 1,
        "dead_letters": [],
    }
    dead.close()
    commands.close()


def test_a_dead_letter_keeps_a_non_utf8_key_byte_for_byte(
    worker: WorkerProcess, bus: Bus, serial: int
) -> None:
    """The dead letter is keyed by the rejected record's key, and `source.key` names it: when it
    is not UTF-8, as base64 with `source.key_encoding: "base64"` (an optional field, like
    `payload_encoding`; our choice, the contract allows optional fields). Issue 18 (main at
    1345b1e): the key is rewritten with U+FFFD, on the record and in `source.key`: its bytes are
    lost."""
    key = b"\xff\xfeK\xc3-" + str(serial).encode()
    text = f"{{not json {serial}"
    dead = bus.reader(DEAD)
    bus.send(TRANSFERS, text.encode(), key=key)
    bus.flush()
    letters = gather(dead, lambda letter: letter["payload"] == text)
    assert letters, "no dead letter for the record"
    [record] = [r for r in dead.records if orjson.loads(r.value)["payload"] == text][:1]
    source = letters[0]["source"]
    named = source.get("key")
    if source.get("key_encoding") == "base64":
        named = base64.b64decode(named)
    assert {
        "record_key": record.key,
        "source_key_encoding": source.get("key_encoding"),
        "source_key": named,
    } == {"record_key": key, "source_key_encoding": "base64", "source_key": key}
    dead.close()
