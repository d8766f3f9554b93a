"""The bound on the commands one identifier's state remembers (CONTRACT.md, "Robustness
promises" 2: no account can grow its state past the broker's record limit).

A watched account's state keeps a record of each hold and freeze it caused, to release them
on a revocation. A busy one (a hold or two per transfer to it, for days) would keep
thousands: near 4,330 held transfers its row passed 1,000,000 bytes and its changelog write
failed. A suspect gets a new freeze at each of its banks with every tainted inflow (its
`amount_limit` grows, and a larger limit is a new action with a new id): 5,000 tainted
inflows made a 560,105-byte row. `antifraud.core.matching.apply` calls `forget_holds` after
every event, and `forget_superseded_freezes` after issuing a freeze
(`state_bounds.bound_freezes`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from antifraud.core.names import CommandType

if TYPE_CHECKING:  # the state is matching's; matching calls in here
    from antifraud.core.matching import ActiveCommand, IdentifierState


def forget_holds(state: IdentifierState, now: float, keep: int) -> int:
    """Drop the records of lapsed holds, and of the oldest live holds while more than `keep`
    command records remain; return how many live ones were dropped (to be counted).

    A hold record is kept only to release the hold on a revocation: a lapsed hold needs no
    release, and a forgotten live one lapses by its `expires_at`. A busy watched account
    (one or two holds per transfer to it, for days) would otherwise grow without bound. The
    transfers of dropped holds are forgotten with them, so a later report does not send the
    same holds again. Freezes are few (one per bank) and always kept: a forgotten freeze
    would be issued again by the next event.
    """
    excess = len(state.commands) - keep
    dropped: list[ActiveCommand] = []
    forgotten = 0
    # Records are in the order they were issued: the oldest, and the lapsed, come first.
    for command in state.commands.values():
        if command.type != CommandType.HOLD_TRANSFER:
            continue
        if command.expires_at is not None and command.expires_at < now:
            dropped.append(command)
        elif len(dropped) < excess:
            dropped.append(command)
            forgotten += 1
        else:
            break
    for command in dropped:
        del state.commands[command.command_id]
        if command.transfer is not None:
            transfer = command.transfer
            state.inflight.discard(f"{transfer['bank_id']}/{transfer['transfer_id']}")
    return forgotten


def forget_superseded_freezes(state: IdentifierState, now: float, keep: int) -> int:
    """Drop the records of lapsed superseded freezes, and of the oldest superseded ones beyond
    `keep` (all banks together); return how many live ones were dropped (to be counted).

    Each bank's newest freeze is its current one and is always kept. The older ones were
    superseded by a larger `amount_limit` (each tainted inflow to a suspect raises it) but
    are still live at the bank until they lapse, so they are kept to be released on a
    revocation, the newest `keep` of them. A forgotten one lapses by its `expires_at`. It is
    never issued again under another id: a freeze's id is derived from its limit, which the
    state has passed. (Should a revocation of one of several reports lower the limit back to
    a forgotten freeze's, the freeze sent then has that very id again, which the bank knows.)
    Freezes are still issued with every new limit (CONTRACT.md: a suspect's `amount_limit`
    is the tainted amount that reached it); only their records are bounded.
    """
    current: set[str] = set()
    superseded: list[ActiveCommand] = []
    # Newest first: the first freeze seen of each bank is its current one.
    for command in reversed(state.commands.values()):
        if command.type != CommandType.FREEZE_ACCOUNT:
            continue
        if command.bank_id not in current:
            current.add(command.bank_id)
        else:
            superseded.append(command)
    kept = forgotten = 0
    for command in superseded:
        if command.expires_at is not None and command.expires_at < now:
            del state.commands[command.command_id]  # lapsed: nothing left to release
        elif kept < keep:
            kept += 1
        else:
            del state.commands[command.command_id]
            forgotten += 1
    return forgotten
