"""Matching: the state of one identifier and how each event changes it.

Every fact about an identifier lives in one `IdentifierState`, owned by the
partition its key hashes to. Four kinds of event reach it, all keyed by the
identifier:

- `TransferIn`: a transfer *to* this identifier (hold it if we watch the identifier),
- `TransferOut`: a transfer *from* it (follow the money if we watch it),
- `Watch`: a report names it (hop 0) or tainted money reached it (hop >= 1),
- `Revoke`: a report that supported it was withdrawn.

`apply` returns the commands to issue and the events to send to *other*
identifiers (suspects one hop further, revocations down the chain). It never
reads another identifier's state: the cascade travels through the keyed stream.

Over 400 lines on purpose: `apply` and its four handlers share one state and one outcome,
and each promise of the contract (forward, look-back, freeze, follow, revoke) reads best
beside the others; what stands alone already left (commands, command ids, case links,
state bounds, followed transfers).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from antifraud.core import state_bounds
from antifraud.core.case_links import CaseLink, link_cases, support_weights
from antifraud.core.command_ids import freeze_command_id, hold_command_id, release_command_id
from antifraud.core.commands import (
    freeze_command,
    hold_command,
    release_command,
    transfer_reference,
)
from antifraud.core.followed import Followed
from antifraud.core.hold_records import forget_holds
from antifraud.core.names import CommandType, TransferStatus
from antifraud.core.policy import Policy
from antifraud.core.records import Transfer
from antifraud.core.timestamps import parse_rfc3339
from antifraud.core.transfer_rows import TransferRows

# ---------------------------------------------------------------------------- events


@dataclass(frozen=True, slots=True)
class TransferIn:
    transfer: Transfer


@dataclass(frozen=True, slots=True)
class TransferOut:
    transfer: Transfer


@dataclass(frozen=True, slots=True)
class Watch:
    """Why an identifier is watched: a report names it, or money from a watched one reached it."""

    report_id: str
    fraud_type: str
    reported_at: float
    hop: int
    bank_id: str | None = None
    via: str | None = None  # the upstream identifier key (hop >= 1)
    transfer_key: str | None = None  # the tainted transfer that made it a suspect
    amount: int = 0
    lost: int = 0  # hop 0: what the report's victims lost (its weight on a shared freeze)


@dataclass(frozen=True, slots=True)
class Revoke:
    report_id: str


Event = TransferIn | TransferOut | Watch | Revoke

# ---------------------------------------------------------------------------- state


@dataclass(slots=True)
class Support:
    """One live report's hold on this identifier."""

    report_id: str
    fraud_type: str
    reported_at: float
    hop: int
    inflows: dict[str, int] = field(default_factory=dict)  # tainted transfer key -> amount
    inflows_forgotten: int = 0  # its tainted transfers kept only as a sum (state_bounds)
    via: str | None = None  # hop >= 1: the upstream identifier the money came from
    lost: int = 0  # hop 0: what the report's victims lost

    @property
    def tainted(self) -> int:
        """The money that reached the identifier because of this report: its weight when
        several reports share a frozen account (CONTRACT.md, "Return of funds", rule 2)."""
        if self.hop == 0:
            return self.lost
        return sum(self.inflows.values()) + self.inflows_forgotten


@dataclass(slots=True)
class ActiveCommand:
    """What is needed to release a command later."""

    command_id: str
    type: str
    bank_id: str
    hop: int
    transfer: dict[str, str] | None = None
    # when it lapses by itself (None: recorded before this was kept; it never lapses here)
    expires_at: float | None = None


@dataclass(slots=True)
class IdentifierState:
    banks: list[str] = field(default_factory=list)
    supports: dict[str, Support] = field(default_factory=dict)
    inflight: TransferRows = field(default_factory=TransferRows)  # to it, still `initiated`
    outflows: TransferRows = field(default_factory=TransferRows)  # from it, that could be followed
    commands: dict[str, ActiveCommand] = field(default_factory=dict)
    spread: dict[str, Followed] = field(default_factory=dict)  # by report, the money followed
    epoch: int = 0
    tainted_forgotten: int = 0  # tainted money no longer in any support's inflows, each once

    @property
    def watched(self) -> bool:
        return bool(self.supports)

    def is_empty(self) -> bool:
        return not (self.supports or self.inflight or self.outflows or self.commands or self.epoch)


# ---------------------------------------------------------------------------- outputs


@dataclass(frozen=True, slots=True)
class SendWatch:
    identifier_key: str
    watch: Watch


@dataclass(frozen=True, slots=True)
class SendRevoke:
    identifier_key: str
    report_id: str


