"""Sanctioned extension: which holds and freezes of report R get an `extend` command.

With a prosecutor's sanction, an investigator extends a report's holds past their business-day
lifetime. Every hold and freeze R supports that is still live gets one `extend` to its bank,
with `extends` (the command's id) and `expires_at` (the order's `until`). Live means: not
released, not lapsed (`expires_at` after now), not answered `too_late`, `not_found` or
`rejected` (nothing is held there to keep), and not returned in full. An `until` that is not
later than a command's current `expires_at` changes nothing for it, so a repeated `extend`
issues nothing, and a shorter one never cuts a lifetime.

The id derives from the command and the new lifetime (`extend_command_id`): a replay yields
the same ids; a later, longer extension is a new action with a new id.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from antifraud.core.cases import (
    APPLIED,
    BankAck,
    Freeze,
    Hold,
    IssuedReturn,
    Sanction,
    held_amount,
)
from antifraud.core.command_ids import extend_command_id
from antifraud.core.names import CommandType, Reason
from antifraud.core.timestamps import format_rfc3339


@dataclass(frozen=True, slots=True)
class ExtendOrder:
    report_id: str
    sanction: Sanction
    until: float  # unix seconds


@dataclass(slots=True)
class ExtensionPlan:
    commands: list[dict[str, Any]] = field(default_factory=list)
    # command id -> its new `expires_at` (unix seconds), for the caller's state
    extended: dict[str, float] = field(default_factory=dict)


def plan_extension(
    order: ExtendOrder,
    commands: Sequence[Hold | Freeze],
    acks: Mapping[str, BankAck],
    returns: Sequence[IssuedReturn],
    now: float,
) -> ExtensionPlan:
    """`commands`: R's holds and freezes not released, each with its current `expires_at`.

    `returns`: the `return_funds` issued for their money (any report), with their acks.
    """
    plan = ExtensionPlan()
    until = format_rfc3339(order.until)
    for command in sorted(commands, key=lambda c: c.command_id):
        if not _live(command, acks.get(command.command_id), returns, now):
            continue
        if order.until <= command.expires_at:
            continue  # an earlier or equal `until` changes nothing for it
        extend: dict[str, Any] = {
            "command_id": extend_command_id(command.command_id, until),
            "type": CommandType.EXTEND,
            "bank_id": command.bank_id,
            "account": command.account.as_json(),
            "extends": command.command_id,
            "report_ids": [order.report_id],
            "sanction": order.sanction.as_json(),
            "reason": Reason.HOLD_EXTENDED,
            "hop": command.hop,
            "issued_at": format_rfc3339(now),
            "expires_at": until,
        }
        if isinstance(command, Hold):
            extend["transfer"] = command.transfer.as_json()
        plan.commands.append(extend)
        plan.extended[command.command_id] = order.until
    return plan


def _live(
    command: Hold | Freeze, ack: BankAck | None, returns: Sequence[IssuedReturn], now: float
) -> bool:
    if command.expires_at <= now:
        return False  # lapsed: a bank has already let it go
    if ack is None:
        return True  # not answered yet: it may well hold money
    if ack.status != APPLIED:
        return False  # too_late, not_found, rejected: nothing held to keep
    held = held_amount(command, ack)
    if isinstance(command, Hold):
        key = command.transfer.key
        back = sum(r.committed for r in returns if r.transfer_key == key and r.acknowledged)
    else:
        back = sum(
            r.committed for r in returns if r.returns == command.command_id and r.acknowledged
        )
    return held == 0 or back < held  # a freeze applied without a figure still blocks the account
