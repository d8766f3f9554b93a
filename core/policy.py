"""The hold policy: every tunable rule of matching in one documented object."""

from __future__ import annotations

from dataclasses import dataclass, field

from antifraud.core.business_days import (
    DEFAULT_LIFETIME_BUSINESS_DAYS,
    BusinessCalendar,
    expires_at,
)

# Kazakhstan's rule: wages, pensions and social benefits still reach a blocked account.
DEFAULT_CARVE_OUTS = frozenset({"salary", "pension", "social_benefit"})


@dataclass(frozen=True, slots=True)
class Policy:
    """What the platform holds, freezes and follows.

    lookback_seconds: a report matches `initiated` transfers created up to this long
        before it, and money that left a watched account this long before it is followed.
    hop_limit: how many mule hops away from a reported account suspicion spreads.
    min_follow_amount: transfers out of a watched account below this (minor units) are
        not followed, so small everyday payments do not make a shop a suspect.
    calendar, lifetime_business_days: holds and freezes lapse by themselves this many business
        days of the calendar after they are issued (`expires_at`; CONTRACT.md, "Lifetimes in
        business days"): 5 in Kazakhstan's calendar in Asia/Almaty by default.
    carve_out_purposes: transfer purposes that are never held and never followed.
    ack_sla_seconds: a command not acknowledged within this is counted overdue and re-sent once.
    max_transfers_per_identifier: bound on the transfers one identifier's state remembers,
        in flight to it and sent from it (each), so the state of a very busy account stays
        cheap to read and write and far below the changelog's 1 MB record limit; beyond it
        the oldest are forgotten (`antifraud_transfers_forgotten_total`). The same bound,
        doubled (a transfer between two banks gets two holds), limits the commands one
        identifier remembers for release: see `max_commands_per_identifier`.
    """

    lookback_seconds: float = 72 * 3600.0
    hop_limit: int = 3
    min_follow_amount: int = 1
    calendar: BusinessCalendar = field(default_factory=BusinessCalendar)
    lifetime_business_days: int = DEFAULT_LIFETIME_BUSINESS_DAYS
    carve_out_purposes: frozenset[str] = field(default=DEFAULT_CARVE_OUTS)
    ack_sla_seconds: float = 60.0
    max_transfers_per_identifier: int = 1_000

    def __post_init__(self) -> None:
        if self.max_transfers_per_identifier < 1:
            # 0 would forget every transfer at once: no look-back, no money followed.
            raise ValueError("max_transfers_per_identifier must be at least 1")
        if self.lifetime_business_days < 1:
            raise ValueError("lifetime_business_days must be at least 1")

    def expires_at(self, issued_at: float) -> float:
        """When a hold or freeze issued at `issued_at` (unix seconds) lapses by itself."""
        return expires_at(issued_at, self.calendar, self.lifetime_business_days)

    @property
    def max_commands_per_identifier(self) -> int:
        """Commands one identifier's state remembers so a revocation can release them.

        Beyond it the oldest holds are forgotten and lapse by their `expires_at`
        (`antifraud_commands_forgotten_total`); freezes are always kept. The row of a
        watched account that receives thousands of transfers stays far below the
        changelog's record limit.
        """
        return 2 * self.max_transfers_per_identifier

    def is_carved_out(self, purpose: str | None) -> bool:
        return purpose is not None and purpose in self.carve_out_purposes
