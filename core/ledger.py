"""The command ledger: every command issued, and what its bank said about it.

Acks move the business figures (tenge held, tenge escaped, acknowledgement
latency); a command left unacknowledged past the SLA is re-sent once, with the
same `command_id`, so a bank that lost it can act and a bank that has it drops it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from antifraud.core.dead_letters import Payload
from antifraud.core.names import AckStatus, CommandType
from antifraud.core.records import Ack

PENDING = "pending"
MINOR_UNITS_PER_TENGE = 100


@dataclass(slots=True)
class LedgerEntry:
    command: dict[str, Any]
    issued_at: float
    status: str = PENDING
    resent: bool = False
    acked_at: float | None = None

    @property
    def bank_id(self) -> str:
        return str(self.command["bank_id"])

    def overdue(self, now: float, sla_seconds: float) -> bool:
        return self.status == PENDING and not self.resent and now - self.issued_at > sla_seconds


# ---------------------------------------------------------------------------- ledger events
# What reaches the ledger agent, keyed by command id (bytes: `antifraud.core.serde`).


@dataclass(frozen=True, slots=True)
class CommandIssued:
    """A command was sent to its bank at `at` (unix seconds)."""

    command: dict[str, Any]
    at: float


@dataclass(frozen=True, slots=True)
class AckReceived:
    """A bank acknowledged a command. `source` and `payload` (the ack's original bytes, or
    beyond 64 KiB their dead-letter form, `Payload.carried`) are kept so the ledger can
    dead-letter an ack for a command it never issued."""

    ack: Ack
    source: dict[str, Any]
    payload: bytes | Payload


@dataclass(frozen=True, slots=True)
class ResendDue:
    """The ledger's timer found the command overdue: re-send it if it still is."""


LedgerEvent = CommandIssued | AckReceived | ResendDue


@dataclass(frozen=True, slots=True)
class AckOutcome:
    verdict: str  # recorded | duplicate | unknown_command | wrong_bank | invalid_ack
    held_tenge: float = 0.0
    escaped_tenge: float = 0.0
    returned_tenge: float = 0.0
    latency_seconds: float | None = None
    message: str = ""  # why, for a dead letter


# Commands that hold money, and so the only ones whose acks count money held or escaped.
_HOLDING = frozenset({CommandType.HOLD_TRANSFER, CommandType.FREEZE_ACCOUNT})


# The statuses a bank may answer each command type with (CONTRACT.md, "Ack", "Cases").
_MONEY_MOVED = frozenset({AckStatus.RETURNED, AckStatus.FAILED})
_STATUSES_OF_RETURNS = _MONEY_MOVED


def contradiction(
    command: dict[str, Any],
    amount_held: int,
    status: str | None = None,
    amount_returned: int | None = None,
) -> str | None:
    """Why an ack contradicts its command (`invalid_ack`), or None.

    A bank cannot hold more than the command asked for (a hold's `amount`, a limited
    freeze's `amount_limit`), and a release holds nothing. A freeze of a whole account
    has no ceiling. A `return_funds` is answered `returned` (never more than its `amount`)
    or `failed`, and only a `return_funds` is.
    """
    kind = command.get("type")
    if status is not None:
        returns = kind == CommandType.RETURN_FUNDS
        if returns and status not in _STATUSES_OF_RETURNS:
            return f"status {status} on a return_funds (returned or failed)"
        if not returns and status in _MONEY_MOVED:
            return f"status {status} on a {kind} (only a return_funds moves money)"
        if amount_returned is not None and amount_returned > int(command.get("amount", 0)):
            return (
                f"amount_returned {amount_returned} above the command's amount "
                f"{int(command.get('amount', 0))}"
            )
    if kind == CommandType.RELEASE and amount_held > 0:
        return f"amount_held {amount_held} on a release"
    hold = kind == CommandType.HOLD_TRANSFER
    ceiling = command.get("amount") if hold else command.get("amount_limit")
    if ceiling is not None and amount_held > int(ceiling):
        name = "amount" if hold else "amount_limit"
        return f"amount_held {amount_held} above the command's {name} {int(ceiling)}"
    return None


def record_issue(existing: LedgerEntry | None, command: dict[str, Any], at: float) -> LedgerEntry:
    # A replayed issue keeps the first issue time and whatever the bank already said.
    return existing if existing is not None else LedgerEntry(command, at)


def record_ack(entry: LedgerEntry | None, ack: Ack) -> AckOutcome:
    if entry is None:
        return AckOutcome("unknown_command")
    if ack.bank_id != entry.bank_id:
        # Only the bank a command was sent to can acknowledge it.
        return AckOutcome("wrong_bank")
    why = contradiction(entry.command, ack.amount_held, ack.status, ack.amount_returned)
    if why is not None:
        return AckOutcome("invalid_ack", message=why)
    if entry.status != PENDING:
        return AckOutcome("duplicate")
    entry.status = ack.status
    entry.acked_at = ack.at
    holding = entry.command.get("type") in _HOLDING
    amount = int(entry.command.get("amount", 0))
    held = escaped = 0.0
    if holding and ack.status == AckStatus.APPLIED:
        held = (ack.amount_held or amount) / MINOR_UNITS_PER_TENGE
    elif holding and ack.status == AckStatus.TOO_LATE:
        escaped = amount / MINOR_UNITS_PER_TENGE
    returned = 0.0
    if ack.status == AckStatus.RETURNED:
        said = amount if ack.amount_returned is None else ack.amount_returned
        returned = said / MINOR_UNITS_PER_TENGE
    latency = max(0.0, ack.at - entry.issued_at)
    return AckOutcome("recorded", held, escaped, returned, latency)


def record_resend(entry: LedgerEntry | None, now: float, sla_seconds: float) -> bool:
    """True when the command must be re-sent now (once, and only if still unacknowledged)."""
    if entry is None or not entry.overdue(now, sla_seconds):
        return False
    entry.resent = True
    return True
