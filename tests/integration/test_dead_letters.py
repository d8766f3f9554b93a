"""Bad input never crashes the worker and is never lost: each dead-letter code, end to end."""

from __future__ import annotations

import base64
import hashlib
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from antifraud.core.signatures import sign_report
from antifraud.harness.simulation import identifier, make_iban, make_phone, report, transfer
from antifraud.harness.worker_process import WorkerProcess
from tests.integration.bus import Bus, about, conforms
from tests.integration.conftest import REPORT_KEYS, Broker, isolated_env

TRANSFERS = "antifraud.transfers"
REPORTS = "antifraud.reports"
ACKS = "antifraud.bank-acks"
DEAD = "antifraud.dead-letter"
COMMANDS = "antifraud.bank-commands"


def valid_transfer(serial: int, recipient_phone: str) -> dict[str, Any]:
    return transfer(
        f"T-dl-{serial}",
        "CASPKZKA",
        identifier("iban", make_iban("722", 40_000_000 + serial)),
        identifier("phone", recipient_phone, "HSBKKZKX"),
        1_500_000,
        time.time(),
    )


def by_key(key: str) -> Any:
    return lambda record: record["source"]["key"] == key


BAD_TRANSFERS: list[tuple[str, bytes | None, str]] = [
    ("invalid_json", b"{not json", "not UTF-8 JSON"),
    ("invalid_json", b"\xff\xfe\x00garbage", "not UTF-8 JSON"),
    ("invalid_json", b"[1, 2, 3]", "expected a JSON object"),
    ("invalid_json", b'"a string"', "expected a JSON object"),
]


@pytest.mark.parametrize(("code", "payload", "message_part"), BAD_TRANSFERS)
def test_undecodable_records_are_dead_lettered(
    worker: WorkerProcess,
    bus: Bus,
    serial: int,
    code: str,
    payload: bytes,
    message_part: str,
) -> None:
    dead = bus.reader(DEAD)
    key = f"bad-{serial}"
    bus.send(TRANSFERS, payload, key=key)
    bus.flush()
    [letter] = dead.wait_for(by_key(key))
    conforms("dead_letter", [letter])
    assert letter["error"]["code"] == code
    assert message_part in letter["error"]["message"]
    assert letter["source"]["topic"] == TRANSFERS
    assert isinstance(letter["source"]["offset"], int)
    if letter["payload_encoding"] == "base64":
        assert base64.b64decode(letter["payload"]) == payload
    else:
        assert letter["payload"].encode() == payload
    dead.close()


def test_schema_violation_names_the_field(worker: WorkerProcess, bus: Bus, serial: int) -> None:
    dead = bus.reader(DEAD)
    record = valid_transfer(serial, make_phone(serial + 11))
    record["amount"] = 0
    bus.send(TRANSFERS, record, key=f"schema-{serial}")
    bus.flush()
    [letter] = dead.wait_for(by_key(f"schema-{serial}"))
    assert letter["error"]["code"] == "schema_violation"
    assert letter["error"]["message"].startswith("amount:")
    assert orjson.loads(letter["payload"]) == record
    dead.close()


def test_invalid_identifier(worker: WorkerProcess, bus: Bus, serial: int) -> None:
    dead = bus.reader(DEAD)
    record = valid_transfer(serial, make_phone(serial + 12))
    record["sender"] = {"kind": "iban", "value": "KZ00125KZT5004100100"}  # wrong check digits
    bus.send(TRANSFERS, record, key=f"ident-{serial}")
    bus.flush()
    [letter] = dead.wait_for(by_key(f"ident-{serial}"))
    assert letter["error"]["code"] == "invalid_identifier"
    assert "mod-97" in letter["error"]["message"]
    dead.close()


def test_too_large(worker: WorkerProcess, bus: Bus, serial: int) -> None:
    """Over the default 1 MiB: `too_large`, and the dead letter keeps only the first 64 KiB.

    The suite's input topics and producer accept such a record (tests/integration/conftest.py);
    its whole copy could not be written to the dead-letter topic (over 1,000,000 bytes).
    """
    dead = bus.reader(DEAD)
    record = valid_transfer(serial, make_phone(serial + 13))
    record["padding"] = "x" * (1024 * 1024 + 1000)  # the worker's default limit is 1 MiB
    raw = orjson.dumps(record)
    bus.send(TRANSFERS, raw, key=f"large-{serial}")
    bus.flush()
    [letter] = dead.wait_for(by_key(f"large-{serial}"), timeout=60)
    conforms("dead_letter", [letter])
    assert letter["error"]["code"] == "too_large"
    assert "limit is 1048576" in letter["error"]["message"]
    assert letter.get("payload_truncated") is True
    assert letter.get("payload_bytes") == len(raw)
    assert letter.get("payload_sha256") == hashlib.sha256(raw).hexdigest()
    kept = letter["payload"].encode()
    assert letter["payload_encoding"] == "utf-8" and 0 < len(kept) <= 64 * 1024
    assert raw.startswith(kept)
    dead.close()


