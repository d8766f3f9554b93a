"""Simulated banks and police: valid identifiers, transfers, reports and the three fraud schemes.

Used by `antifraud demo`, `antifraud simulate`, the benchmark and the tests. Records
are built exactly as the contract shows them, so they exercise the real intake.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from antifraud.core.identifiers import luhn_ok
from antifraud.core.signatures import sign_report
from antifraud.core.timestamps import format_rfc3339

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


# The mix of accounts simulated customers hold: half IBANs, a quarter phones, a quarter cards.
ACCOUNT_KINDS = ("iban", "iban", "phone", "card")


# Serial offsets (IBAN, phone, card) of the simulated customers' accounts.
CUSTOMER_BASES = (10_000_000, 1_000_000, 100_000)


def make_account(
    kind: str, bank_code: str, serial: int, bases: tuple[int, int, int] = CUSTOMER_BASES
) -> dict[str, str]:
    """Account number `serial` of `kind` at the bank with `bank_code`, as a contract identifier.

    `bases` (IBAN, phone, card) shift the serial so that callers drawing disjoint sets of
    accounts (innocent customers, reported ones) never meet.
    """
    iban_base, phone_base, card_base = bases
    if kind == "iban":
        value = make_iban(bank_code, iban_base + serial)
    elif kind == "phone":
        value = make_phone(phone_base + serial)
    else:
        value = make_card(card_base + serial)
    return identifier(kind, value, BANKS[bank_code])


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
    victims: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "report_id": report_id,
        "case_number": f"2610001{zlib.crc32(report_id.encode()) % 10**8:08d}",
        "action": action,
        "fraud_type": fraud_type,
        "reported_at": format_rfc3339(reported_at),
        "issuer": issuer,
    }
    if accounts:
        body["accounts"] = accounts
    if victims:
        body["victims"] = victims
    return signed(body, keys)


def signed(body: dict[str, Any], keys: dict[str, bytes] | None) -> dict[str, Any]:
    """`body` signed with the first of `keys` (every police record the same way), or as is."""
    if not keys:
        return body
    key_id, secret = next(iter(keys.items()))
    return sign_report(body, key_id, secret)


def victim(account: dict[str, str], amount_lost: int) -> dict[str, Any]:
    """A report's victim: who lost what (`account` with its `bank_id`), the beneficiary of
    returns from frozen accounts."""
    return {"account": account, "amount_lost": amount_lost, "currency": "KZT"}


def sanction(report_id: str, issued_at: float) -> dict[str, str]:
    """A prosecutor's sanction for an order on `report_id` (its reference derived from it)."""
    return {
        "authority": "Almaty city prosecutor",
        "reference": f"SK-{zlib.crc32(report_id.encode()) % 10**6:06d}",
        "issued_at": format_rfc3339(issued_at),
    }


