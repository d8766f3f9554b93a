"""What police see: a case's status, built from its plain facts (`antifraud.case-status`).

`case_status(facts, now)` returns the contract's CaseStatus JSON for one report. It is a pure
function of what the platform knows, so the agent can rebuild and re-send it after every change
(commands issued, acks, returns, expiry, revocation) and a restart rebuilds the same record.

Statuses and their transitions (first rule that holds wins):

    revoked    the report was withdrawn                                     (final)
    returning  a return was ordered and some `return_funds` has no ack yet
    returned   a return was ordered and every `return_funds` is acked, some `returned` (one
               acked `failed` moved nothing: its money shows in amount_held again)
    lapsed     nothing returned, and every hold and freeze has expired
    holding    some hold or freeze was acked `applied` and has not lapsed
    tracking   commands are out, none applied yet (also: a return ordered before any bank held
               money, with `return_verdict: "nothing_yet"`)

    tracking --applied ack--> holding --return ordered--> returning --all acked--> returned
        |                        |                           ^--- a failed return re-sent ---'
        '--every lifetime over---'--> lapsed         any state --revoke--> revoked
    (every return `failed`: back to holding, or lapsed, until a new `return` is sent)

Figures, per account and in `totals` (minor units):
- amount_held: what banks hold now: applied holds (each transfer once: the sending bank's
  figure when both hold it) and freezes that have not lapsed, less what banks acked as
  returned from them; 0 once the report is revoked (its holds are released).
- amount_escaped: the `amount` of transfers whose hold was acked `too_late` and that no bank
  holds.
- amount_returned: what banks acked `returned` for this report's `return_funds`.
- amount_lapsed (optional, extra): what was held when its command lapsed unreturned.
- expires_at: the earliest lifetime still running among the account's commands (extensions
  counted), or the latest one when all have lapsed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from antifraud.core.cases import (
    APPLIED,
    FAILED,
    RETURNED,
    BankAck,
    Freeze,
    Hold,
    IssuedReturn,
    Victim,
    held_amount,
    holding_source,
)
from antifraud.core.names import AckStatus
from antifraud.core.timestamps import format_rfc3339

TRACKING = "tracking"
HOLDING = "holding"
RETURNING = "returning"
RETURNED_ALL = "returned"
LAPSED = "lapsed"
REVOKED = "revoked"


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """Everything the platform knows about report `report_id`'s case.

    holds, freezes: every hold and freeze issued because of the report.
    returns: every `return_funds` issued from those holds and freezes (for any report; only the
        report's own count as its amount_returned), with their acks.
    extended: command id -> the `expires_at` a sanctioned `extend` gave it.
    return_verdict: what the latest sanctioned `return` found (`antifraud.core.returns`).
    """

    report_id: str
    holds: Sequence[Hold] = ()
    freezes: Sequence[Freeze] = ()
    acks: Mapping[str, BankAck] = field(default_factory=dict)
    returns: Sequence[IssuedReturn] = ()
    extended: Mapping[str, float] = field(default_factory=dict)
    victims: Sequence[Victim] = ()
    revoked: bool = False
    return_verdict: str | None = None


@dataclass(slots=True)
class _Account:
    key: str
    account: dict[str, str]
    hop: int
    via: str | None
    banks: set[str] = field(default_factory=set)
    holds: int = 0
    freezes: int = 0
    held: int = 0
    escaped: int = 0
    returned: int = 0
    lapsed: int = 0
    expiries: list[float] = field(default_factory=list)

    def note(self, command: Hold | Freeze, expires_at: float) -> None:
        self.banks.add(command.bank_id)
        if (command.hop, command.via or "") < (self.hop, self.via or ""):
            self.hop, self.via = command.hop, command.via
        self.expiries.append(expires_at)

    def expires_at(self, now: float) -> str | None:
        finite = [e for e in self.expiries if e != float("inf")]
        running = [e for e in finite if e > now]
        chosen = min(running) if running else max(finite, default=None)
        return None if chosen is None else format_rfc3339(chosen)

    def as_json(self, now: float) -> dict[str, Any]:
        return {
            "account": self.account,
            "hop": self.hop,
            "via": self.via if self.hop > 0 else None,
            "banks": sorted(self.banks),
            "holds": self.holds,
            "freezes": self.freezes,
            "amount_held": self.held,
            "amount_escaped": self.escaped,
            "amount_returned": self.returned,
            "amount_lapsed": self.lapsed,
            "expires_at": self.expires_at(now),
        }


def case_status(facts: CaseFacts, now: float) -> dict[str, Any]:
    """The CaseStatus record for `facts` at `now` (unix seconds)."""
    accounts: dict[str, _Account] = {}
    expiry = {
        c.command_id: max(c.expires_at, facts.extended.get(c.command_id, c.expires_at))
        for c in _commands(facts)
    }

    def account_of(command: Hold | Freeze) -> _Account:
        key = command.account.key
        if key not in accounts:
            accounts[key] = _Account(key, command.account.as_json(), command.hop, command.via)
        entry = accounts[key]
        entry.note(command, expiry[command.command_id])
        return entry

    acked_back = _acked_returns_by_command(facts.returns)
    by_transfer: dict[str, list[Hold]] = defaultdict(list)
    for hold in facts.holds:
        account_of(hold).holds += 1
        by_transfer[hold.transfer.key].append(hold)
    for holds in by_transfer.values():
        entry = accounts[holds[0].account.key]
        source = holding_source(holds, facts.acks)
        if source is not None:
            held = held_amount(source, facts.acks.get(source.command_id))
            back = sum(acked_back[h.command_id] for h in holds)
            _count_held(entry, max(0, held - back), expiry[source.command_id], facts, now)
        elif any(_status(facts.acks, h) == AckStatus.TOO_LATE for h in holds):
            entry.escaped += holds[0].amount
    for frozen in facts.freezes:
        entry = account_of(frozen)
        entry.freezes += 1
        held = held_amount(frozen, facts.acks.get(frozen.command_id))
        back = acked_back[frozen.command_id]
        _count_held(entry, max(0, held - back), expiry[frozen.command_id], facts, now)
    sources = {c.command_id: c.account.key for c in _commands(facts)}
    own_returns = [r for r in facts.returns if r.report_id == facts.report_id]
    for own in own_returns:
        if own.ack is not None and own.ack.status == RETURNED and own.returns in sources:
            accounts[sources[own.returns]].returned += own.committed
    listed = sorted(accounts.values(), key=lambda a: (a.hop, a.key))
    record: dict[str, Any] = {
        "report_id": facts.report_id,
        "status": _status_of(facts, own_returns, expiry, now),
        "updated_at": format_rfc3339(now),
        "accounts": [a.as_json(now) for a in listed],
        "totals": _totals(facts, listed, own_returns),
    }
    if facts.return_verdict is not None:
        record["return_verdict"] = facts.return_verdict
    return record


def _commands(facts: CaseFacts) -> list[Hold | Freeze]:
    return [*facts.holds, *facts.freezes]


def _count_held(
    entry: _Account, still_held: int, expires_at: float, facts: CaseFacts, now: float
) -> None:
    if facts.revoked:
        return  # released: nothing is held for this report any more
    if expires_at <= now:
        entry.lapsed += still_held
    else:
        entry.held += still_held


def _acked_returns_by_command(returns: Sequence[IssuedReturn]) -> dict[str, int]:
    """Per hold or freeze: what banks acked as returned from it (for any report)."""
    out: dict[str, int] = defaultdict(int)
    for record in returns:
        if record.ack is not None and record.ack.status == RETURNED:
            out[record.returns] += record.committed
    return out


def _status(acks: Mapping[str, BankAck], command: Hold | Freeze) -> str | None:
    ack = acks.get(command.command_id)
    return None if ack is None else ack.status


def _status_of(
    facts: CaseFacts, own_returns: Sequence[IssuedReturn], expiry: Mapping[str, float], now: float
) -> str:
    if facts.revoked:
        return REVOKED
    if any(not r.acknowledged for r in own_returns):
        return RETURNING
    if any(r.ack is not None and r.ack.status == RETURNED for r in own_returns):
        return RETURNED_ALL
    commands = _commands(facts)
    if commands and all(expiry[c.command_id] <= now for c in commands):
        return LAPSED
    if any(_status(facts.acks, c) == APPLIED and expiry[c.command_id] > now for c in commands):
        return HOLDING
    return TRACKING


def _totals(
    facts: CaseFacts, accounts: Sequence[_Account], own_returns: Sequence[IssuedReturn]
) -> dict[str, Any]:
    commands = _commands(facts)
    return {
        "accounts": len(accounts),
        "commands": len(commands),
        "acked": sum(1 for c in commands if c.command_id in facts.acks),
        "amount_held": sum(a.held for a in accounts),
        "amount_escaped": sum(a.escaped for a in accounts),
        "amount_returned": sum(a.returned for a in accounts),
        "amount_lost": sum(v.amount_lost for v in facts.victims),
        "amount_lapsed": sum(a.lapsed for a in accounts),
        "returns": len(own_returns),
        "returns_acked": sum(1 for r in own_returns if r.acknowledged),
        "returns_failed": sum(
            1 for r in own_returns if r.ack is not None and r.ack.status == FAILED
        ),
    }
