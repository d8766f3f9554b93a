"""One report's case: what its agent keeps, and what each event makes it do.

The case of report R (agents/cases.py, keyed by report id) gathers what the platform knows
about R's money and answers R's sanctioned orders:

- `Opened`: the registry accepted R (when, and who its victims are);
- `MoneyChanged`: the latest view of one hold or freeze R supports (core/held_money.py);
- `ExtendOrdered`, `ReturnOrdered`: a sanctioned `extend` or `return` the registry accepted;
  the case plans it (core/extensions.py, core/returns.py) and asks the owner of each command
  to issue what it planned (`Derive`), which for returns is also the gate;
- `Revoked`: the registry revoked R;
- `Tick`: time passed (lifetimes lapse without any event).

`case_facts` turns the case into the plain facts core/case_status.py writes the police's
`CaseStatus` from. The case keeps at most `MAX_COMMANDS_PER_CASE` holds (freezes are few and
always kept), so its row stays far below the changelog's record limit; a hold beyond the
bound is counted and logged by the agent and left out of the case (its money still lapses
or is released like any other).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from antifraud.core.case_status import CaseFacts
from antifraud.core.cases import RETURNED, Freeze, Hold, IssuedReturn, Sanction, Victim
from antifraud.core.extensions import ExtendOrder, plan_extension
from antifraud.core.held_money import HeldMoney
from antifraud.core.returns import CaseFunds, ReturnOrder, plan_return

MAX_COMMANDS_PER_CASE = 1_000


@dataclass(slots=True)
class CaseFile:
    """Everything the case of one report keeps.

    money: the latest view of each hold and freeze the report supports, by command id.
    status: the last status written to the case-status topic, without its `updated_at`,
        so the agent writes again only when something changed.
    returned_seen: ids of the report's returns already counted as returned (for metrics).
    """

    report_id: str
    reported_at: float | None = None
    victims: list[Victim] = field(default_factory=list)
    revoked: bool = False
    return_verdict: str | None = None
    money: dict[str, HeldMoney] = field(default_factory=dict)
    status: dict[str, Any] | None = None
    returned_seen: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------- events


@dataclass(frozen=True, slots=True)
class Opened:
    reported_at: float
    victims: tuple[Victim, ...] = ()


@dataclass(frozen=True, slots=True)
class Revoked:
    pass


@dataclass(frozen=True, slots=True)
class ExtendOrdered:
    sanction: Sanction
    until: float


@dataclass(frozen=True, slots=True)
class ReturnOrdered:
    sanction: Sanction


@dataclass(frozen=True, slots=True)
class MoneyChanged:
    command_id: str
    money: HeldMoney


@dataclass(frozen=True, slots=True)
class Tick:
    pass


CaseEvent = Opened | Revoked | ExtendOrdered | ReturnOrdered | MoneyChanged | Tick


@dataclass(slots=True)
class CaseOutcome:
    # (id of the hold or freeze it derives from, the planned return_funds or extend command)
    derive: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    # the report's returns acked `returned` since the last event: (command id, amount)
    returned: list[tuple[str, int]] = field(default_factory=list)
    dropped: int = 0  # holds left out: the case had MAX_COMMANDS_PER_CASE already


def apply_case(case: CaseFile, event: CaseEvent, now: float) -> CaseOutcome:
    """Change `case` in place by one event (`now`: unix seconds)."""
    outcome = CaseOutcome()
    if isinstance(event, Opened):
        case.reported_at = event.reported_at
        case.victims = list(event.victims)
    elif isinstance(event, Revoked):
        case.revoked = True
    elif isinstance(event, MoneyChanged):
        _money_changed(case, event, outcome)
    elif isinstance(event, ReturnOrdered):
        _order_return(case, event.sanction, now, outcome)
    elif isinstance(event, ExtendOrdered):
        _order_extension(case, event, now, outcome)
    return outcome


def _money_changed(case: CaseFile, event: MoneyChanged, outcome: CaseOutcome) -> None:
    known = case.money.get(event.command_id)
    if known is not None and known.version >= event.money.version:
        return  # an older view, redelivered or overtaken
    if (
        known is None
        and isinstance(event.money.command, Hold)
        and sum(isinstance(m.command, Hold) for m in case.money.values()) >= MAX_COMMANDS_PER_CASE
    ):
        outcome.dropped += 1
        return
    case.money[event.command_id] = event.money
    for issued in event.money.returns:
        if (
            issued.report_id == case.report_id
            and issued.ack is not None
            and issued.ack.status == RETURNED
            and issued.command_id not in case.returned_seen
        ):
            case.returned_seen.append(issued.command_id)
            outcome.returned.append((issued.command_id, issued.committed))


def _live(case: CaseFile, now: float) -> list[HeldMoney]:
    """Views of commands whose facts are known and whose lifetime (extensions counted) runs."""
    return [m for m in case.money.values() if m.command is not None and m.expires_at > now]


def _order_return(case: CaseFile, sanction: Sanction, now: float, outcome: CaseOutcome) -> None:
    live = _live(case, now)
    order = ReturnOrder(case.report_id, sanction, tuple(case.victims))
    funds = CaseFunds(
        holds=_holds(live),
        freezes=_freezes(live),
        acks={m.command.command_id: m.ack for m in live if m.command and m.ack},
        earlier_returns=_returns(case),
        revoked=case.revoked,
    )
    plan = plan_return(order, funds, now)
    case.return_verdict = plan.verdict
    outcome.derive += [(command["returns"], command) for command in plan.commands]


def _order_extension(
    case: CaseFile, event: ExtendOrdered, now: float, outcome: CaseOutcome
) -> None:
    if case.revoked:
        return  # released: nothing to keep
    order = ExtendOrder(case.report_id, event.sanction, event.until)
    commands: list[Hold | Freeze] = []
    for m in _live(case, now):
        assert m.command is not None
        commands.append(_with_expiry(m.command, m.expires_at))
    acks = {m.command.command_id: m.ack for m in case.money.values() if m.command and m.ack}
    plan = plan_extension(order, commands, acks, _returns(case), now)
    outcome.derive += [(command["extends"], command) for command in plan.commands]


def _with_expiry(command: Hold | Freeze, expires_at: float) -> Hold | Freeze:
    return replace(command, expires_at=expires_at)


def _holds(views: Iterable[HeldMoney]) -> list[Hold]:
    return [m.command for m in views if isinstance(m.command, Hold)]


def _freezes(views: Iterable[HeldMoney]) -> list[Freeze]:
    """Freezes with the current weights of the reports that share them."""
    return [f for f in (m.with_weights for m in views) if isinstance(f, Freeze)]


def _returns(case: CaseFile) -> list[IssuedReturn]:
    return [issued for m in case.money.values() for issued in m.returns]


def case_facts(case: CaseFile) -> CaseFacts:
    """The plain facts core/case_status.py builds the police's view from."""
    known = [m for m in case.money.values() if m.command is not None]
    return CaseFacts(
        report_id=case.report_id,
        holds=_holds(known),
        freezes=_freezes(known),
        acks={m.command.command_id: m.ack for m in known if m.command and m.ack},
        returns=_returns(case),
        extended={
            m.command.command_id: m.extended_until
            for m in known
            if m.command and m.extended_until is not None
        },
        victims=case.victims,
        revoked=case.revoked,
        return_verdict=case.return_verdict,
    )


def next_change(case: CaseFile, now: float) -> float | None:
    """When the case's status changes by time alone: the next lifetime to end, if any."""
    ends = [m.expires_at for m in case.money.values() if now < m.expires_at < float("inf")]
    return min(ends, default=None)
