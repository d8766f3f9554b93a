"""Deterministic command ids: the same action always gets the same id.

Banks deduplicate on `command_id`, so replays, duplicate inputs, restarts and
rebalances must never mint a new id for an action already commanded. An id is a
hash of what the command is about - never of when it was issued or which worker
issued it. `epoch` counts the releases of an identifier, so commanding the same
account again after a revocation is a new action with a new id (a bank that
deduplicates must not drop it as a repeat of the released one).
"""

from __future__ import annotations

import hashlib

from antifraud.core.names import CommandType

_SEPARATOR = "\x1f"  # cannot appear in any JSON-validated id, so parts never run together


def derive_command_id(*parts: object) -> str:
    text = _SEPARATOR.join(str(part) for part in parts)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def hold_command_id(bank_id: str, transfer_key: str, epoch: int) -> str:
    return derive_command_id(CommandType.HOLD_TRANSFER, bank_id, transfer_key, epoch)


def freeze_command_id(
    bank_id: str, identifier_key: str, epoch: int, amount_limit: int | None
) -> str:
    # A suspect's freeze is bounded by the money that reached it; a larger bound is a new action.
    return derive_command_id(
        CommandType.FREEZE_ACCOUNT, bank_id, identifier_key, epoch, amount_limit or ""
    )


def release_command_id(released_command_id: str) -> str:
    return derive_command_id(CommandType.RELEASE, released_command_id)


def return_command_id(returns_command_id: str, beneficiary_key: str, attempt: int = 0) -> str:
    # `attempt` counts the earlier returns of the same hold or freeze to the same beneficiary:
    # a replay derives the same id, while money a failed return left held gets a new one.
    return derive_command_id(CommandType.RETURN_FUNDS, returns_command_id, beneficiary_key, attempt)


def extend_command_id(extended_command_id: str, expires_at: str) -> str:
    # `expires_at` as the platform writes it (UTC, `Z`): one id per command and new lifetime.
    return derive_command_id(CommandType.EXTEND, extended_command_id, expires_at)
