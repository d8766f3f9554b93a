"""The bound on the commands one identifier's state remembers (CONTRACT.md, "Robustness
promises" 2: no account can grow its state past the broker's record limit).

A watched account's state keeps a record of each hold and freeze it caused, to release them
on a revocation. A busy one (a hold or two per transfer to it, for days) would keep
thousands: near 4,330 held transfers its row passed 1,000,000 bytes and its changelog write
failed. `antifraud.core.matching.apply` calls `forget_holds` after every event.
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
