"""Where the money of one hold or freeze stands, and the one gate its returns pass.

A hold or freeze may be there for several reports (a shared account, a mule that received
money from two frauds), and each report's case decides its own returns. The money itself has
one owner: the partition of the command's id (agents/money.py), which keeps a `HeldMoney`:
the command's facts, every report ever linked to it, its bank's ack, the `return_funds` and
`extend` commands issued from it and their acks. Two things follow:

- **The gate.** Every `return_funds` a case plans comes here before it goes to a bank. It is
  issued only if the command's bank acked `applied` with money held, in the command's
  currency, never beyond what that bank acked as held less what returns took out of it (a
  return acked `failed` took nothing), and for a hold only while none of its money is
  returned or on its way (a transfer is returned once). A replay (same command id) issues
  nothing. So, whatever order cases act in and whatever they knew when they planned, the
  returns from one command never exceed what its bank acked as held.
- **Releases after returns.** A revocation's `release` of a hold or freeze passes here too
  (agents/matching.py sends it), so it releases only what was not returned: a command whose
  held money is all returned (or on its way back) gets no release at all (a bank must never
  let a transfer go on to the fraudster after giving its money back to the sender), and one
  partly returned gets its release with `amount_returned`, what it must not release.
- **One view for every case.** After every change the whole `HeldMoney`, with a version that
  only grows, goes to the case of each linked report (a revoked one too: the returns it
  ordered still get their acks), and a case keeps the latest version of each command.

Pure functions over plain values; the agent reads, calls `apply_money`, writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from antifraud.core.case_links import CaseLink
from antifraud.core.cases import BankAck, Freeze, Hold, IssuedReturn, TransferRef, held_amount
from antifraud.core.identifiers import Identifier
from antifraud.core.names import CommandType
from antifraud.core.records import Ack
from antifraud.core.timestamps import parse_rfc3339


@dataclass(slots=True)
class HeldMoney:
    """What the platform knows of one hold or freeze (keyed by its command id).

    command: None until the command itself was linked (only its reports are known).
    reports: every report ever linked to it, sorted.
    tainted: freezes, per live report: its weight when the frozen money is split.
    extends: ids of the `extend` commands issued for it (a replay issues nothing).
    released: the id of the `release` that undid it, once a revocation did.
    """

    command: Hold | Freeze | None = None
    reports: list[str] = field(default_factory=list)
    tainted: dict[str, int] = field(default_factory=dict)
    ack: BankAck | None = None
    returns: list[IssuedReturn] = field(default_factory=list)
    extended_until: float | None = None
    extends: list[str] = field(default_factory=list)
    version: int = 0
    released: str | None = None

    @property
    def with_weights(self) -> Hold | Freeze | None:
        """The command, a freeze carrying the current weights of its reports."""
        if isinstance(self.command, Freeze):
            return replace(self.command, tainted=dict(self.tainted))
        return self.command

    @property
    def expires_at(self) -> float:
        """When it lapses, extensions counted (inf when unknown)."""
        own = self.command.expires_at if self.command is not None else float("inf")
        return max(own, self.extended_until or own)


# ---------------------------------------------------------------------------- events


@dataclass(frozen=True, slots=True)
class Linked:
    """Matching says which reports a command is there for (core/case_links.py)."""

    link: CaseLink


@dataclass(frozen=True, slots=True)
class Acked:
    """A bank's recorded ack of this command, or of a return or extend issued from it."""

    command_id: str
    ack: BankAck


@dataclass(frozen=True, slots=True)
class Derive:
    """A case asks for a `return_funds` or `extend` of this command (core/case_file.py), or a
    revocation for its `release` (core/matching.py)."""

    command: dict[str, Any]


MoneyEvent = Linked | Acked | Derive

NOT_HELD = "not_held"  # no ack `applied` with money held (yet)
MORE_THAN_HELD = "more_than_held"
ALREADY_RETURNED = "already_returned"  # a hold's transfer is returned once
UNKNOWN = "unknown_command"  # the command's facts were never linked
WRONG_CURRENCY = "wrong_currency"


@dataclass(slots=True)
class MoneyOutcome:
    commands: list[dict[str, Any]] = field(default_factory=list)  # to issue
    refused: list[tuple[dict[str, Any], str]] = field(default_factory=list)  # (command, why)
    changed: bool = False  # the cases of `reports` must get the new version


def apply_money(money: HeldMoney, command_id: str, event: MoneyEvent) -> MoneyOutcome:
    """Change `money` (of the hold or freeze `command_id`) in place by one event; what to
    issue and whether the cases must hear."""
    outcome = MoneyOutcome()
    if isinstance(event, Linked):
        outcome.changed = _link(money, event.link)
    elif isinstance(event, Acked):
        outcome.changed = _ack(money, command_id, event)
    elif event.command["type"] == CommandType.EXTEND:
        _extend(money, event.command, outcome)
    elif event.command["type"] == CommandType.RELEASE:
        _release(money, event.command, outcome)
    else:
        _return(money, event.command, outcome)
    if outcome.changed:
        money.version += 1
    return outcome