def order(
    report_id: str,
    action: str,
    at: float,
    keys: dict[str, bytes] | None = None,
    until: float | None = None,
    issuer: str = "ALM-PD-CYBER",
    sanctioned: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A sanctioned `extend` (until `until`) or `return` of report `report_id`, issued at `at`
    by the unit that filed the report, signed like every police record. Its sanction is
    `sanctioned`, or one derived from the report id."""
    body: dict[str, Any] = {
        "report_id": report_id,
        "action": action,
        "sanction": sanctioned or sanction(report_id, at - 60.0),
        "reported_at": format_rfc3339(at),
        "issuer": issuer,
    }
    if until is not None:
        body["until"] = format_rfc3339(until)
    return signed(body, keys)


def revocation(
    report_id: str, revoked_at: float, keys: dict[str, bytes] | None = None
) -> dict[str, Any]:
    return report(report_id, [], revoked_at, keys=keys, action="revoke")


# When the police follow a report up, in seconds after its case starts (the report: 1 s, the
# last transfers: 4 s). A return comes once the banks' acks of the case's holds can be in
# (each 0.3-2.5 s after its command): the platform returns only money a bank said it holds.
EXTEND_AT = 6.0
REVOKE_AT = 8.0
RETURN_AT = 10.0


@dataclass(frozen=True)
class Step:
    """One record of a scenario, due `delay` seconds after the scenario starts."""

    delay: float
    kind: str  # "transfer" | "report"
    record: dict[str, Any]


@dataclass
class Scenario:
    """One fraud case as timed records, and what the contract promises to command for it.

    `expected_holds` lists `(bank that must hold, sending bank, transfer_id)`;
    `expected_freezes` lists `(bank, normalised account value)`. A revoked case
    must instead end with every command it caused released; a case whose return was
    ordered (`return_ordered`) must get at least one `return_funds`.
    """

    scheme: str = ""
    report_id: str = ""
    account: dict[str, str] = field(default_factory=dict)  # the fraud account, normalised
    steps: list[Step] = field(default_factory=list)
    fraud_accounts: dict[str, str] = field(default_factory=dict)  # normalised value -> scheme
    expected_holds: set[tuple[str, str, str]] = field(default_factory=set)
    expected_freezes: set[tuple[str, str]] = field(default_factory=set)
    victims_paid: int = 0  # minor units the victims sent to the fraud account
    victim_accounts: set[str] = field(default_factory=set)  # normalised values of who paid
    revoked: bool = False
    return_ordered: bool = False  # a sanctioned `return` follows the report
    extended: bool = False  # a sanctioned `extend` follows the report

    @property
    def records(self) -> list[tuple[str, dict[str, Any]]]:
        """The records in the order they are due: ("transfer" | "report", record)."""
        return [(step.kind, step.record) for step in sorted(self.steps, key=lambda s: s.delay)]

    def add_transfer(self, delay: float, record: dict[str, Any]) -> None:
        self.steps.append(Step(delay, "transfer", record))
        sending, receiving = record["bank_id"], record["recipient"]["bank_id"]
        self.expected_holds.add((receiving, sending, record["transfer_id"]))
        if sending != receiving:
            self.expected_holds.add((sending, sending, record["transfer_id"]))


def bank_ack(command: dict[str, Any], rng: random.Random, at: float) -> dict[str, Any]:
    """What a simulated bank answers to a command: most holds land, some come too late;
    a return of funds is always carried out in full (`returned`, `amount_returned`)."""
    if command["type"] == "return_funds":
        return {
            "command_id": command["command_id"],
            "bank_id": command["bank_id"],
            "status": "returned",
            "amount_returned": int(command["amount"]),
            "at": format_rfc3339(at),
        }
    status, held = "applied", 0  # releases and extends are applied, holding nothing
    if command["type"] == "hold_transfer":
        if rng.random() < 0.15:
            status = "too_late"  # the money had already left the bank
        else:
            held = int(command["amount"])
    elif command["type"] == "freeze_account":
        balance = rng.randint(10_000, 5_000_000) * 100
        limit = command.get("amount_limit")
        held = min(balance, int(limit)) if limit else balance
    return {
        "command_id": command["command_id"],
        "bank_id": command["bank_id"],
        "status": status,
        "amount_held": held,
        "at": format_rfc3339(at),
    }


class Simulator:
    """Innocent traffic between customers, with the three schemes of the seed story mixed in.

    `run_tag` makes transfer ids, report ids and the fraudsters' accounts unique to one run,
    for runs against a broker whose worker already saw an earlier run.
    """

    def __init__(
        self,
        seed: int = 7,
        customers: int = 2_000,
        keys: dict[str, bytes] | None = None,
        run_tag: str = "",
    ):
        self.rng = random.Random(seed)
        self.keys = keys
        self.run_tag = run_tag
        self.customers = [self._customer(i) for i in range(customers)]
        self._transfer_serial = 0
        self._report_serial = 0
        self._bad_serial = 0
        # Room for 1000 cases per run before a later run's accounts meet this run's.
        self._case_base = (zlib.crc32(run_tag.encode()) % 1000) * 1000 if run_tag else 0

    def _customer(self, serial: int) -> dict[str, str]:
        bank_code = self.rng.choice(list(BANKS))
        kind = self.rng.choice(ACCOUNT_KINDS)
        return make_account(kind, bank_code, serial)

    def _next_transfer_id(self) -> str:
        self._transfer_serial += 1
        tag = f"{self.run_tag}-" if self.run_tag else ""
        return f"T-{tag}{self._transfer_serial:09d}"

    def _next_report_id(self) -> str:
        self._report_serial += 1
        tag = f"{self.run_tag}-" if self.run_tag else "2026-"
        return f"R-{tag}{self._report_serial:06d}"

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

    def _pay(
        self, payer: dict[str, str], payee: dict[str, str], amount: int, created_at: float
    ) -> dict[str, Any]:
        return transfer(
            self._next_transfer_id(),
            payer["bank_id"],
            {k: v for k, v in payer.items() if k != "bank_id"},
            payee,
            amount,
            created_at,
        )

    def fraud_case(
        self,
        scheme: str,
        now: float,
        follow_up: bool = True,
        revoke: bool = False,
        give_back: bool = False,
        extend: bool = False,
    ) -> Scenario:
        """Victims pay a fraud account; part of the money moves on to a mule; police report it.

        Reports come in the forms people write (`8 701 ...`, lower-case grouped IBANs), with
        the victims who paid before it and what each lost. With `follow_up`, after the report
        the mule moves money on once more (a suspect two hops out) and one more victim pays
        the reported account (a forward match). With `revoke`, the police withdraw the report
        a few seconds later (reported in error); with `give_back`, a prosecutor's sanction
        orders the held money returned; with `extend`, one extends the holds by 30 days.
        """
        report_id = self._next_report_id()
        case = self._report_serial + self._case_base

        def scrambled(multiplier: int) -> int:
            # A bijection mod 10^6 per role, so a case's accounts (and the next case's) do
            # not share their last digits, as consecutive serials would.
            return 900_000 + case * multiplier % 1_000_000

        serial = scrambled(7_654_321)
        bank_code = self.rng.choice(list(BANKS))
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
        mule = identifier(
            "iban", make_iban(mule_code, 80_000_000 + scrambled(1_234_567)), BANKS[mule_code]
        )
        scenario = Scenario(scheme=scheme, report_id=report_id, account=fraud, revoked=revoke)
        scenario.fraud_accounts[fraud["value"]] = scheme
        scenario.expected_freezes.add((fraud["bank_id"], fraud["value"]))
        scenario.expected_freezes.add((mule["bank_id"], mule["value"]))
        victims = self.rng.sample(self.customers, 4)
        lost: list[dict[str, Any]] = []
        for minutes_ago, payer in zip((50, 20, 1), victims, strict=False):
            amount = self.rng.randint(100_000, 2_000_000) * 100
            scenario.victims_paid += amount
            lost.append(victim(payer, amount))
            scenario.victim_accounts.add(payer["value"])
            scenario.add_transfer(0.0, self._pay(payer, fraud, amount, now - minutes_ago * 60))
        # The fraudster moves money on to a mule before the report arrives.
        moved = self.rng.randint(50_000, 500_000) * 100
        scenario.add_transfer(0.0, self._pay(fraud, mule, moved, now - 5 * 60))
        filed = report(report_id, [reported], now + 1.0, scheme, self.keys, victims=lost)
        scenario.steps.append(Step(1.0, "report", filed))
        if follow_up:
            # After the report the mule sends money on again: the platform follows it a hop further.
            mule2_code = self.rng.choice(list(BANKS))
            mule2 = identifier("card", make_card(scrambled(4_567_891), "521842"), BANKS[mule2_code])
            scenario.expected_freezes.add((mule2["bank_id"], mule2["value"]))
            onward = self.rng.randint(20_000, moved // 100) * 100
            scenario.add_transfer(3.0, self._pay(mule, mule2, onward, now + 3.0))
            # A victim who has not heard yet pays the reported account: a forward match.
            late = self.rng.randint(100_000, 2_000_000) * 100
            scenario.victims_paid += late
            scenario.victim_accounts.add(victims[3]["value"])
            scenario.add_transfer(4.0, self._pay(victims[3], fraud, late, now + 4.0))
        if extend:
            until = now + 30 * 86_400.0
            scenario.extended = True
            scenario.steps.append(
                Step(
                    EXTEND_AT,
                    "report",
                    order(report_id, "extend", now + EXTEND_AT, self.keys, until),
                )
            )
        if revoke:
            scenario.steps.append(
                Step(REVOKE_AT, "report", revocation(report_id, now + REVOKE_AT, keys=self.keys))
            )
        elif give_back:
            scenario.return_ordered = True
            scenario.steps.append(
                Step(RETURN_AT, "report", order(report_id, "return", now + RETURN_AT, self.keys))
            )
        return scenario

    def bad_record(self, now: float) -> tuple[str, dict[str, Any], str]:
        """A record the platform must reject to the dead letters: (kind, record, expected code)."""
        self._bad_serial += 1
        if self._bad_serial % 2:
            # A bank mistypes an IBAN: the mod-97 check fails, so nothing may be held on it.
            sender = self.rng.choice(self.customers)
            good = make_iban("601", 70_000_000 + self._bad_serial)
            typo = good[:-1] + str((int(good[-1]) + 1) % 10)
            record = transfer(
                self._next_transfer_id(),
                sender["bank_id"],
                {k: v for k, v in sender.items() if k != "bank_id"},
                identifier("iban", typo, "HSBKKZKX"),
                self.rng.randint(1_000, 50_000) * 100,
                now,
            )
            return "transfer", record, "invalid_identifier"
        # A report that claims to come from the police but is signed with a key nobody issued.
        forged = report(
            f"R-{self.run_tag or '2026'}-F{self._bad_serial:05d}",
            [identifier("phone", make_phone(3_000_000 + self._bad_serial))],
            now,
            "other",
            {"forged-1": b"not-a-police-key"},
        )
        return "report", forged, "bad_signature"

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
