"""Hostile input: >= 10,000 bad records among valid traffic, against the suite's one worker.

Every bad record must land in `antifraud.dead-letter` with the code the contract names
(matched by its unique record key, its original bytes kept in the payload), every valid
record must be processed (valid transfers to reported accounts give their holds, also
when they carry unknown extra fields), and the worker must never restart: same PID,
alive, `/health` 200 at the end. The generator is seeded, so a failure replays exactly.

Long on purpose: the catalogue of hostile records and the check that each lands in the
dead letters with its code are one table, read together.

Its burst leaves thousands of unacknowledged commands. Their re-sends once held up the
next test's report for 30-45 s (the ledger waited for the broker once per re-send); the
agents now wait once per batch, so the test runs in its place and the tests after it
(test_matching) are the check that the worker still answers within seconds.
"""

from __future__ import annotations

import base64
import hashlib
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from antifraud.core.signatures import sign_report
from antifraud.harness.kafka_io import TopicLog
from antifraud.harness.simulation import (
    identifier,
    make_card,
    make_iban,
    make_phone,
    report,
    transfer,
)
from antifraud.harness.worker_process import WorkerProcess
from tests.integration.bus import Bus
from tests.integration.conftest import REPORT_KEYS, Broker

TRANSFERS = "antifraud.transfers"
REPORTS = "antifraud.reports"
ACKS = "antifraud.bank-acks"
DEAD = "antifraud.dead-letter"
COMMANDS = "antifraud.bank-commands"

CASPI, HALYK = "CASPKZKA", "HSBKKZKX"
BAD_RECORDS = 10_500
VALID_TRANSFERS = 1_000
REPORTED = 10
LIMIT = 1024 * 1024  # the worker's default ANTIFRAUD_MAX_RECORD_BYTES
KEPT = 64 * 1024  # a dead letter too large to write keeps this much of its payload
WAIT = 420.0  # seconds: a bound for the wait, not a timing assertion

INVALID_JSON = frozenset({"invalid_json"})
SCHEMA = frozenset({"schema_violation"})
IDENTIFIER = frozenset({"invalid_identifier"})


@dataclass(frozen=True, slots=True)
class Bad:
    category: str
    topic: str
    value: bytes | None
    codes: frozenset[str]


def nested(depth: int, opener: str = "[", closer: str = "]") -> str:
    return opener * depth + closer * depth