@pytest.mark.parametrize("forgery", ["unsigned", "unknown_key", "wrong_secret", "tampered"])
def test_bad_signature_blocks_nothing(
    worker: WorkerProcess, bus: Bus, serial: int, forgery: str
) -> None:
    dead = bus.reader(DEAD)
    commands = bus.reader(COMMANDS)
    phone = make_phone(serial + 14)
    report_id = f"R-forged-{forgery}-{serial}"
    body = report(report_id, [identifier("phone", phone, "HSBKKZKX")], time.time())
    if forgery == "unknown_key":
        body = sign_report(body, "rogue", b"not-a-configured-key")
    elif forgery == "wrong_secret":
        body = sign_report(body, "test-1", b"guessed-secret")
    elif forgery == "tampered":
        # A genuine signed report replayed with another account in it.
        body = sign_report(body, "test-1", REPORT_KEYS["test-1"])
        body["accounts"] = [identifier("phone", make_phone(serial + 15), "HSBKKZKX")]
    bus.send(REPORTS, body, key=report_id)
    # A transfer to the account: with a forged report it must not be held.
    bus.send(
        TRANSFERS,
        transfer(
            f"T-forged-{forgery}-{serial}",
            "CASPKZKA",
            identifier("iban", make_iban("722", 41_000_000 + serial)),
            identifier("phone", phone, "HSBKKZKX"),
            2_000_000,
            time.time(),
        ),
        key=f"T-forged-{forgery}-{serial}",
    )
    bus.flush()
    [letter] = dead.wait_for(by_key(report_id))
    assert letter["error"]["code"] == "bad_signature"
    commands.settle(2.0)
    forged_accounts = [phone, make_phone(serial + 15)]
    assert commands.values(about(forged_accounts)) == []
    dead.close()
    commands.close()


def test_ack_for_unknown_command(worker: WorkerProcess, bus: Bus, serial: int) -> None:
    dead = bus.reader(DEAD)
    command_id = f"{serial:032x}"
    ack = {
        "command_id": command_id,
        "bank_id": "HSBKKZKX",
        "status": "applied",
        "amount_held": 100,
        "at": "2026-11-29T09:05:02Z",
    }
    bus.send(ACKS, ack, key=command_id)
    bus.flush()
    [letter] = dead.wait_for(by_key(command_id))
    assert letter["error"]["code"] == "unknown_command"
    assert letter["source"]["topic"] == ACKS
    assert orjson.loads(letter["payload"]) == ack
    dead.close()


def test_worker_keeps_processing_after_bad_records(
    worker: WorkerProcess, bus: Bus, serial: int
) -> None:
    dead = bus.reader(DEAD)
    commands = bus.reader(COMMANDS)
    phone = make_phone(serial + 16)
    for i in range(30):
        bus.send(TRANSFERS, b"\x00" * (i + 1), key=f"junk-{serial}-{i}")
        bus.send(REPORTS, b'{"report_id": 1}', key=f"junk-r-{serial}-{i}")
    bus.send(
        REPORTS,
        report(
            f"R-after-junk-{serial}",
            [identifier("phone", phone, "HSBKKZKX")],
            time.time(),
            keys=REPORT_KEYS,
        ),
        key=f"R-after-junk-{serial}",
    )
    record = valid_transfer(serial, phone)
    record["an_unknown_field"] = {"ignored": True}  # the contract says: ignored, not rejected
    bus.send(TRANSFERS, record, key=record["transfer_id"])
    bus.flush()
    dead.wait_for(lambda r: r["source"]["key"].startswith(f"junk-r-{serial}-"), count=30)
    dead.wait_for(lambda r: r["source"]["key"].startswith(f"junk-{serial}-"), count=30)
    holds = commands.wait_for(lambda c: c["type"] == "hold_transfer" and about([phone])(c), count=2)
    assert {c["bank_id"] for c in holds} == {"CASPKZKA", "HSBKKZKX"}
    assert worker.alive()
    dead.close()
    commands.close()


