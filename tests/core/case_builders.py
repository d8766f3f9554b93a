"""Small builders of case facts (holds, freezes, acks, victims) for the case tests."""

from __future__ import annotations

from collections.abc import Mapping

from antifraud.core.cases import BankAck, Freeze, Hold, Sanction, TransferRef, Victim
from antifraud.core.command_ids import freeze_command_id, hold_command_id
from antifraud.core.identifiers import Identifier
from tests.core.strategies import T0, iban_id, phone_id

SANCTION = Sanction("Almaty city prosecutor", "SK-2026-7781", "2026-12-03T10:00:00+05:00")
SENDING_BANK = "CASPKZKA"
RECIPIENT_BANK = "HSBKKZKX"
NOW = T0 + 4 * 24 * 3600.0

MULE = phone_id(1_234_567)


def victim_account(serial: int) -> Identifier:
    return iban_id("125", serial)


def hold(
    transfer_id: str,
    *,
    bank_id: str = RECIPIENT_BANK,
    sending_bank: str = SENDING_BANK,
    account: Identifier = MULE,
    amount: int = 25_000_000,
    sender: Identifier | None = None,
    hop: int = 0,
    currency: str = "KZT",
    expires_at: float = float("inf"),
    via: str | None = None,
) -> Hold:
    transfer = TransferRef(sending_bank, transfer_id)
    return Hold(
        command_id=hold_command_id(bank_id, transfer.key, 0),
        bank_id=bank_id,
        account=account,
        hop=hop,
        transfer=transfer,
        amount=amount,
        currency=currency,
        sender=sender or victim_account(1),
        sender_bank=sending_bank,
        via=via,
        expires_at=expires_at,
    )


def holds_at_both_banks(
    transfer_id: str, *, amount: int = 25_000_000, sender: Identifier | None = None
) -> tuple[Hold, Hold]:
    """A transfer between two banks is held by the recipient's bank and by the sending bank."""
    recipient_side = hold(transfer_id, bank_id=RECIPIENT_BANK, amount=amount, sender=sender)
    sending_side = hold(transfer_id, bank_id=SENDING_BANK, amount=amount, sender=sender)
    return recipient_side, sending_side


def freeze(
    account: Identifier = MULE,
    *,
    bank_id: str = RECIPIENT_BANK,
    hop: int = 0,
    tainted: Mapping[str, int] | None = None,
    currency: str = "KZT",
    expires_at: float = float("inf"),
    via: str | None = None,
) -> Freeze:
    return Freeze(
        command_id=freeze_command_id(bank_id, account.key, 0, None),
        bank_id=bank_id,
        account=account,
        hop=hop,
        currency=currency,
        tainted=dict(tainted or {}),
        via=via,
        expires_at=expires_at,
    )


def applied(amount_held: int | None = None) -> BankAck:
    return BankAck("applied", amount_held)


def victim(serial: int, amount_lost: int, bank_id: str = SENDING_BANK) -> Victim:
    return Victim(victim_account(serial), bank_id, amount_lost)