def _link(money: HeldMoney, link: CaseLink) -> bool:
    before = (money.command, money.reports, money.tainted)
    if money.command is None and link.command is not None:
        money.command = command_facts(link)
    money.reports = sorted(set(money.reports) | set(link.reports))
    if isinstance(money.command, Freeze) or link.tainted:
        money.tainted = dict(link.tainted)
    return (money.command, money.reports, money.tainted) != before


def _ack(money: HeldMoney, own_id: str, event: Acked) -> bool:
    command_id, ack = event.command_id, event.ack
    if command_id == own_id:
        # Kept even before the command's facts arrive: the two travel by different paths.
        if money.ack is not None:
            return False  # the first ack stands, as in the ledger
        money.ack = ack
        return True
    for index, issued in enumerate(money.returns):
        if issued.command_id == command_id and issued.ack is None:
            money.returns[index] = replace(issued, ack=ack)
            return True
    return False  # an extend's ack (the ledger counts it), or a repeat


def _extend(money: HeldMoney, command: dict[str, Any], outcome: MoneyOutcome) -> None:
    if command["command_id"] in money.extends:
        return
    if money.command is None:
        outcome.refused.append((command, UNKNOWN))
        return
    money.extends.append(command["command_id"])
    until = parse_rfc3339(command["expires_at"])
    money.extended_until = max(until, money.extended_until or until)
    outcome.commands.append(command)
    outcome.changed = True


RETURNED_ALREADY = "returned_already"  # a release of money all given back: not sent


def _release(money: HeldMoney, command: dict[str, Any], outcome: MoneyOutcome) -> None:
    if money.released == command["command_id"]:
        return  # a replay
    money.released = command["command_id"]
    outcome.changed = True
    source = money.command
    committed = sum(issued.committed for issued in money.returns)
    if source is not None and committed > 0:
        if committed >= held_amount(source, money.ack):
            outcome.refused.append((command, RETURNED_ALREADY))
            return
        command = {**command, "amount_returned": committed}
    outcome.commands.append(command)


def _return(money: HeldMoney, command: dict[str, Any], outcome: MoneyOutcome) -> None:
    command_id = command["command_id"]
    if any(issued.command_id == command_id for issued in money.returns):
        return  # a replay, or the same plan made twice
    why = refusal(money, command)
    if why is not None:
        outcome.refused.append((command, why))
        return
    beneficiary = Identifier(**command["beneficiary"]["account"])
    transfer = command.get("transfer")
    money.returns.append(
        IssuedReturn(
            command_id,
            command["returns"],
            command["report_ids"][0],
            beneficiary.key,
            int(command["amount"]),
            TransferRef(**transfer).key if transfer else None,
        )
    )
    outcome.commands.append(command)
    outcome.changed = True


def refusal(money: HeldMoney, command: dict[str, Any]) -> str | None:
    """Why the gate refuses a `return_funds` from `money`, or None when it may go."""
    source = money.command
    if source is None:
        return UNKNOWN
    if command["currency"] != source.currency:
        return WRONG_CURRENCY
    held = held_amount(source, money.ack)
    if held <= 0:
        return NOT_HELD
    committed = sum(issued.committed for issued in money.returns)
    if isinstance(source, Hold) and committed > 0:
        return ALREADY_RETURNED
    if committed + int(command["amount"]) > held:
        return MORE_THAN_HELD
    return None


def money_owner(command: dict[str, Any]) -> str | None:
    """The hold or freeze an ack of `command` tells about (the key its money is kept under):
    itself, the one a `return_funds` returns, an `extend` extends or a `release` releases."""
    kind = command.get("type")
    if kind in (CommandType.HOLD_TRANSFER, CommandType.FREEZE_ACCOUNT):
        return str(command["command_id"])
    if kind == CommandType.RETURN_FUNDS:
        return str(command["returns"])
    if kind == CommandType.EXTEND:
        return str(command["extends"])
    if kind == CommandType.RELEASE:
        return str(command["releases"])
    return None


def bank_ack(ack: Ack) -> BankAck:
    """An ack as the cases read it. Intake reads a missing `amount_held` as 0, which the
    ledger counts as "not said" (a hold then holds its whole transfer): so do the cases."""
    return BankAck(ack.status, ack.amount_held or None, ack.amount_returned)


def command_facts(link: CaseLink) -> Hold | Freeze | None:
    """A hold or freeze as the cases see it, from the command matching issued."""
    command = link.command
    if command is None:
        return None
    account = Identifier(**command["account"])
    expires = parse_rfc3339(command["expires_at"]) if "expires_at" in command else float("inf")
    if command["type"] == CommandType.FREEZE_ACCOUNT:
        return Freeze(
            command["command_id"],
            command["bank_id"],
            account,
            command["hop"],
            command.get("currency", "KZT"),
            dict(link.tainted),
            link.via,
            expires,
        )
    if link.sender is None:
        return None  # its transfer was forgotten before the hold was linked: not returnable
    sender_key, sender_bank = link.sender
    return Hold(
        command["command_id"],
        command["bank_id"],
        account,
        command["hop"],
        TransferRef(**command["transfer"]),
        int(command["amount"]),
        command["currency"],
        Identifier.from_key(sender_key),
        sender_bank,
        link.via,
        expires,
    )
