"""The plain facts of a case: one report's holds and freezes, what banks said, what was returned.

A case is everything the platform did because of one report: `hold_transfer` and
`freeze_account` commands (each a `Hold` or `Freeze` here), the banks' acks (`BankAck`), the
`return_funds` commands issued for it (`IssuedReturn`), and the report's `victims`. The
decisions about a case (`antifraud.core.returns`, `antifraud.core.extensions`,
`antifraud.core.case_status`) read only these values, so the agent that keeps them can store
them however it likes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from antifraud.core.identifiers import Identifier
from antifraud.core.names import AckStatus

APPLIED = AckStatus.APPLIED
RETURNED = AckStatus.RETURNED
FAILED = AckStatus.FAILED


@dataclass(frozen=True, slots=True)
class Sanction:
    """A prosecutor's sanction: what makes an `extend` or a `return` lawful."""

    authority: str
    reference: str
    issued_at: str  # as the police system wrote it

    def as_json(self) -> dict[str, str]:
        return {
            "authority": self.authority,
            "reference": self.reference,
            "issued_at": self.issued_at,
        }


@dataclass(frozen=True, slots=True)
class Victim:
    """Who lost what: a beneficiary of returns from frozen accounts."""

    account: Identifier
    bank_id: str
    amount_lost: int
    currency: str = "KZT"

    @property
    def key(self) -> str:
        return self.account.key


@dataclass(frozen=True, slots=True)
class TransferRef:
    bank_id: str  # the sending bank
    transfer_id: str

    @property
    def key(self) -> str:
        # The same `(bank_id, transfer_id)` key as `antifraud.core.records.Transfer.key`.
        return f"{self.bank_id}/{self.transfer_id}"

    def as_json(self) -> dict[str, str]:
        return {"bank_id": self.bank_id, "transfer_id": self.transfer_id}


@dataclass(frozen=True, slots=True)
class Hold:
    """A live `hold_transfer`: `bank_id` holds `transfer` to `account` (the watched recipient)."""

    command_id: str
    bank_id: str
    account: Identifier
    hop: int
    transfer: TransferRef
    amount: int
    currency: str
    sender: Identifier  # the beneficiary of its return (rule 1)
    sender_bank: str
    via: str | None = None  # the upstream account's key for suspects (hop >= 1)
    expires_at: float = float("inf")


@dataclass(frozen=True, slots=True)
class Freeze:
    """A live `freeze_account` of `account` at `bank_id`.

    tainted: for every live report that supports the account, the tainted money that reached
        it because of that report (minor units): the sum of its followed inflows for a mule
        suspect; for a report that names the account itself, the caller's best measure of the
        money it lost there (its victims' `amount_lost`). Empty when only one report supports it.
    """

    command_id: str
    bank_id: str
    account: Identifier
    hop: int
    currency: str = "KZT"
    tainted: Mapping[str, int] = field(default_factory=dict)
    via: str | None = None
    expires_at: float = float("inf")


@dataclass(frozen=True, slots=True)
class BankAck:
    """What a bank said about a command (one per command: the ledger keeps the first).

    amount_held: None when the ack did not say (then a hold counts as its whole transfer, as
        in the ledger's figures, and a freeze as nothing: no one can return an unknown sum).
    amount_returned: on `returned` acks of `return_funds`; None counts as the whole amount.
    """

    status: str  # applied | too_late | not_found | rejected (holds, freezes); returned | failed
    amount_held: int | None = None
    amount_returned: int | None = None  # None: a `returned` ack that did not say returned it all


@dataclass(frozen=True, slots=True)
class IssuedReturn:
    """A `return_funds` already issued (for any report), and its bank's ack when there is one."""

    command_id: str
    returns: str  # the id of the hold or freeze whose money it returns
    report_id: str
    beneficiary_key: str
    amount: int
    transfer_key: str | None = None
    ack: BankAck | None = None

    @property
    def committed(self) -> int:
        """Money this return took out of the held sum: none if it failed, what was returned."""
        if self.ack is None:
            return self.amount
        if self.ack.status == RETURNED:
            said = self.amount if self.ack.amount_returned is None else self.ack.amount_returned
            return max(0, min(self.amount, said))
        return 0  # failed: the money stayed held

    @property
    def acknowledged(self) -> bool:
        return self.ack is not None


def held_amount(command: Hold | Freeze, ack: BankAck | None) -> int:
    """Money a bank said it holds because of `command` (0 unless acked `applied`)."""
    if ack is None or ack.status != APPLIED:
        return 0
    if isinstance(command, Hold):
        said = command.amount if ack.amount_held is None else ack.amount_held
        return max(0, min(said, command.amount))
    return max(0, ack.amount_held or 0)


def holding_source(holds: Iterable[Hold], acks: Mapping[str, BankAck]) -> Hold | None:
    """Of one transfer's holds, the one its money is counted and returned from.

    The sending bank's, when it holds the money (the money never left it), else the
    recipient bank's; None while neither holds any.
    """
    holding = sorted(
        (h for h in holds if held_amount(h, acks.get(h.command_id)) > 0),
        key=lambda h: (h.bank_id != h.transfer.bank_id, h.command_id),
    )
    return holding[0] if holding else None
