"""Simulated banks and police: valid identifiers, transfers, reports and the three fraud schemes.

Used by `antifraud demo`, `antifraud simulate`, the benchmark and the tests. Records
are built exactly as the contract shows them, so they exercise the real intake.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from core.identifiers import luhn_ok
from core.signatures import sign_report
from core.timestamps import format_rfc3339

# Bank code (as in the shipped bank directory) -> BIC, for the simulated banks.
BANKS = {
    "722": "CASPKZKA",
    "601": "HSBKKZKX",
    "965": "IRTYKZKA",
    "998": "TSESKZKA",
    "826": "KCJBKZKX",
}
BICS = list(BANKS.values())

SCHEMES = {
    "bank_impersonation": "callers posing as bank security staff talk victims into 'safe accounts'",
    "fake_online_store": "a shop that takes payment for goods that never ship",
    "fake_investment": "an 'investment project' that pays early investors from later ones",
}


def make_iban(bank_code: str, account_number: int) -> str:
    """A KZ IBAN that passes mod-97: KZkk + 3-digit bank code + 13 account characters."""
    bban = f"{bank_code}{account_number:013d}"
    numeric = "".join(str(int(ch, 36)) for ch in bban + "KZ00")
    check = 98 - int(numeric) % 97
    return f"KZ{check:02d}{bban}"


def make_card(serial: int, prefix: str = "440043") -> str:
    body = f"{prefix}{serial:09d}"
    for digit in "0123456789":
        if luhn_ok(body + digit):
            return body + digit
    raise AssertionError("unreachable: one check digit always fits")


def make_phone(serial: int) -> str:
    return f"+7701{serial % 10_000_000:07d}"


def messy_phone(e164: str) -> str:
    """`+77011234567` as a person would write it: `8 701 123 45 67`."""
    national = e164[2:]
    return f"8 {national[:3]} {national[3:6]} {national[6:8]} {national[8:]}"


def messy_iban(iban: str) -> str:
    """`KZ86125KZT5004100100` as printed on a statement: lower case, groups of four."""
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4)).lower()


def identifier(kind: str, value: str, bank_id: str | None = None) -> dict[str, str]:
    out = {"kind": kind, "value": value}
    if bank_id:
        out["bank_id"] = bank_id
    return out


def transfer(
    transfer_id: str,
    bank_id: str,
    sender: dict[str, str],
    recipient: dict[str, str],
    amount: int,
    created_at: float,
    status: str = "initiated",
    purpose: str = "p2p",
    currency: str = "KZT",
) -> dict[str, Any]:
    return {
        "transfer_id": transfer_id,
        "bank_id": bank_id,
        "sender": sender,
        "recipient": recipient,
        "amount": amount,
        "currency": currency,
        "status": status,
        "created_at": format_rfc3339(created_at),
        "purpose": purpose,
    }


def report(
    report_id: str,
    accounts: list[dict[str, str]],
    reported_at: float,
    fraud_type: str = "bank_impersonation",
    keys: dict[str, bytes] | None = None,
    action: str = "report",
    issuer: str = "ALM-PD-CYBER",
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "report_id": report_id,
        "case_number": f"2610001{abs(hash(report_id)) % 10**8:08d}",
        "action": action,
        "fraud_type": fraud_type,
        "reported_at": format_rfc3339(reported_at),
        "issuer": issuer,
    }
    if accounts:
        body["accounts"] = accounts
    if keys:
        key_id, secret = next(iter(keys.items()))
        body = sign_report(body, key_id, secret)
    return body


def revocation(
    report_id: str, revoked_at: float, keys: dict[str, bytes] | None = None
) -> dict[str, Any]:
    return report(report_id, [], revoked_at, keys=keys, action="revoke")


@dataclass
class Scenario:
    """Timed records: ("transfer" | "report", record). `fraud` lists the fraudsters' accounts."""

    records: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    fraud_accounts: dict[str, str] = field(default_factory=dict)  # normalised value -> scheme