@dataclass(slots=True)
class Outcome:
    commands: list[dict[str, Any]] = field(default_factory=list)
    forwards: list[SendWatch | SendRevoke] = field(default_factory=list)
    # for metrics: how the counts of watched identifiers and in-flight transfers changed
    watched_delta: int = 0
    inflight_delta: int = 0
    # transfers forgotten before their time because the identifier had too many (policy)
    forgotten: int = 0
    # live holds forgotten (too many, policy): they lapse by `expires_at`, never released
    commands_forgotten: int = 0
    records_forgotten: state_bounds.Forgotten = field(default_factory=state_bounds.Forgotten)
    # for the cases (agents/money.py): commands issued, and commands whose supports changed
    links: list[CaseLink] = field(default_factory=list)

    def follow_up_events(self) -> list[tuple[str, Event]]:
        """The forwards as (identifier key, event) pairs for the identifier-keyed stream."""
        return [
            (f.identifier_key, f.watch if isinstance(f, SendWatch) else Revoke(f.report_id))
            for f in self.forwards
        ]


# ---------------------------------------------------------------------------- transitions


def apply(
    state: IdentifierState, identifier_key: str, event: Event, now: float, policy: Policy
) -> Outcome:
    """Change `state` in place by one event and say what follows from it."""
    outcome = Outcome()
    was_watched = state.watched
    supported_before = support_weights(state)
    inflight_before = len(state.inflight)
    _prune(state, now, policy)
    if isinstance(event, TransferIn):
        _on_transfer_in(state, identifier_key, event.transfer, now, policy, outcome)
    elif isinstance(event, TransferOut):
        _on_transfer_out(state, identifier_key, event.transfer, policy, outcome)
    elif isinstance(event, Watch):
        _on_watch(state, identifier_key, event, now, policy, outcome)
    else:
        _on_revoke(state, identifier_key, event.report_id, now, outcome)
    outcome.records_forgotten.add(state_bounds.bound_state(state, now))
    link_cases(state, supported_before, outcome)
    outcome.commands_forgotten = forget_holds(state, now, policy.max_commands_per_identifier)
    outcome.watched_delta = int(state.watched) - int(was_watched)
    outcome.inflight_delta = len(state.inflight) - inflight_before
    return outcome


def _prune(state: IdentifierState, now: float, policy: Policy) -> None:
    """Transfers older than the look-back window can never match a new report: forget them."""
    horizon = now - policy.lookback_seconds
    state.inflight.prune(horizon)
    state.outflows.prune(horizon)


def _remember(
    remembered: TransferRows, transfer: Transfer, policy: Policy, outcome: Outcome
) -> None:
    remembered.put(transfer)
    outcome.forgotten += remembered.keep_newest(policy.max_transfers_per_identifier)


def _on_transfer_in(
    state: IdentifierState,
    identifier_key: str,
    transfer: Transfer,
    now: float,
    policy: Policy,
    outcome: Outcome,
) -> None:
    if transfer.status != TransferStatus.INITIATED:
        # Settled or cancelled: nothing left to hold.
        state.inflight.discard(transfer.key)
        return
    _remember(state.inflight, transfer, policy, outcome)
    if state.watched:
        _learn_bank(state, identifier_key, transfer.recipient_bank, now, policy, outcome)
        # Forward: it arrived while watched, so it is held whatever its `created_at` says.
        _hold(state, identifier_key, transfer, now, policy, outcome)


def _on_transfer_out(
    state: IdentifierState,
    identifier_key: str,
    transfer: Transfer,
    policy: Policy,
    outcome: Outcome,
) -> None:
    if transfer.status == TransferStatus.CANCELLED:
        state.outflows.discard(transfer.key)
        return
    if not _followable(identifier_key, transfer, policy):
        return  # no report can ever make us follow it: a payroll account keeps no payslips
    _remember(state.outflows, transfer, policy, outcome)
    for support in list(state.supports.values()):
        _follow(state, identifier_key, support, transfer, policy, outcome)


def _on_watch(
    state: IdentifierState,
    identifier_key: str,
    watch: Watch,
    now: float,
    policy: Policy,
    outcome: Outcome,
) -> None:
    support = state.supports.get(watch.report_id)
    if support is None:
        support = Support(
            watch.report_id,
            watch.fraud_type,
            watch.reported_at,
            watch.hop,
            via=watch.via,
            lost=watch.lost,
        )
        state.supports[watch.report_id] = support
    elif watch.hop < support.hop:
        support.hop, support.via = watch.hop, watch.via
    support.lost = max(support.lost, watch.lost)
    if watch.transfer_key is not None:
        support.inflows[watch.transfer_key] = watch.amount
    # The banks that hold this account: named by the report, or seen as the recipient bank of
    # transfers in flight to it (so the order in which report and transfer arrive does not matter).
    known = [watch.bank_id, *sorted(state.inflight.recipient_banks())]
    state.banks, refused = state_bounds.learn_banks(state.banks, known)
    outcome.records_forgotten.banks += refused
    # Look-back: transfers already in flight to it, created within the window before the
    # earliest live report (or before now: a report dated ahead cannot move the window).
    earliest = min(s.reported_at for s in state.supports.values())
    window_start = min(earliest, now) - policy.lookback_seconds
    for transfer in state.inflight.transfers():
        if transfer.created_at >= window_start:
            _hold(state, identifier_key, transfer, now, policy, outcome)
    _freeze_everywhere(state, identifier_key, now, policy, outcome)
    # Follow the money that already left, before or after the report.
    for transfer in state.outflows.transfers():
        _follow(state, identifier_key, support, transfer, policy, outcome)


