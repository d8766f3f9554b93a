"""Return of funds: the `return_funds` commands a sanctioned `return` for report R issues.

The contract's rules, as this module applies them:

1. **Held transfers go back to their senders.** For each transfer held because of R whose hold
   a bank acked `applied` (with money held): one `return_funds` of the held amount (at most the
   transfer's `amount`) to the transfer's sender. When both banks acked `applied`, only the
   sending bank returns it: the money never left it. A transfer with a return already under way
   or done (for any report) is not returned again.
2. **Frozen money goes to R's victims**, in proportion to what each is still owed: its
   `amount_lost` less what rule 1 and earlier returns for R gave it (and less its own transfers
   that R holds and no bank has answered yet: rule 1 may still give those back), never more.
   Integer minor units; the units left by rounding go one each to the largest shares. A frozen
   account that several live reports support is first split between them in proportion to the
   tainted money that reached it because of each (`Freeze.tainted`); R's victims share only
   R's part. Held money that no victim of R can take stays held (`ReturnPlan.still_held`).
3. **Once only.** A repeated `return` finds the money already returned or on its way and issues
   nothing; after a revocation nothing is returned; before any bank acked `applied` there is
   nothing to return yet (the verdict says which).

A return acked `failed` gave nothing back: its money counts as held again, and a later
`return` may send it under a new id (`return_command_id`'s `attempt`).

Freezes are taken in command-id order, each split by what every victim is still owed after the
ones before it, so the result depends on the facts only, never on the order acks arrived in.
Splitting in proportion to what is owed, one account after another, gives each victim the same
share of the total as one split of all the money would (up to the rounding of each step).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from antifraud.core.cases import (
    BankAck,
    Freeze,
    Hold,
    IssuedReturn,
    Sanction,
    Victim,
    held_amount,
    holding_source,
)
from antifraud.core.command_ids import return_command_id
from antifraud.core.identifiers import Identifier
from antifraud.core.names import CommandType, Reason
from antifraud.core.timestamps import format_rfc3339

ISSUED = "issued"  # return_funds commands to send
NOTHING_NEW = "nothing_new"  # money is held, but all of it is returned, on its way, or unclaimed
NOTHING_YET = "nothing_yet"  # no bank has acked `applied` with money held: nothing to return yet
REVOKED = "revoked"  # the report was withdrawn: nothing is returned


@dataclass(frozen=True, slots=True)
class ReturnOrder:
    """A sanctioned `return` for `report_id`, with the victims that report named."""

    report_id: str
    sanction: Sanction
    victims: tuple[Victim, ...] = ()


@dataclass(frozen=True, slots=True)
class CaseFunds:
    """What the platform knows about the money of report R when its `return` arrives.

    holds, freezes: the live (not released) commands R supports.
    acks: the bank's ack of each command, by command id (commands without one are pending).
    earlier_returns: every `return_funds` already issued for these holds and freezes, for R
        and for any other report, with its ack.
    """

    holds: Sequence[Hold] = ()
    freezes: Sequence[Freeze] = ()
    acks: Mapping[str, BankAck] = field(default_factory=dict)
    earlier_returns: Sequence[IssuedReturn] = ()
    revoked: bool = False


@dataclass(slots=True)
class ReturnPlan:
    """The decision: commands to send, the records to keep, and the money still held.

    still_held: for each hold or freeze whose money this plan looked at, what stays held
        after it (held less everything returned or on its way).
    """

    verdict: str
    commands: list[dict[str, Any]] = field(default_factory=list)
    issued: list[IssuedReturn] = field(default_factory=list)
    still_held: dict[str, int] = field(default_factory=dict)


def plan_return(order: ReturnOrder, funds: CaseFunds, now: float) -> ReturnPlan:
    """Apply rules 1-3 to one sanctioned `return`; `now` (unix seconds) is its `issued_at`."""
    if funds.revoked:
        return ReturnPlan(REVOKED)
    plan = ReturnPlan(NOTHING_YET)
    ledger = _ReturnLedger(funds.earlier_returns)
    money_held = _return_holds(order, funds, ledger, plan, now)
    money_held |= _return_freezes(order, funds, ledger, plan, now)
    if plan.commands:
        plan.verdict = ISSUED
    elif money_held:
        plan.verdict = NOTHING_NEW
    return plan


# ---------------------------------------------------------------------------- rule 1


def _return_holds(
    order: ReturnOrder, funds: CaseFunds, ledger: _ReturnLedger, plan: ReturnPlan, now: float
) -> bool:
    by_transfer = _by_transfer(funds.holds)
    money_held = False
    for transfer_key in sorted(by_transfer):
        source = holding_source(by_transfer[transfer_key], funds.acks)
        if source is None:
            continue
        money_held = True
        held = held_amount(source, funds.acks.get(source.command_id))
        already = ledger.committed_for_transfer(transfer_key)
        plan.still_held[source.command_id] = max(0, held - already)
        if already:
            continue  # one transfer's money is returned once
        _issue(order, source, held, source.sender, source.sender_bank, ledger, plan, now)
        plan.still_held[source.command_id] = 0
    return money_held


def _by_transfer(holds: Iterable[Hold]) -> dict[str, list[Hold]]:
    grouped: dict[str, list[Hold]] = defaultdict(list)
    for hold in holds:
        grouped[hold.transfer.key].append(hold)
    return grouped


# ---------------------------------------------------------------------------- rule 2


def _return_freezes(
    order: ReturnOrder, funds: CaseFunds, ledger: _ReturnLedger, plan: ReturnPlan, now: float
) -> bool:
    victims = _merge_victims(order.victims)
    owed = _still_owed(order.report_id, victims, funds, ledger)
    money_held = False
    for freeze in sorted(funds.freezes, key=lambda f: f.command_id):
        held = held_amount(freeze, funds.acks.get(freeze.command_id))
        if held <= 0:
            continue
        money_held = True
        remaining = held - sum(ledger.committed_from(freeze.command_id).values())
        available = _share_of_report(order.report_id, freeze, held, ledger)
        claims = {
            key: amount
            for key, amount in owed.items()
            if amount > 0 and victims[key].currency == freeze.currency
        }
        given = min(available, sum(claims.values()))
        for key, amount in sorted(split_largest_shares(given, claims).items()):
            if amount > 0:
                victim = victims[key]
                _issue(order, freeze, amount, victim.account, victim.bank_id, ledger, plan, now)
                owed[key] -= amount
        plan.still_held[freeze.command_id] = max(0, remaining - given)
    return money_held


def _still_owed(
    report_id: str, victims: Mapping[str, Victim], funds: CaseFunds, ledger: _ReturnLedger
) -> dict[str, int]:
    """What each victim of R may still get from frozen accounts.

    Its `amount_lost`, less: the returns of its own transfers that R held (rule 1, whichever
    report's `return` sent them), the frozen money already returned to it for R, and its
    transfers R holds that no bank has answered yet (rule 1 may still give them back; counting
    them now keeps a later ack from paying a victim twice for the same loss).
    """
    by_transfer = _by_transfer(funds.holds)
    expected: dict[str, int] = defaultdict(int)
    for transfer_key, holds in by_transfer.items():
        unanswered = any(h.command_id not in funds.acks for h in holds)
        if (
            unanswered
            and holding_source(holds, funds.acks) is None
            and not ledger.committed_for_transfer(transfer_key)
        ):
            expected[holds[0].sender.key] += holds[0].amount
    owed = {}
    for key, victim in victims.items():
        back = ledger.committed_to_beneficiary(victim.key, report_id, set(by_transfer))
        owed[key] = max(0, victim.amount_lost - back - expected[victim.key])
    return owed


def _merge_victims(victims: Iterable[Victim]) -> dict[str, Victim]:
    """One entry per currency and account: a victim named twice lost the sum of both."""
    merged: dict[str, Victim] = {}
    for victim in victims:
        key = f"{victim.currency}/{victim.key}"
        earlier = merged.get(key)
        if earlier is not None:
            victim = Victim(
                earlier.account,
                earlier.bank_id,
                earlier.amount_lost + victim.amount_lost,
                victim.currency,
            )
        merged[key] = victim
    return merged


def _share_of_report(report_id: str, freeze: Freeze, held: int, ledger: _ReturnLedger) -> int:
    """What of a frozen account's money report R may still return (shared accounts split)."""
    weights = {r: max(0, amount) for r, amount in freeze.tainted.items()}
    weights.setdefault(report_id, 0)
    returned_here = ledger.committed_from(freeze.command_id)
    # Money already returned for a report no longer sharing the account (revoked since) left
    # the account: the live reports split what is there.
    gone = sum(amount for r, amount in returned_here.items() if r not in weights)
    shares = split_largest_shares(max(0, held - gone), weights)
    mine = shares[report_id] - returned_here.get(report_id, 0)
    left_in_account = held - sum(returned_here.values())
    return max(0, min(mine, left_in_account))


def split_largest_shares(amount: int, weights: Mapping[str, int]) -> dict[str, int]:
    """`amount` split in proportion to `weights`, in whole units, summing to `amount`.

    Each key gets the floor of its exact share; the units left over go one each to the keys
    with the largest weights (ties by key). Keys of weight 0 get nothing unless every weight
    is 0, then the split is even. With `amount <= sum(weights)` no key gets more than its weight.
    """
    if not weights:
        return {}
    total = sum(weights.values())
    if total <= 0:
        weights = dict.fromkeys(weights, 1)
        total = len(weights)
    shares = {key: amount * weight // total for key, weight in weights.items()}
    left = amount - sum(shares.values())
    for key in sorted(weights, key=lambda k: (-weights[k], k))[:left]:
        shares[key] += 1
    return shares


# ---------------------------------------------------------------------------- commands


def _issue(
    order: ReturnOrder,
    source: Hold | Freeze,
    amount: int,
    beneficiary: Identifier,
    beneficiary_bank: str,
    ledger: _ReturnLedger,
    plan: ReturnPlan,
    now: float,
) -> None:
    attempt = ledger.attempts(source.command_id, beneficiary.key)
    command: dict[str, Any] = {
        "command_id": return_command_id(source.command_id, beneficiary.key, attempt),
        "type": CommandType.RETURN_FUNDS,
        "bank_id": source.bank_id,
        "account": source.account.as_json(),
        "returns": source.command_id,
        "amount": amount,
        "currency": source.currency,
        "beneficiary": {"account": beneficiary.as_json(), "bank_id": beneficiary_bank},
        "report_ids": [order.report_id],
        "sanction": order.sanction.as_json(),
        "reason": Reason.RETURN_SANCTIONED,
        "hop": source.hop,
        "issued_at": format_rfc3339(now),
    }
    transfer_key = None
    if isinstance(source, Hold):
        command["transfer"] = source.transfer.as_json()
        transfer_key = source.transfer.key
    record = IssuedReturn(
        command["command_id"],
        source.command_id,
        order.report_id,
        beneficiary.key,
        amount,
        transfer_key,
    )
    ledger.add(record)
    plan.commands.append(command)
    plan.issued.append(record)


class _ReturnLedger:
    """The returns known so far (earlier ones, then this plan's), summed the ways rules need."""

    def __init__(self, earlier: Iterable[IssuedReturn]) -> None:
        self._records: list[IssuedReturn] = list(earlier)

    def add(self, record: IssuedReturn) -> None:
        self._records.append(record)

    def committed_for_transfer(self, transfer_key: str) -> int:
        return sum(r.committed for r in self._records if r.transfer_key == transfer_key)

    def committed_from(self, command_id: str) -> dict[str, int]:
        """Per report id: money returned (or on its way) from one hold or freeze."""
        out: dict[str, int] = defaultdict(int)
        for r in self._records:
            if r.returns == command_id:
                out[r.report_id] += r.committed
        return dict(out)

    def committed_to_beneficiary(
        self, beneficiary_key: str, report_id: str, transfer_keys: set[str]
    ) -> int:
        """Returned to one beneficiary: its transfers among `transfer_keys` (for any report),
        and frozen money for `report_id`."""
        return sum(
            r.committed
            for r in self._records
            if r.beneficiary_key == beneficiary_key
            and (
                r.transfer_key in transfer_keys
                if r.transfer_key is not None
                else r.report_id == report_id
            )
        )

    def attempts(self, command_id: str, beneficiary_key: str) -> int:
        return sum(
            1
            for r in self._records
            if r.returns == command_id and r.beneficiary_key == beneficiary_key
        )