class Simulator:
    """Innocent traffic between customers, with the three schemes of the seed story mixed in."""

    def __init__(self, seed: int = 7, customers: int = 2_000, keys: dict[str, bytes] | None = None):
        self.rng = random.Random(seed)
        self.keys = keys
        self.customers = [self._customer(i) for i in range(customers)]
        self._transfer_serial = 0
        self._report_serial = 0

    def _customer(self, serial: int) -> dict[str, str]:
        bank_code = self.rng.choice(list(BANKS))
        bic = BANKS[bank_code]
        kind = self.rng.choice(["iban", "iban", "phone", "card"])
        if kind == "iban":
            value = make_iban(bank_code, 10_000_000 + serial)
        elif kind == "phone":
            value = make_phone(1_000_000 + serial)
        else:
            value = make_card(100_000 + serial)
        return identifier(kind, value, bic)

    def _next_transfer_id(self) -> str:
        self._transfer_serial += 1
        return f"T-{self._transfer_serial:09d}"

    def innocent_transfer(self, now: float) -> dict[str, Any]:
        sender, recipient = self.rng.sample(self.customers, 2)
        purpose = self.rng.choices(
            ["p2p", "purchase", "salary", "pension", "other"], weights=[50, 35, 8, 4, 3]
        )[0]
        return transfer(
            self._next_transfer_id(),
            sender["bank_id"],
            {k: v for k, v in sender.items() if k != "bank_id"},
            recipient,
            self.rng.randint(1_000, 50_000) * 100,
            now - self.rng.uniform(0, 30),
            purpose=purpose,
        )

    def fraud_case(self, scheme: str, now: float) -> Scenario:
        """Victims pay a fraud account; part of the money moves on to a mule; police report it."""
        scenario = Scenario()
        bank_code = self.rng.choice(list(BANKS))
        self._report_serial += 1
        serial = 900_000 + self._report_serial
        if scheme == "bank_impersonation":
            fraud = identifier("phone", make_phone(8_000_000 + serial), BANKS[bank_code])
            reported = identifier("phone", messy_phone(fraud["value"]))
        elif scheme == "fake_online_store":
            fraud = identifier("card", make_card(800_000 + serial), BANKS[bank_code])
            reported = identifier("card", fraud["value"], BANKS[bank_code])
        else:
            fraud = identifier("iban", make_iban(bank_code, 90_000_000 + serial), BANKS[bank_code])
            reported = identifier("iban", messy_iban(fraud["value"]))
        mule_code = self.rng.choice(list(BANKS))
        mule = identifier("iban", make_iban(mule_code, 80_000_000 + serial), BANKS[mule_code])
        scenario.fraud_accounts[fraud["value"]] = scheme
        victims = self.rng.sample(self.customers, 3)
        for minutes_ago, victim in zip((50, 20, 1), victims, strict=True):
            scenario.records.append(
                (
                    "transfer",
                    transfer(
                        self._next_transfer_id(),
                        victim["bank_id"],
                        {k: v for k, v in victim.items() if k != "bank_id"},
                        fraud,
                        self.rng.randint(100_000, 2_000_000) * 100,
                        now - minutes_ago * 60,
                    ),
                )
            )
        # The fraudster moves money on to a mule before the report arrives.
        scenario.records.append(
            (
                "transfer",
                transfer(
                    self._next_transfer_id(),
                    fraud["bank_id"],
                    {k: v for k, v in fraud.items() if k != "bank_id"},
                    mule,
                    self.rng.randint(50_000, 500_000) * 100,
                    now - 5 * 60,
                ),
            )
        )
        scenario.records.append(
            (
                "report",
                report(f"R-2026-{self._report_serial:06d}", [reported], now, scheme, self.keys),
            )
        )
        return scenario

    def stream(
        self, now: float, innocent_per_case: int = 40
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        """Endless traffic: innocent transfers with a fraud case from each scheme in turn."""
        schemes = list(SCHEMES)
        index = 0
        while True:
            for _ in range(innocent_per_case):
                yield "transfer", self.innocent_transfer(now)
            yield from self.fraud_case(schemes[index % len(schemes)], now).records
            index += 1