def test_records_near_the_1_mib_limit_get_dead_letters_that_fit(
    broker: Broker, bus: Bus, worker_env: dict[str, str], tmp_path: Path, serial: int
) -> None:
    """At the default 1 MiB record limit, in a worker of its own: a dead letter
    that would copy a record near the limit holds its first 64 KiB, its size and its SHA-256,
    and the valid transfers around it are held (the contract's "Robustness promises", 1.).
    A valid report as large carries only that much on its way to the registry, and freezes."""
    app_id = f"antifraud-fit-{serial}"
    env = isolated_env(worker_env, app_id)
    env.pop("ANTIFRAUD_MAX_RECORD_BYTES", None)  # the suite runs at the default too now
    dead = bus.reader(f"{app_id}.dead_letter")
    commands = bus.reader(f"{app_id}.bank_commands")
    worker = WorkerProcess(broker.url, tmp_path, env, name="fit").start()
    phone = make_phone(serial + 17)
    try:
        bus.send(
            f"{app_id}.reports",
            report(
                f"R-fit-{serial}",
                [identifier("phone", phone, "HSBKKZKX")],
                time.time(),
                keys=REPORT_KEYS,
            ),
            key=f"R-fit-{serial}",
        )
        bus.flush()
        commands.wait_for(about([phone]))
        poison = b'{"transfer_id": "POISON-TR", "pad": "' + b"y" * 1_040_000
        quotes = b'{"report_id": "' + b'\\"' * 300_000  # 600 KB, twice that escaped again
        ack = orjson.dumps(
            {
                "command_id": f"{serial:032x}",
                "bank_id": "HSBKKZKX",
                "status": "applied",
                "at": "2026-11-29T09:05:02Z",
                "pad": "z" * 1_040_000,  # unknown fields are ignored: a valid ack
            }
        )
        # A valid report as large as a record may be: quotes, doubled when escaped again.
        big_phone = make_phone(serial + 18)
        big = report(f"R-big-{serial}", [identifier("phone", big_phone, "HSBKKZKX")], time.time())
        big["pad"] = '"' * 450_000
        big = sign_report(big, "test-1", REPORT_KEYS["test-1"])
        first, last = valid_transfer(serial + 1, phone), valid_transfer(serial + 2, phone)
        bus.send(f"{app_id}.transfers", first, key=first["transfer_id"])
        bus.send(f"{app_id}.transfers", poison, key=b"POISON-\xff")  # a key not UTF-8 either
        bus.send(f"{app_id}.transfers", last, key=last["transfer_id"])
        bus.send(f"{app_id}.reports", quotes, key=f"R-quotes-{serial}")
        bus.send(f"{app_id}.bank_acks", ack, key=f"{serial:032x}")
        bus.send(f"{app_id}.reports", big, key=f"R-big-{serial}")
        bus.flush()
        dead.wait_for(lambda r: True, count=3, timeout=60)
        commands.wait_for(about([big_phone]), timeout=60)  # the last record acted on
        letters = dead.values()
        conforms("dead_letter", letters)
        poison_key = base64.b64encode(b"POISON-\xff").decode()  # the key is not UTF-8
        keyed = {letter["source"]["key"]: letter for letter in letters}
        assert set(keyed) == {poison_key, f"R-quotes-{serial}", f"{serial:032x}"}
        for key, raw, code in (
            (poison_key, poison, "invalid_json"),
            (f"R-quotes-{serial}", quotes, "invalid_json"),
            (f"{serial:032x}", ack, "unknown_command"),
        ):
            letter = keyed[key]
            assert letter["error"]["code"] == code, letter["error"]
            assert letter["payload_truncated"] is True
            assert letter["payload_bytes"] == len(raw)
            assert letter["payload_sha256"] == hashlib.sha256(raw).hexdigest()
            assert letter["payload"].encode() == raw[: 64 * 1024]
        assert keyed[poison_key]["source"]["key_encoding"] == "base64"
        holds = commands.wait_for(
            lambda c: c["type"] == "hold_transfer" and about([phone])(c), count=4, timeout=60
        )
        assert len({c["command_id"] for c in holds}) == 4  # both transfers, at both banks
        [freeze] = commands.wait_for(about([big_phone]), timeout=60)
        assert freeze["type"] == "freeze_account"
        assert worker.alive()
    finally:
        worker.stop()
        dead.close()
        commands.close()
