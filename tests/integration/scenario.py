"""A big seeded scenario whose complete set of expected commands is known by construction.

The fault tests push it through a worker while brokers and workers die, then compare what
came out on `antifraud.bank-commands` with what the contract promises. The expected set is
computed here, independently of the worker, by building the traffic so that the answer is
easy to state:

- `reported` accounts (phones, IBANs, cards; each held at one known bank) are named by
  signed police reports, one to three accounts per report. A report names every account's
  bank, or for an IBAN leaves it to the bank directory (the IBAN's bank code).
- Each reported account receives a few `initiated` p2p/purchase transfers from innocent
  senders at *another* bank, so each such transfer must give exactly two holds (recipient
  bank and sending bank). Each reported account must get exactly one freeze at its bank.
- Reported accounts never send money, so nothing is followed; there are no revocations.
- Everything else is innocent traffic between accounts that are never reported, with
  carve-out purposes, settled and cancelled statuses, and status updates sent again.
- Some reports are published before their account's transfers, some after them, so both
  the forward match and the look-back are exercised. A few transfers and reports are
  published twice (a bank or police system re-sending), which must change nothing.

An expected command is the tuple `(type, bank_id, account value, transfer_id or None)`.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import orjson

from antifraud.harness.simulation import (
    ACCOUNT_KINDS,
    BANKS,
    BICS,
    identifier,
    make_account,
    make_card,
    make_iban,
    make_phone,
    messy_iban,
    messy_phone,
    report,
    transfer,
)

TRANSFERS = "antifraud.transfers"
REPORTS = "antifraud.reports"
COMMANDS = "antifraud.bank-commands"
DEAD_LETTER = "antifraud.dead-letter"

Expected = tuple[str, str, str, str | None]  # (type, bank_id, account value, transfer_id)


@dataclass(frozen=True, slots=True)
class Record:
    topic: str
    key: bytes
    value: bytes


@dataclass
class Scenario:
    records: list[Record] = field(default_factory=list)
    expected: set[Expected] = field(default_factory=set)
    transfers: int = 0  # transfer records published (re-sends included)
    reports: int = 0  # report records published (re-sends included)
    reported_accounts: int = 0
    reports_first: int = 0  # reports published before their accounts' transfers
    reports_last: int = 0  # reports published after them

    def describe(self) -> dict[str, int]:
        kinds = Counter(e[0] for e in self.expected)
        return {
            "records": len(self.records),
            "transfers": self.transfers,
            "reports": self.reports,
            "reported_accounts": self.reported_accounts,
            "reports_first": self.reports_first,
            "reports_last": self.reports_last,
            "expected_commands": len(self.expected),
            "expected_holds": kinds["hold_transfer"],
            "expected_freezes": kinds["freeze_account"],
        }


def _strip_bank(account: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in account.items() if k != "bank_id"}


def build(
    seed: int,
    keys: dict[str, bytes],
    transfers: int = 50_000,
    reports: int = 500,
    now: float | None = None,
    tag: str = "F",
) -> Scenario:
    """`transfers` transfer records and `reports` report records, in publication order."""
    rng = random.Random(seed)
    now = time.time() if now is None else now
    codes = list(BANKS)
    scenario = Scenario()

    # Innocent customers: never reported, never paid by a reported account.
    innocents: list[dict[str, str]] = []
    for i in range(4_000):
        code = rng.choice(codes)
        kind = rng.choice(ACCOUNT_KINDS)
        innocents.append(make_account(kind, code, i, bases=(20_000_000, 2_000_000, 200_000_000)))

    # Reports and the accounts they name (serial ranges disjoint from the innocents').
    cases: list[tuple[str, list[dict[str, str]], list[dict[str, str]]]] = []
    account_serial = 0
    for r in range(reports):
        accounts: list[dict[str, str]] = []  # canonical, with bank
        named: list[dict[str, str]] = []  # as the police write them
        for _ in range(rng.choices([1, 2, 3], weights=[80, 15, 5])[0]):
            account_serial += 1
            code = rng.choice(codes)
            bic = BANKS[code]
            kind = rng.choice(["phone", "iban", "card"])
            if kind == "phone":
                value = make_phone(6_000_000 + account_serial)
                shown = messy_phone(value) if rng.random() < 0.5 else value
                named.append(identifier("phone", shown, bic))
            elif kind == "iban":
                value = make_iban(code, 60_000_000 + account_serial)
                shown = messy_iban(value) if rng.random() < 0.5 else value
                # Half name the bank, half leave it to the bank directory.
                named.append(identifier("iban", shown, bic if rng.random() < 0.5 else None))
            else:
                value = make_card(600_000_000 + account_serial, prefix="400000")
                named.append(identifier("card", value, bic))
            accounts.append(identifier(kind, value, bic))
        cases.append((f"R-{tag}-{r:06d}", accounts, named))
    scenario.reported_accounts = account_serial

    # Transfers to reported accounts, from innocents at another bank.
    fraud: list[tuple[int, dict[str, Any]]] = []  # (case index, transfer)
    serial = 0

    def next_id() -> str:
        nonlocal serial
        serial += 1
        return f"T-{tag}-{serial:08d}"

    elsewhere = {bic: [c for c in innocents if c["bank_id"] != bic] for bic in BICS}
    for index, (_, accounts, _) in enumerate(cases):
        for account in accounts:
            for _ in range(rng.randint(2, 6)):
                payer = rng.choice(elsewhere[account["bank_id"]])
                record = transfer(
                    next_id(),
                    payer["bank_id"],
                    _strip_bank(payer),
                    account,
                    rng.randint(10_000, 3_000_000) * 100,
                    now - rng.uniform(60, 600),
                    purpose=rng.choice(["p2p", "p2p", "purchase", "other"]),
                )
                fraud.append((index, record))
                scenario.expected.add(
                    ("hold_transfer", account["bank_id"], account["value"], record["transfer_id"])
                )
                scenario.expected.add(
                    ("hold_transfer", payer["bank_id"], account["value"], record["transfer_id"])
                )
            scenario.expected.add(("freeze_account", account["bank_id"], account["value"], None))

    # Innocent traffic fills the rest; some of it is sent again with a new status.
    stream: list[tuple[str, dict[str, Any]]] = []
    resends = transfers // 100
    retried = set(rng.sample(range(len(fraud)), len(fraud) // 50))
    innocent_count = transfers - len(fraud) - resends - len(retried)
    for _ in range(innocent_count):
        payer, payee = rng.sample(innocents, 2)
        status = rng.choices(["initiated", "settled", "cancelled"], weights=[85, 12, 3])[0]
        purpose = rng.choices(
            ["p2p", "purchase", "salary", "pension", "social_benefit", "other"],
            weights=[50, 30, 10, 4, 3, 3],
        )[0]
        stream.append(
            (
                "transfer",
                transfer(
                    next_id(),
                    payer["bank_id"],
                    _strip_bank(payer),
                    payee,
                    rng.randint(1_000, 500_000) * 100,
                    now - rng.uniform(0, 3600),
                    status=status,
                    purpose=purpose,
                ),
            )
        )
    for _, record in rng.sample(stream, resends):
        if record["status"] == "initiated":
            stream.append(("transfer", {**record, "status": rng.choice(["settled", "cancelled"])}))
        else:
            stream.append(("transfer", record))
    rng.shuffle(stream)

    # Fraud transfers at random places; each report before or after all of its transfers.
    # A transfer re-sent unchanged (a bank retrying) goes right after the original.
    positions = sorted(rng.sample(range(len(stream) + 1), len(fraud)))
    placed: list[tuple[int, int, str, dict[str, Any]]] = []  # (position, order, kind, record)
    order = 0
    by_case: dict[int, list[int]] = {}
    for n, ((index, record), position) in enumerate(zip(fraud, positions, strict=True)):
        by_case.setdefault(index, []).append(position)
        placed.append((position, order := order + 1, "transfer", record))
        if n in retried:
            placed.append((position, order := order + 1, "transfer", record))
    for index, (report_id, _, named) in enumerate(cases):
        signed = report(
            report_id,
            named,
            now - rng.uniform(0, 60),
            rng.choice(["bank_impersonation", "fake_online_store", "fake_investment"]),
            keys,
        )
        spots = by_case[index]
        if rng.random() < 0.5:
            position, rank = min(spots), -1
            scenario.reports_first += 1
        else:
            position, rank = max(spots), 1
            scenario.reports_last += 1
        placed.append((position, rank * 10**9 + index, "report", signed))
        if rng.random() < 0.02:
            placed.append((position, rank * 10**9 + index, "report", signed))
    placed.sort(key=lambda p: (p[0], p[1]))

    # Merge: stream[i] goes after everything placed at positions <= i.
    merged: list[tuple[str, dict[str, Any]]] = []
    cursor = 0
    for i, item in enumerate(stream):
        while cursor < len(placed) and placed[cursor][0] <= i:
            merged.append((placed[cursor][2], placed[cursor][3]))
            cursor += 1
        merged.append(item)
    merged.extend((kind, record) for _, _, kind, record in placed[cursor:])

    for kind, record in merged:
        if kind == "transfer":
            scenario.records.append(
                Record(TRANSFERS, record["transfer_id"].encode(), orjson.dumps(record))
            )
            scenario.transfers += 1
        else:
            scenario.records.append(
                Record(REPORTS, record["report_id"].encode(), orjson.dumps(record))
            )
            scenario.reports += 1
    return scenario


def command_tuple(command: dict[str, Any]) -> Expected:
    transfer_ref = command.get("transfer")
    return (
        command["type"],
        command["bank_id"],
        command["account"]["value"],
        transfer_ref["transfer_id"] if transfer_ref else None,
    )


@dataclass
class Tally:
    """What came out on the command topic, held against the expected set."""

    expected: set[Expected]
    records: int = 0
    ids_by_tuple: dict[Expected, set[str]] = field(default_factory=dict)
    tuple_by_id: dict[str, Expected] = field(default_factory=dict)

    def add(self, command: dict[str, Any]) -> None:
        self.records += 1
        key = command_tuple(command)
        self.ids_by_tuple.setdefault(key, set()).add(command["command_id"])
        self.tuple_by_id[command["command_id"]] = key

    @property
    def distinct(self) -> int:
        return len(self.tuple_by_id)

    @property
    def duplicates(self) -> int:
        """Records whose command id had been seen already (a redelivery, same id)."""
        return self.records - self.distinct

    @property
    def missing(self) -> set[Expected]:
        return self.expected - self.ids_by_tuple.keys()

    @property
    def unexpected(self) -> dict[str, Expected]:
        return {cid: t for cid, t in self.tuple_by_id.items() if t not in self.expected}

    @property
    def split(self) -> dict[Expected, set[str]]:
        """Expected actions commanded under more than one id: a bank would act twice."""
        return {t: ids for t, ids in self.ids_by_tuple.items() if len(ids) > 1}

    def complete(self) -> bool:
        return not self.missing

    def figures(self) -> dict[str, int]:
        return {
            "expected": len(self.expected),
            "issued_records": self.records,
            "issued_distinct": self.distinct,
            "duplicates": self.duplicates,
            "missing": len(self.missing),
            "unexpected": len(self.unexpected),
            "split_ids": len(self.split),
        }
