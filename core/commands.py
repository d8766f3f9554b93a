"""The commands to banks, in the contract's shape (schemas/json/command.json).

`antifraud.core.matching` decides when an identifier's state holds, freezes or releases;
this module only writes what such a command says. A new command type gets its builder
here and its name in `antifraud.core.names`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from antifraud.core.identifiers import Identifier
from antifraud.core.names import CommandType, Reason
from antifraud.core.policy import Policy
from antifraud.core.records import Transfer
from antifraud.core.timestamps import format_rfc3339

if TYPE_CHECKING:  # matching imports this module: types only, to keep the import one way
    from antifraud.core.matching import ActiveCommand, Support

Command = dict[str, Any]


def primary_support(supports: Mapping[str, Support]) -> Support:
    """The support a command is attributed to: the nearest hop, then the earliest report."""
    return min(supports.values(), key=lambda s: (s.hop, s.reported_at, s.report_id))


def _attribution(
    supports: Mapping[str, Support], identifier_key: str, now: float, policy: Policy
) -> Command:
    """What every hold and freeze says about whom it targets and why."""
    primary = primary_support(supports)
    return {
        "account": Identifier.from_key(identifier_key).as_json(),
        "report_ids": sorted(supports),
        "fraud_type": primary.fraud_type,
        "reason": Reason.REPORTED_ACCOUNT if primary.hop == 0 else Reason.MULE_CHAIN,
        "hop": primary.hop,
        "issued_at": format_rfc3339(now),
        "expires_at": format_rfc3339(policy.expires_at(now)),
        # Optional, for latency figures: when the earliest supporting report was made.
        "reported_at": format_rfc3339(min(s.reported_at for s in supports.values())),
    }


def hold_command(
    command_id: str,
    bank_id: str,
    transfer: Transfer,
    supports: Mapping[str, Support],
    identifier_key: str,
    now: float,
    policy: Policy,
) -> Command:
    return {
        "command_id": command_id,
        "type": CommandType.HOLD_TRANSFER,
        "bank_id": bank_id,
        "transfer": transfer_reference(transfer),
        "amount": transfer.amount,
        "currency": transfer.currency,
        **_attribution(supports, identifier_key, now, policy),
        "transfer_created_at": format_rfc3339(transfer.created_at),
    }


def transfer_reference(transfer: Transfer) -> dict[str, str]:
    """How a command names a transfer: its sending bank and that bank's id for it."""
    return {"bank_id": transfer.bank_id, "transfer_id": transfer.transfer_id}


def freeze_command(
    command_id: str,
    bank_id: str,
    amount_limit: int | None,
    supports: Mapping[str, Support],
    identifier_key: str,
    now: float,
    policy: Policy,
) -> Command:
    command = {
        "command_id": command_id,
        "type": CommandType.FREEZE_ACCOUNT,
        "bank_id": bank_id,
        **_attribution(supports, identifier_key, now, policy),
    }
    if amount_limit is not None:
        command["amount_limit"] = amount_limit
    return command


def release_command(
    command_id: str, released: ActiveCommand, identifier_key: str, report_id: str, now: float
) -> Command:
    release: Command = {
        "command_id": command_id,
        "type": CommandType.RELEASE,
        "bank_id": released.bank_id,
        "account": Identifier.from_key(identifier_key).as_json(),
        "releases": released.command_id,
        "released_type": released.type,
        "report_ids": [report_id],
        "reason": Reason.REPORT_REVOKED,
        "hop": released.hop,
        "issued_at": format_rfc3339(now),
    }
    if released.transfer is not None:
        release["transfer"] = released.transfer
    return release
