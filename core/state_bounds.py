"""The bounds on what one identifier's state remembers of why it is watched and where its
money went (CONTRACT.md, "Robustness promises" 2: whatever one account accumulates, its state
stays within the broker's record limit; each bound reached is counted and logged).

Transfers (`Policy.max_transfers_per_identifier`) and hold records (`hold_records.forget_holds`)
have their own bounds. The rest of the state grew with its input too; measured before these
bounds, with ordinary ids: a suspect's superseded freezes (5,000 tainted inflows: a
560,105-byte row), the markers of followed money (5,000 followed transfers: 375,197 bytes),
the live reports supporting an account (5,000: 255,144 bytes, and every command to it
listing all 5,000), their tainted inflows, and the banks a phone or card is known at (any
BIC a bank names as a transfer's recipient bank, each frozen). `antifraud.core.matching.apply`
calls `bound_state` after every event, and `bound_freezes` after issuing a freeze; what each
bound forgets, and what that costs, is said where it is forgotten: `forget_supports`,
`forget_inflows`, `learn_banks` here, `followed.forget_followed`,
`hold_records.forget_superseded_freezes`.

With every bound reached at once (1,000 transfers each way and 2,000 holds: 603,000 bytes
of it; 500 reports, 1,000 tainted inflows, 1,000 followed markers and 500 recipients, 100
banks with 100 superseded freezes) a row of ordinary ids measured 762,696 bytes. Longer ids
(128 escaped characters are 768 bytes) can pass the limit: `serde.dump_state_within` then
forgets more, counted too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields, replace
from typing import TYPE_CHECKING

from antifraud.core.followed import forget_followed
from antifraud.core.hold_records import forget_superseded_freezes
from antifraud.core.names import CommandType

if TYPE_CHECKING:  # the state is matching's; matching calls in here
    from antifraud.core.matching import IdentifierState, Support


@dataclass(frozen=True, slots=True)
class StateBounds:
    """How much of each kind one identifier's state remembers.

    Safety bounds sized to the changelog's record limit, not tunables: an account that
    reaches one is far outside ordinary traffic, and is named in the log.
    reports: live reports supporting it (the farthest from a report, then the earliest, go).
    tainted_inflows: a suspect's tainted transfers remembered one by one (all reports
        together); beyond, the oldest are kept only as a sum, so `amount_limit` stays whole.
    followed_transfers, followed_recipients: see `antifraud.core.followed`.
    superseded_freezes: freezes a larger `amount_limit` superseded, still kept for release.
    banks: banks it is known at, each frozen; a bank beyond is not learned (no freeze).
    """

    reports: int = 500
    tainted_inflows: int = 1_000
    followed_transfers: int = 1_000
    followed_recipients: int = 500
    superseded_freezes: int = 100
    banks: int = 100


BOUNDS = StateBounds()


@dataclass(slots=True)
class Forgotten:
    """What one identifier's state forgot (or, banks, did not learn) to stay within bounds."""

    freezes: int = 0  # live superseded freezes: they lapse by expires_at, never released
    reports: int = 0  # live reports no longer remembered as supporting it
    tainted_inflows: int = 0  # tainted transfers kept only in the sum
    followed_transfers: int = 0  # markers of followed money (the recipient is kept)
    followed_recipients: int = 0  # recipients a revocation can no longer reach
    banks: int = 0  # banks not learned (no freeze there)

    def add(self, other: Forgotten) -> None:
        for kind, count in other.counts().items():
            setattr(self, kind, getattr(self, kind) + count)

    def counts(self) -> dict[str, int]:
        """The kinds with something forgotten, by field name."""
        return {kind: count for kind in _KINDS if (count := getattr(self, kind))}


_KINDS = tuple(f.name for f in fields(Forgotten))


def bound_state(state: IdentifierState, now: float, bounds: StateBounds | None = None) -> Forgotten:
    """Forget what is beyond `bounds` (`BOUNDS`, read at each call), oldest first; say how
    much of each kind. Superseded freezes: `bound_freezes`."""
    bounds = bounds or BOUNDS
    forgotten = Forgotten()
    forgotten.reports = forget_supports(state, bounds.reports)
    forgotten.tainted_inflows = forget_inflows(state, bounds.tainted_inflows)
    forgotten.followed_transfers, forgotten.followed_recipients = forget_followed(
        state.spread, bounds.followed_transfers, bounds.followed_recipients, state.outflows
    )
    return forgotten


def bound_freezes(state: IdentifierState, now: float, bounds: StateBounds | None = None) -> int:
    """`hold_records.forget_superseded_freezes` at `BOUNDS`: matching calls it where a freeze
    is issued (only a new freeze supersedes one), sparing every other event a pass over all
    its command records (2,000 holds: 40 us an event)."""
    return forget_superseded_freezes(state, now, (bounds or BOUNDS).superseded_freezes)


