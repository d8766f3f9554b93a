"""The contract's input records after validation and normalisation: plain, typed values."""

from __future__ import annotations

from dataclasses import dataclass

from antifraud.core.cases import Sanction, Victim
from antifraud.core.identifiers import Identifier


@dataclass(frozen=True, slots=True)
class Transfer:
    bank_id: str
    transfer_id: str
    sender: Identifier
    sender_bank: str
    recipient: Identifier
    recipient_bank: str
    amount: int
    currency: str
    status: str
    created_at: float
    purpose: str | None = None

    @property
    def key(self) -> str:
        """`(bank_id, transfer_id)` names one transfer: transfer ids are unique per sending bank."""
        return f"{self.bank_id}/{self.transfer_id}"


@dataclass(frozen=True, slots=True)
class ReportedAccount:
    identifier: Identifier
    bank_id: str | None


@dataclass(frozen=True, slots=True)
class Report:
    report_id: str
    action: str
    fraud_type: str
    reported_at: float
    issuer: str
    case_number: str
    accounts: tuple[ReportedAccount, ...]
    # CONTRACT.md, "Cases": who lost what (a `report`); the sanction of an `extend` or a
    # `return`, and the new lifetime of an `extend` (unix seconds)
    victims: tuple[Victim, ...] = ()
    sanction: Sanction | None = None
    until: float | None = None

    @property
    def amount_lost(self) -> int:
        """What the report's victims lost, all told: its weight on a frozen account it names."""
        return sum(victim.amount_lost for victim in self.victims)


@dataclass(frozen=True, slots=True)
class Ack:
    command_id: str
    bank_id: str
    status: str
    amount_held: int
    at: float
    amount_returned: int | None = None  # `returned` acks of a return_funds
