"""The bench's data set: reports naming the fraud accounts, and transfers of which a given
fraction pays one of them, with the hold commands the platform owes for each."""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from antifraud.core.intake import parse_report
from antifraud.harness.simulation import (
    ACCOUNT_KINDS,
    BANKS,
    make_account,
    messy_iban,
    messy_phone,
    report,
    transfer,
)
from antifraud.streams.app import settings

CUSTOMERS = 50_000  # innocent accounts the non-matching transfers move between
ACCOUNTS_PER_REPORT = 50  # the contract's maximum


@dataclass
class Dataset:
    """The records of one run and what the platform must do with them."""

    tag: str
    reports: list[tuple[bytes, bytes]] = field(default_factory=list)
    transfers: list[tuple[bytes, bytes]] = field(default_factory=list)
    watched: dict[str, str] = field(default_factory=dict)  # identifier key -> its bank
    expected_holds: int = 0
    hits: int = 0

    @property
    def record_bytes(self) -> float:
        return sum(len(v) for _, v in self.transfers) / max(1, len(self.transfers))


def reported_accounts(count: int) -> list[dict[str, str]]:
    """The fraud accounts police report: a mix of IBANs, cards and phones, each with its bank."""
    codes = list(BANKS)
    accounts = []
    for i in range(count):
        code = codes[i % len(codes)]
        kind = ACCOUNT_KINDS[i % 4]
        accounts.append(make_account(kind, code, i, bases=(7_000_000_000, 5_000_000, 600_000_000)))
    return accounts


def as_written(account: dict[str, str]) -> dict[str, str]:
    """How a police officer types it: `8 701 ...`, lower-case IBANs in groups of four."""
    if account["kind"] == "phone":
        return {**account, "value": messy_phone(account["value"])}
    if account["kind"] == "iban":
        return {**account, "value": messy_iban(account["value"])}
    return account


def customers(count: int, rng: random.Random) -> list[dict[str, str]]:
    codes = list(BANKS)
    out = []
    for i in range(count):
        code = rng.choice(codes)
        kind = rng.choice(ACCOUNT_KINDS)
        out.append(make_account(kind, code, i))
    return out


def report_records(
    tag: str, accounts: list[dict[str, str]], now: float
) -> list[tuple[bytes, bytes]]:
    """Reports naming `accounts`, 50 a report; signed when the platform is configured with keys."""
    records = []
    keys = settings.report_keys or None
    for start in range(0, len(accounts), ACCOUNTS_PER_REPORT):
        report_id = f"R-{tag}-{start // ACCOUNTS_PER_REPORT:05d}"
        chunk = [as_written(a) for a in accounts[start : start + ACCOUNTS_PER_REPORT]]
        body = report(report_id, chunk, now - 60.0, "bank_impersonation", keys)
        records.append((report_id.encode(), orjson.dumps(body)))
    return records


def watch_list(reports: Sequence[tuple[bytes, bytes]]) -> dict[str, str]:
    """What the baseline looks recipients up in: normalised identifier key -> bank."""
    watched: dict[str, str] = {}
    for _, raw in reports:
        parsed = parse_report(raw, settings.report_keys, settings.bank_directory, now=time.time())
        for account in parsed.accounts:
            watched[account.identifier.key] = account.bank_id or ""
    return watched


class TransferMaker:
    """Transfers between customers; a given fraction pays a reported account instead."""

    def __init__(self, accounts: list[dict[str, str]], seed: int = 11) -> None:
        self.rng = random.Random(seed)
        self.customers = customers(CUSTOMERS, self.rng)
        self.accounts = accounts
        self.banks = list(BANKS.values())

    def make(self, transfer_id: str, hit: bool, now: float) -> tuple[dict[str, Any], int]:
        """One transfer record and how many hold commands it must cause (0, 1 or 2)."""
        rng = self.rng
        sender = rng.choice(self.customers)
        if hit:
            recipient = rng.choice(self.accounts)
            purpose = rng.choice(("p2p", "purchase"))
        else:
            recipient = rng.choice(self.customers)
            purpose = rng.choices(("p2p", "purchase", "salary", "other"), (50, 35, 10, 5))[0]
        record = transfer(
            transfer_id,
            sender["bank_id"],
            {"kind": sender["kind"], "value": sender["value"]},
            recipient,
            rng.randint(1_000, 500_000) * 100,
            now - rng.uniform(0, 5),
            purpose=purpose,
        )
        # What a bank's core system adds; unknown fields are ignored by the contract.
        record["channel"] = rng.choice(("mobile_app", "internet_bank", "branch"))
        record["device_id"] = f"{rng.getrandbits(64):016x}"
        holds = 0
        if hit:
            holds = 1 if sender["bank_id"] == recipient["bank_id"] else 2
        return record, holds


def hit_indices(count: int, fraction: float, rng: random.Random) -> set[int]:
    return set(rng.sample(range(count), round(count * fraction)))


def build_dataset(events: int, reported: int, hit_fraction: float, tag: str) -> Dataset:
    now = time.time()
    accounts = reported_accounts(reported)
    data = Dataset(tag=tag, reports=report_records(tag, accounts, now))
    data.watched = watch_list(data.reports)
    maker = TransferMaker(accounts)
    hits = hit_indices(events, hit_fraction, maker.rng)
    for i in range(events):
        transfer_id = f"T-{tag}-{i:09d}"
        record, holds = maker.make(transfer_id, i in hits, now)
        data.transfers.append((transfer_id.encode(), orjson.dumps(record)))
        data.expected_holds += holds
    data.hits = len(hits)
    return data