def nested_object(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


class Hostile:
    """Seeded bad records, each with the dead-letter codes the contract allows for it."""

    def __init__(self, seed: int, serial: int, now: float) -> None:
        self.rng = random.Random(seed)
        self.serial = serial
        self.now = now
        self.n = 0
        self.kinds: list[tuple[str, float, Callable[[], Bad]]] = [
            ("truncated", 12, self.truncated),
            ("wrong_type", 18, self.wrong_type),
            ("missing_field", 5, self.missing_field),
            ("huge_number", 6, self.huge_number),
            ("deep_nesting", 3, self.deep_nesting),
            ("invalid_utf8", 9, self.invalid_utf8),
            ("bad_identifier", 12, self.bad_identifier),
            ("oversized", 0.2, self.oversized),  # ~20 records of 1 MiB: enough, and cheap
            ("non_object", 6, self.non_object),
            ("null_bytes", 6, self.null_bytes),
            ("duplicate_keys", 6, self.duplicate_keys),
            ("empty", 2, self.empty),
            ("bad_report", 8, self.bad_report),
            ("bad_ack", 5, self.bad_ack),
        ]

    def next(self) -> Bad:
        self.n += 1
        names = [k[0] for k in self.kinds]
        weights = [k[1] for k in self.kinds]
        index = names.index(self.rng.choices(names, weights)[0])
        return self.kinds[index][2]()

    # -- building blocks ------------------------------------------------------------

    def transfer(self) -> dict[str, Any]:
        n = self.serial + self.n
        return transfer(
            f"T-bad-{n}",
            CASPI,
            identifier("iban", make_iban("722", 46_000_000 + n % 1_000_000)),
            identifier("phone", make_phone(4_000_000 + n % 1_000_000), HALYK),
            self.rng.randint(1, 10**9),
            self.now,
        )

    def dumps(self, record: dict[str, Any]) -> bytes:
        return orjson.dumps(record)

    # -- categories -----------------------------------------------------------------

    def truncated(self) -> Bad:
        raw = self.dumps(self.transfer())
        return Bad("truncated", TRANSFERS, raw[: self.rng.randrange(1, len(raw) - 1)], INVALID_JSON)

    def wrong_type(self) -> Bad:
        record = self.transfer()
        field, value = self.rng.choice(
            [
                ("transfer_id", 123),
                ("transfer_id", ""),
                ("transfer_id", None),
                ("transfer_id", "T" * 129),
                ("bank_id", 42),
                ("bank_id", "caspkzka"),
                ("bank_id", "CASP KZKA"),
                ("sender", "KZ86125KZT5004100100"),
                ("sender", []),
                ("sender", {"kind": 7, "value": "x"}),
                ("sender", {"kind": "email", "value": "a@b.kz"}),
                ("recipient", {"kind": "phone", "value": "+77011234567"}),  # no bank_id
                ("recipient", {"kind": "phone", "value": ["+77011234567"], "bank_id": HALYK}),
                ("amount", "2500000"),
                ("amount", 1.5),
                ("amount", True),
                ("amount", None),
                ("amount", 0),
                ("amount", -100),
                ("amount", [1]),
                ("currency", "kzt"),
                ("currency", 398),
                ("currency", "KZTX"),
                ("status", "held"),
                ("status", 1),
                ("created_at", "yesterday"),
                ("created_at", 1_764_406_800),
                ("created_at", "2026-11-29 09:00:00"),
                ("created_at", "2026-13-45T99:99:99Z"),
                ("purpose", "gift"),
                ("purpose", ["p2p"]),
            ]
        )
        record[field] = value
        return Bad("wrong_type", TRANSFERS, self.dumps(record), SCHEMA)

    def missing_field(self) -> Bad:
        record = self.transfer()
        del record[self.rng.choice(["transfer_id", "bank_id", "sender", "recipient", "amount",
                                    "currency", "status", "created_at"])]  # fmt: skip
        return Bad("missing_field", TRANSFERS, self.dumps(record), SCHEMA)

    def huge_number(self) -> Bad:
        record = self.transfer()
        text = self.rng.choice(
            ["1000000000000001", "1" + "0" * 30, "9" * 400, "-" + "9" * 40, "1e300", "1.7976931348623157e308"]
        )  # fmt: skip
        raw = self.dumps(record).replace(
            f'"amount":{record["amount"]}'.encode(), f'"amount":{text}'.encode()
        )
        # Beyond a double, orjson refuses the number (infinity): not parseable JSON then.
        return Bad(
            "huge_number", TRANSFERS, raw, SCHEMA | INVALID_JSON if len(text) > 300 else SCHEMA
        )

    def deep_nesting(self) -> Bad:
        choice = self.rng.randrange(4)
        if choice == 0:  # 10,000 levels of [[[...]]]: JSON, but not an object
            return Bad("deep_nesting", TRANSFERS, nested(10_000).encode(), INVALID_JSON)
        if choice == 1:  # unbalanced, 10,000 deep
            return Bad("deep_nesting", TRANSFERS, ("[" * 10_000).encode(), INVALID_JSON)
        record = self.transfer()
        field = self.rng.choice(["amount", "sender", "transfer_id", "status"])
        deep = nested(10_000) if choice == 2 else nested_object(5_000)
        raw = self.dumps({**record, field: 0}).replace(
            f'"{field}":0'.encode(), f'"{field}":{deep}'.encode()
        )
        # orjson stops at 1,024 levels (RFC 8259 lets a parser limit depth): invalid_json then.
        return Bad("deep_nesting", TRANSFERS, raw, SCHEMA | INVALID_JSON)

    def invalid_utf8(self) -> Bad:
        raw = bytearray(self.dumps(self.transfer()))
        garbage = self.rng.choice(
            [b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"\x80"]
        )
        # Inside a string value (after the first quote of transfer_id's value).
        at = raw.index(b"T-bad-") + 2
        raw[at:at] = garbage
        return Bad("invalid_utf8", TRANSFERS, bytes(raw), INVALID_JSON)

    def bad_identifier(self) -> Bad:
        record = self.transfer()
        good_iban = make_iban("601", 47_000_000 + self.n)
        good_card = make_card(300_000_000 + self.n)
        side = self.rng.choice(["sender", "recipient"])
        kind, value = self.rng.choice(
            [
                ("iban", good_iban[:-1] + str((int(good_iban[-1]) + 1) % 10)),  # mod-97 fails
                ("iban", good_iban[:10]),
                ("iban", "KZ00" + "0" * 16),
                ("iban", "XX" + good_iban[2:]),
                ("card", good_card[:-1] + str((int(good_card[-1]) + 1) % 10)),  # Luhn fails
                ("card", "4400"),
                ("card", "4400-abcd-0000-0000"),
                ("phone", "12"),
                ("phone", "+7 (701) 123-45-6"),
                ("phone", "not a phone"),
                ("phone", "+" + "9" * 20),
            ]
        )
        record[side] = {**record[side], "kind": kind, "value": value}
        return Bad("bad_identifier", TRANSFERS, self.dumps(record), IDENTIFIER)

    def oversized(self) -> Bad:
        record = {**self.transfer(), "padding": "x" * (LIMIT + self.rng.randint(1, 8_000))}
        raw = self.dumps(record)
        if self.rng.random() < 0.3:  # too large and not JSON: the size is checked first
            raw = b"\xff" * (LIMIT + 1)
        return Bad("oversized", TRANSFERS, raw, frozenset({"too_large"}))

    def non_object(self) -> Bad:
        raw = self.rng.choice(
            [b"[]", b"[{}]", b"123", b"-1", b'"transfer"', b"null", b"true", b"false", b"1.5",
             b" ", b"\t\n", b"{", b"}", b"{}}", b"{} {}", b"\xef\xbb\xbf{}", b"NaN", b"Infinity"]
        )  # fmt: skip
        return Bad("non_object", self.rng.choice([TRANSFERS, REPORTS, ACKS]), raw, INVALID_JSON)

    def null_bytes(self) -> Bad:
        choice = self.rng.randrange(3)
        if choice == 0:
            return Bad("null_bytes", TRANSFERS, b"\x00" * self.rng.randint(1, 64), INVALID_JSON)
        if choice == 1:  # a raw NUL inside a JSON string is not JSON
            raw = self.dumps(self.transfer()).replace(b"T-bad-", b"T-\x00bad-")
            return Bad("null_bytes", TRANSFERS, raw, INVALID_JSON)
        record = {**self.transfer(), "bank_id": "CASP\x00KZA"}  # escaped NUL: fails the pattern
        return Bad("null_bytes", TRANSFERS, self.dumps(record), SCHEMA)

    def duplicate_keys(self) -> Bad:
        # The last duplicate wins (as in most JSON parsers); here the last one is bad.
        raw = self.dumps(self.transfer())[:-1]
        tail = self.rng.choice(
            [b',"amount":"lots"}', b',"status":"exploded"}', b',"currency":"kzt"}', b',"sender":null}']
        )  # fmt: skip
        return Bad("duplicate_keys", TRANSFERS, raw + tail, SCHEMA)

    def empty(self) -> Bad:
        return Bad("empty", self.rng.choice([TRANSFERS, REPORTS]), self.rng.choice([None, b""]), INVALID_JSON)  # fmt: skip

    def bad_report(self) -> Bad:
        n = self.serial + self.n
        phone = identifier("phone", make_phone(5_000_000 + n % 1_000_000), HALYK)
        body = report(f"R-bad-{n}", [phone], self.now)
        choice = self.rng.randrange(6)
        if choice == 0:  # unsigned
            return Bad("bad_report", REPORTS, self.dumps(body), frozenset({"bad_signature"}))
        if choice == 1:  # a key nobody issued
            signed = sign_report(body, "rogue", b"guess")
            return Bad("bad_report", REPORTS, self.dumps(signed), frozenset({"bad_signature"}))
        if choice == 2:  # signed, then tampered with
            signed = sign_report(body, "test-1", REPORT_KEYS["test-1"])
            signed["fraud_type"] = "other" if body["fraud_type"] != "other" else "fake_investment"
            return Bad("bad_report", REPORTS, self.dumps(signed), frozenset({"bad_signature"}))
        if choice == 3:  # signed, but 51 accounts
            many = [identifier("phone", make_phone(5_500_000 + i)) for i in range(51)]
            signed = sign_report(
                report(f"R-bad-{n}", many, self.now), "test-1", REPORT_KEYS["test-1"]
            )
            return Bad("bad_report", REPORTS, self.dumps(signed), SCHEMA)
        if choice == 4:  # signed, with an account that fails its check
            iban = make_iban("601", 48_000_000 + n % 1_000_000)
            wrong = identifier("iban", iban[:-1] + str((int(iban[-1]) + 1) % 10))
            signed = sign_report(
                report(f"R-bad-{n}", [wrong], self.now), "test-1", REPORT_KEYS["test-1"]
            )
            return Bad("bad_report", REPORTS, self.dumps(signed), IDENTIFIER)
        body["action"] = "delete"  # signed, unknown action
        signed = sign_report(body, "test-2", REPORT_KEYS["test-2"])
        return Bad("bad_report", REPORTS, self.dumps(signed), SCHEMA)

    def bad_ack(self) -> Bad:
        ack = {
            "command_id": f"{self.serial + self.n:032x}",
            "bank_id": HALYK,
            "status": "applied",
            "amount_held": 100,
            "at": "2026-11-29T09:05:02Z",
        }
        if self.rng.random() < 0.5:  # well formed, but for a command never issued
            return Bad("bad_ack", ACKS, self.dumps(ack), frozenset({"unknown_command"}))
        field, value = self.rng.choice(
            [("status", "done"), ("amount_held", -1), ("command_id", ""), ("at", "now"), ("bank_id", None)]
        )  # fmt: skip
        return Bad("bad_ack", ACKS, self.dumps({**ack, field: value}), SCHEMA)


def extras(rng: random.Random) -> dict[str, Any]:
    """Unknown extra fields a bank might add: the contract says they are ignored."""
    return rng.choice(
        [
            {"channel": "mobile"},
            {"x_bank_ref": rng.randint(1, 10**12), "x_flags": [True, None, 1.5]},
            {"meta": {"device": {"os": "android", "id": "ab12"}, "geo": [43.2, 76.9]}},
            {"note": "Оплата за услуги — ДОГОВОР №17 🚗", "x": None},
            {"x_deep": orjson.loads(nested(200))},
            {"fraud_score": "high", "transfer_id_hint": 12},
        ]
    )


def payload_bytes(letter: dict[str, Any]) -> bytes:
    if letter["payload_encoding"] == "base64":
        return base64.b64decode(letter["payload"])
    return str(letter["payload"]).encode()


def keeps_payload(letter: dict[str, Any], sent: bytes | None) -> bool:
    """The dead letter holds the record's bytes, or (contract: "Dead letters always fit") its
    first 64 KiB with the whole record's size and SHA-256."""
    raw = sent or b""
    kept = payload_bytes(letter)
    if not letter.get("payload_truncated"):
        return kept == raw
    return (
        0 < len(kept) <= KEPT
        and raw.startswith(kept)
        and letter.get("payload_bytes") == len(raw)
        and letter.get("payload_sha256") == hashlib.sha256(raw).hexdigest()
    )


def test_ten_thousand_hostile_records_are_dead_lettered_and_valid_ones_processed(
    worker: WorkerProcess, bus: Bus, broker: Broker, serial: int
) -> None:
    assert worker.process is not None
    pid = worker.process.pid
    rng = random.Random(serial)
    now = time.time()
    hostile = Hostile(seed=1_000_003 + serial, serial=serial, now=now)
    reader = TopicLog(
        broker.bootstrap, [DEAD, COMMANDS], keep=False, max_partition_fetch_bytes=8 * 1024 * 1024
    )

    # Reported accounts: signed reports, one of them with unknown extra fields of its own.
    phones = [make_phone(6_500_000 + serial + k) for k in range(REPORTED)]
    for k, phone in enumerate(phones):
        body = report(f"R-hostile-{serial}-{k}", [identifier("phone", phone, HALYK)], now)
        if k == 0:
            body["x_police_note"] = {"ticket": "INC-1", "tags": ["urgent", "ru:срочно"]}
        signed = sign_report(body, "test-1", REPORT_KEYS["test-1"])
        bus.send(REPORTS, signed, key=signed["report_id"])

    bad: dict[str, Bad] = {}
    valid: set[str] = set()
    with_extras = 0
    per_valid = BAD_RECORDS // VALID_TRANSFERS
    for i in range(BAD_RECORDS):
        record = hostile.next()
        key = f"hostile-{serial}-{i:05d}"
        bad[key] = record
        bus.producer.send(record.topic, key=key.encode(), value=record.value)
        if i % per_valid == 0 and len(valid) < VALID_TRANSFERS:
            j = len(valid)
            good = transfer(
                f"T-hostile-{serial}-{j:04d}",
                CASPI,
                identifier("iban", make_iban("722", 45_000_000 + serial + j)),
                identifier("phone", phones[j % REPORTED], HALYK),
                rng.randint(1_000, 500_000) * 100,
                now - rng.uniform(0, 600),
                purpose=rng.choice(["p2p", "purchase", "other"]),
            )
            if rng.random() < 0.3:
                good.update(extras(rng))
                with_extras += 1
            valid.add(good["transfer_id"])
            bus.send(TRANSFERS, good, key=good["transfer_id"])
    bus.flush()
    assert len(valid) == VALID_TRANSFERS and with_extras > 0

    letters: dict[str, list[dict[str, Any]]] = {}
    holds: dict[tuple[str, str], set[str]] = {}
    freezes: set[str] = set()
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        for message in reader.poll(timeout_ms=500):
            value = orjson.loads(message.value)
            if message.topic == DEAD:
                key = value["source"]["key"]
                if key in bad or key in valid:
                    letters.setdefault(key, []).append(value)
            elif value["account"]["value"] in phones:
                if value["type"] == "hold_transfer":
                    ref = (value["bank_id"], value["transfer"]["transfer_id"])
                    holds.setdefault(ref, set()).add(value["command_id"])
                elif value["type"] == "freeze_account":
                    freezes.add(value["command_id"])
        if bad.keys() <= letters.keys() and len(holds) >= 2 * VALID_TRANSFERS:
            break
    reader.close()

    codes = Counter(letter["error"]["code"] for ls in letters.values() for letter in ls)
    categories = Counter(b.category for b in bad.values())
    print(
        f"\n[hostile] lane={broker.lane} bad={len(bad)} valid={len(valid)} "
        f"(with unknown fields: {with_extras}) dead_lettered={len(letters)} codes={dict(codes)} "
        f"holds={len(holds)} freezes={len(freezes)} categories={dict(categories)}"
    )

    missing = sorted(set(bad) - set(letters))
    assert not missing, (
        f"{len(missing)} bad records never dead-lettered, e.g. "
        f"{[(k, bad[k].category, (bad[k].value or b'')[:80]) for k in missing[:5]]}"
    )
    valid_lettered = sorted(set(valid) & set(letters))
    assert not valid_lettered, [(k, letters[k][0]["error"]) for k in valid_lettered[:5]]
    wrong = [
        (key, bad[key].category, letter["error"], (bad[key].value or b"")[:120])
        for key, ls in letters.items()
        for letter in ls
        if letter["error"]["code"] not in bad[key].codes
    ]
    assert not wrong, f"{len(wrong)} dead letters with an unexpected code, e.g. {wrong[:5]}"
    altered = [key for key, ls in letters.items() if not keeps_payload(ls[0], bad[key].value)]
    assert not altered, f"dead-letter payloads differ from the records sent: {altered[:5]}"
    assert {letter["source"]["topic"] for ls in letters.values() for letter in ls} <= {
        TRANSFERS,
        REPORTS,
        ACKS,
    }
    # Every valid transfer was processed: both banks hold it, under one command id each.
    expected = {(bank, t) for t in valid for bank in (HALYK, CASPI)}
    assert set(holds) == expected, f"{len(expected - set(holds))} holds missing"
    assert all(len(ids) == 1 for ids in holds.values())
    assert len(freezes) == REPORTED
    # The worker took all of it without a restart.
    assert worker.alive() and worker.process is not None and worker.process.pid == pid
    assert worker.health() == 200
