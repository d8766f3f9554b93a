"""Links from matching to the cases: which reports each hold and freeze is there for.

A case (agents/cases.py) follows the money of one report, but matching knows holds and
freezes by identifier. After every event `apply` (core/matching.py) calls `link_cases`, which
says, for the identifier's commands, which live reports support them now and with what
weights; agents/money.py keeps this per command and passes it on to each report's case.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from antifraud.core.commands import primary_support
from antifraud.core.names import CommandType

if TYPE_CHECKING:  # matching imports this module: types only, to keep the import one way
    from antifraud.core.matching import IdentifierState, Outcome


@dataclass(frozen=True, slots=True)
class CaseLink:
    """What the cases of the reports behind a hold or freeze must know about it.

    Sent when the command is issued (`command`, `sender`, `via` set) and again, with only the
    reports and weights, when the reports supporting it or their tainted amounts change.
    reports: every live report supporting the command.
    tainted: freezes only, per live report, `Support.tainted`.
    sender: holds only, the held transfer's sender and its bank (the beneficiary of its return).
    """

    command_id: str
    reports: tuple[str, ...]
    tainted: dict[str, int] = field(default_factory=dict)
    command: dict[str, Any] | None = None
    sender: tuple[str, str] | None = None  # (identifier key, bank_id)
    via: str | None = None


def support_weights(state: IdentifierState) -> dict[str, int]:
    return {report_id: support.tainted for report_id, support in state.supports.items()}


def link_cases(state: IdentifierState, before: dict[str, int], outcome: Outcome) -> None:
    """Tell the cases about new commands, and about old ones whose supports changed.

    A report that joins an identifier supports its commands issued earlier too; a freeze's
    weights change with every tainted inflow and every report that joins or leaves. Holds
    are sent again only when the set of reports changes, since weights matter to freezes only.
    """
    weights = support_weights(state)
    reports = tuple(sorted(weights))
    new: set[str] = set()
    for command in outcome.commands:
        if command["type"] not in (CommandType.HOLD_TRANSFER, CommandType.FREEZE_ACCOUNT):
            continue
        new.add(command["command_id"])
        primary = primary_support(state.supports)
        sender = None
        if command["type"] == CommandType.HOLD_TRANSFER:
            sender = _sender_of(state, command["transfer"])
        outcome.links.append(
            CaseLink(
                command["command_id"],
                reports,
                weights if command["type"] == CommandType.FREEZE_ACCOUNT else {},
                command,
                sender,
                primary.via if primary.hop > 0 else None,
            )
        )
    if weights == before or not weights:
        return  # nothing changed, or everything was released (no case needs more)
    joined_or_left = set(weights) != set(before)
    for active in state.commands.values():
        if active.command_id in new:
            continue
        if active.type == CommandType.FREEZE_ACCOUNT:
            outcome.links.append(CaseLink(active.command_id, reports, weights))
        elif joined_or_left:
            outcome.links.append(CaseLink(active.command_id, reports))


def _sender_of(state: IdentifierState, reference: dict[str, str]) -> tuple[str, str] | None:
    transfer = state.inflight.get(f"{reference['bank_id']}/{reference['transfer_id']}")
    return None if transfer is None else (transfer.sender.key, transfer.sender_bank)