def _on_revoke(
    state: IdentifierState, identifier_key: str, report_id: str, now: float, outcome: Outcome
) -> None:
    followed = state.spread.pop(report_id, Followed())
    # Cascade even when the support was forgotten (state_bounds): what it followed is kept.
    for recipient_key in sorted(followed.reached()):
        outcome.forwards.append(SendRevoke(recipient_key, report_id))
    if state.supports.pop(report_id, None) is None:
        return
    state_bounds.after_revoke(state)
    if state.supports:
        return  # another live report still supports every command here
    for command in sorted(state.commands.values(), key=lambda c: c.command_id):
        release_id = release_command_id(command.command_id)
        outcome.commands.append(
            release_command(release_id, command, identifier_key, report_id, now)
        )
    state.commands.clear()
    state.tainted_forgotten = 0
    state.epoch += 1


# ---------------------------------------------------------------------------- decisions


def _hold(
    state: IdentifierState,
    identifier_key: str,
    transfer: Transfer,
    now: float,
    policy: Policy,
    outcome: Outcome,
) -> None:
    if transfer.status != TransferStatus.INITIATED or policy.is_carved_out(transfer.purpose):
        return
    targets = [transfer.recipient_bank]
    if transfer.bank_id != transfer.recipient_bank:
        targets.append(transfer.bank_id)
    for bank_id in targets:
        command_id = hold_command_id(bank_id, transfer.key, state.epoch)
        if command_id in state.commands:
            continue
        command = hold_command(
            command_id, bank_id, transfer, state.supports, identifier_key, now, policy
        )
        reference, expires_at = transfer_reference(transfer), parse_rfc3339(command["expires_at"])
        state.commands[command_id] = ActiveCommand(
            command_id, CommandType.HOLD_TRANSFER, bank_id, command["hop"], reference, expires_at
        )
        outcome.commands.append(command)


def _learn_bank(
    state: IdentifierState,
    identifier_key: str,
    bank_id: str,
    now: float,
    policy: Policy,
    outcome: Outcome,
) -> None:
    """A transfer to a watched phone or card tells us a bank that holds it: freeze there too."""
    if bank_id in state.banks:
        return
    state.banks, refused = state_bounds.learn_banks(state.banks, [bank_id])
    if refused:
        outcome.records_forgotten.banks += refused
        return
    _freeze_everywhere(state, identifier_key, now, policy, outcome)


def amount_limit(state: IdentifierState) -> int | None:
    """A reported account is frozen whole; a suspect only up to the tainted money it received.

    Its freeze and its watchlist entry (core/watchlist.py) both say this amount.
    """
    if any(s.hop == 0 for s in state.supports.values()):
        return None
    tainted: dict[str, int] = {}
    for support in state.supports.values():
        tainted.update(support.inflows)
    return sum(tainted.values()) + state.tainted_forgotten or None


def _freeze_everywhere(
    state: IdentifierState, identifier_key: str, now: float, policy: Policy, outcome: Outcome
) -> None:
    limit = amount_limit(state)
    for bank_id in state.banks:
        command_id = freeze_command_id(bank_id, identifier_key, state.epoch, limit)
        if command_id in state.commands:
            continue
        command = freeze_command(
            command_id, bank_id, limit, state.supports, identifier_key, now, policy
        )
        expires_at = parse_rfc3339(command["expires_at"])
        state.commands[command_id] = ActiveCommand(
            command_id, CommandType.FREEZE_ACCOUNT, bank_id, command["hop"], None, expires_at
        )
        outcome.commands.append(command)
    # A new freeze supersedes the bank's earlier one, kept to be released: bound those.
    outcome.records_forgotten.freezes += state_bounds.bound_freezes(state, now)


def _followable(identifier_key: str, transfer: Transfer, policy: Policy) -> bool:
    """Whether money leaving `identifier_key` by `transfer` is followed once it is watched."""
    return not (
        transfer.amount < policy.min_follow_amount
        or policy.is_carved_out(transfer.purpose)
        or transfer.recipient.key == identifier_key
    )


def _follow(
    state: IdentifierState,
    identifier_key: str,
    support: Support,
    transfer: Transfer,
    policy: Policy,
    outcome: Outcome,
) -> None:
    if (
        support.hop >= policy.hop_limit
        or not _followable(identifier_key, transfer, policy)
        or transfer.created_at < support.reported_at - policy.lookback_seconds
    ):
        return
    # One marker per followed transfer, with the hop it was sent at: a shorter path found
    # later (a lower hop here) must be sent again, or the chain below stops too early.
    next_hop = support.hop + 1
    followed = state.spread.setdefault(support.report_id, Followed())
    if not followed.send(transfer.recipient.key, transfer.key, next_hop):
        return
    watch = Watch(
        report_id=support.report_id,
        fraud_type=support.fraud_type,
        reported_at=support.reported_at,
        hop=next_hop,
        bank_id=transfer.recipient_bank,
        via=identifier_key,
        transfer_key=transfer.key,
        amount=transfer.amount,
    )
    outcome.forwards.append(SendWatch(transfer.recipient.key, watch))