def forget_supports(state: IdentifierState, keep: int) -> int:
    """Forget the supports beyond `keep`: the farthest from a report first (a report naming
    the account outweighs money that reached it), then the earliest to arrive.

    The report stays live elsewhere; here it no longer counts. Its tainted money stays in
    `amount_limit` (`tainted_forgotten`, until a revocation here recomputes it), and what it
    followed stays in `spread`, so its revocation still cascades. Commands no longer name
    it, and should every remembered report be revoked, the account's commands are released
    though the forgotten one still stands. A later watch for it makes it a support again.
    """
    excess = len(state.supports) - keep
    if excess <= 0:
        return 0
    arrival = list(state.supports.values())
    farthest_first = sorted(range(len(arrival)), key=lambda n: (-arrival[n].hop, n))
    for n in farthest_first[:excess]:
        _forget_support(state, arrival[n])
    return excess


def _forget_support(state: IdentifierState, support: Support) -> None:
    del state.supports[support.report_id]
    others: set[str] = set().union(*(s.inflows for s in state.supports.values()))
    state.tainted_forgotten += sum(
        amount for key, amount in support.inflows.items() if key not in others
    )


def forget_inflows(state: IdentifierState, keep: int) -> int:
    """Keep at most `keep` tainted inflows one by one (all supports together); fold the
    oldest of the support with the most into sums. Return how many transfers were folded.

    `amount_limit` is the tainted money that reached the account, each transfer once however
    many reports it is tainted for; it stays whole: `state.tainted_forgotten` sums the folded
    transfers, each once, and each support's `inflows_forgotten` its own share, so that a
    revocation of one report can take its share out (`after_revoke`). A transfer folded here
    and then tainted again (its watch delivered again, or sent for another report that
    reaches the upstream account later) is counted twice: the limit errs high, never low,
    and its freeze is a new action (a larger limit), never an old one under a new id.
    """
    excess = sum(len(s.inflows) for s in state.supports.values()) - keep
    folded = 0
    while excess > 0:
        largest = max(state.supports.values(), key=lambda s: len(s.inflows))
        transfer_key = next(iter(largest.inflows))  # the oldest: dicts keep arrival order
        amount = 0
        for support in state.supports.values():
            share = support.inflows.pop(transfer_key, None)
            if share is not None:
                support.inflows_forgotten += share
                amount = max(amount, share)
                excess -= 1
        state.tainted_forgotten += amount
        folded += 1
    return folded


def after_revoke(state: IdentifierState) -> None:
    """The folded tainted money once a report no longer supports the account.

    Each transfer folded is in `tainted_forgotten` once, and in the `inflows_forgotten` of
    every support it was tainted for. Without the revoked report's transfers the sum is at
    most the other supports' shares added up: exact when their folded transfers are the
    same (two reports behind one mule) or disjoint (two mules), never below the truth.
    """
    remaining = sum(s.inflows_forgotten for s in state.supports.values())
    state.tainted_forgotten = min(state.tainted_forgotten, remaining)


def learn_banks(
    banks: list[str], candidates: Iterable[str | None], keep: int | None = None
) -> tuple[list[str], int]:
    """`banks` with `candidates` (None: no bank) added in their order while fewer than `keep`
    (`BOUNDS.banks`), sorted; and how many candidates were not learned (each a bank where the
    account is not frozen). The first are kept: a bank named by a report comes first."""
    keep = BOUNDS.banks if keep is None else keep
    learned = set(banks)
    refused = 0
    for bank_id in candidates:
        if bank_id is None or bank_id in learned:
            continue
        if len(learned) >= keep:
            refused += 1
        else:
            learned.add(bank_id)
    return sorted(learned), refused


def shrink(state: IdentifierState, now: float) -> Forgotten | None:
    """Forget about a tenth of each kind `bound_state` bounds (never the last report); None
    when none is left to forget. For `serde.dump_state_within`, when a row within every
    bound is still too large (ids of 128 escaped characters are 768 bytes each)."""
    followed = state.spread.values()
    freezes = [c.bank_id for c in state.commands.values() if c.type == CommandType.FREEZE_ACCOUNT]
    sizes = StateBounds(
        reports=len(state.supports),
        tainted_inflows=sum(len(s.inflows) for s in state.supports.values()),
        followed_transfers=sum(len(f.transfers) for f in followed),
        followed_recipients=sum(len(f.recipients) for f in followed),
        superseded_freezes=len(freezes) - len(set(freezes)),
    )
    if sizes.reports <= 1 and not (
        sizes.tainted_inflows
        or sizes.followed_transfers
        or sizes.followed_recipients
        or sizes.superseded_freezes
    ):
        return None
    tighter = StateBounds(
        **{kind: size * 9 // 10 for kind, size in asdict(sizes).items() if kind != "banks"}
    )
    tighter = replace(tighter, reports=max(1, tighter.reports))
    forgotten = bound_state(state, now, tighter)
    forgotten.freezes = bound_freezes(state, now, tighter)
    return forgotten
