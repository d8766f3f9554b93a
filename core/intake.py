"""Intake: bytes from a bank or police topic -> a validated, normalised record, or a rejection.

Every rejection carries the dead-letter code the contract names; the caller writes
the dead letter and only then lets the offset be committed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import orjson

from antifraud.core.authority import signer_mismatch
from antifraud.core.bank_directory import BankDirectory
from antifraud.core.cases import Sanction, Victim
from antifraud.core.identifiers import Identifier, InvalidIdentifier, normalise
from antifraud.core.names import DeadLetterCode
from antifraud.core.records import Ack, Report, ReportedAccount, Transfer
from antifraud.core.signatures import verify_report
from antifraud.core.timestamps import check_event_time, parse_rfc3339
from antifraud.schemas import JsonSchemaError, describe, validator

DEFAULT_MAX_RECORD_BYTES = 1024 * 1024


class Rejected(Exception):
    """A record that cannot be processed; `code` is the contract's dead-letter code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def decode_object(raw: bytes | None, max_bytes: int = DEFAULT_MAX_RECORD_BYTES) -> dict[str, Any]:
    if raw is None:
        raise Rejected(DeadLetterCode.INVALID_JSON, "record has no value")
    if len(raw) > max_bytes:
        message = f"record is {len(raw)} bytes; the limit is {max_bytes}"
        raise Rejected(DeadLetterCode.TOO_LARGE, message)
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise Rejected(DeadLetterCode.INVALID_JSON, f"not UTF-8 JSON: {exc}") from None
    if not isinstance(data, dict):
        message = f"expected a JSON object, got {type(data).__name__}"
        raise Rejected(DeadLetterCode.INVALID_JSON, message)
    return data


def _validate(name: str, data: dict[str, Any]) -> None:
    try:
        validator(name)(data)
    except JsonSchemaError as exc:
        raise Rejected(DeadLetterCode.SCHEMA_VIOLATION, describe(exc)) from None


def _timestamp(data: Mapping[str, Any], field: str) -> float:
    try:
        return parse_rfc3339(data[field])
    except ValueError as exc:
        raise Rejected(
            DeadLetterCode.SCHEMA_VIOLATION, f"{field}: not a valid RFC 3339 timestamp ({exc})"
        ) from None


def _event_time(data: Mapping[str, Any], field: str, now: float) -> float:
    """A `created_at` or `reported_at`: a valid timestamp, not before 2000, not in the future."""
    seconds = _timestamp(data, field)
    try:
        check_event_time(seconds, now)
    except ValueError as exc:
        raise Rejected(DeadLetterCode.SCHEMA_VIOLATION, f"{field}: {exc}") from None
    return seconds


def _as_signed(raw: bytes) -> dict[str, Any]:
    """The record as the stdlib reads it, for the signature check only.

    orjson reads an integer beyond 64 bits as a float, so the canonical JSON would write
    `1.8446744073709552e+19` where the police system signed `18446744073709551616`; the
    stdlib keeps every integer exact. Only called once orjson accepted the bytes as a UTF-8
    JSON object, so this reads the same object.
    """
    try:
        data = json.loads(raw.decode("utf-8"))
    except (RecursionError, ValueError):
        # Nested deeper than the stdlib reads: nobody could have signed it with the stdlib.
        raise Rejected(
            DeadLetterCode.BAD_SIGNATURE, "signature malformed (cannot be canonicalised)"
        ) from None
    if not isinstance(data, dict):  # pragma: no cover - orjson already said it is an object
        raise Rejected(DeadLetterCode.INVALID_JSON, "expected a JSON object")
    return data


def _identifier(data: Mapping[str, Any], where: str) -> Identifier:
    try:
        return normalise(data["kind"], data["value"])
    except InvalidIdentifier as exc:
        raise Rejected(DeadLetterCode.INVALID_IDENTIFIER, f"{where}.{exc}") from None


def parse_transfer(
    raw: bytes | None, max_bytes: int = DEFAULT_MAX_RECORD_BYTES, *, now: float
) -> Transfer:
    """`now` is the platform's clock when the record is read (`created_at` may not pass it)."""
    data = decode_object(raw, max_bytes)
    _validate("transfer", data)
    created_at = _event_time(data, "created_at", now)
    sender = data["sender"]
    recipient = data["recipient"]
    return Transfer(
        bank_id=data["bank_id"],
        transfer_id=data["transfer_id"],
        sender=_identifier(sender, "sender"),
        sender_bank=sender.get("bank_id") or data["bank_id"],
        recipient=_identifier(recipient, "recipient"),
        recipient_bank=recipient["bank_id"],
        amount=int(data["amount"]),
        currency=data["currency"],
        status=data["status"],
        created_at=created_at,
        purpose=data.get("purpose"),
    )


def parse_report(
    raw: bytes | None,
    keys: Mapping[str, bytes],
    directory: BankDirectory,
    max_bytes: int = DEFAULT_MAX_RECORD_BYTES,
    *,
    now: float,
    key_issuers: Mapping[str, str] | None = None,
) -> Report:
    """`now` is the platform's clock when the record is read (`reported_at` may not pass it).
    `key_issuers`: the issuer each bound key signs for (antifraud.core.authority)."""
    data = decode_object(raw, max_bytes)
    _validate("report", data)
    # The signature is checked before anything in the report is trusted or normalised:
    # a forged report must not even reach the identifier checks' error messages.
    if keys:
        assert raw is not None  # decode_object refused None
        verdict = verify_report(_as_signed(raw), keys)
        if not verdict.ok:
            raise Rejected(DeadLetterCode.BAD_SIGNATURE, f"signature {verdict.reason}")
        mismatch = signer_mismatch(verdict.key_id, data.get("issuer", ""), key_issuers or {})
        if mismatch is not None:
            raise Rejected(DeadLetterCode.BAD_SIGNATURE, f"signature {mismatch}")
    reported_at = _event_time(data, "reported_at", now)
    accounts = []
    for index, account in enumerate(data.get("accounts") or ()):
        identifier = _identifier(account, f"accounts[{index}]")
        bank_id = account.get("bank_id")
        if bank_id is None and identifier.kind == "iban":
            bank_id = directory.bank_for_iban(identifier.value)
        accounts.append(ReportedAccount(identifier, bank_id))
    victims = tuple(
        Victim(
            _identifier(victim["account"], f"victims[{index}].account"),
            victim["account"]["bank_id"],
            int(victim["amount_lost"]),
            victim["currency"],
        )
        for index, victim in enumerate(data.get("victims") or ())
    )
    sanction = data.get("sanction")
    return Report(
        report_id=data["report_id"],
        action=data["action"],
        fraud_type=data.get("fraud_type", "other"),
        reported_at=reported_at,
        issuer=data.get("issuer", ""),
        case_number=data.get("case_number", ""),
        accounts=tuple(accounts),
        victims=victims,
        sanction=None
        if sanction is None
        else Sanction(sanction["authority"], sanction["reference"], sanction["issued_at"]),
        until=_timestamp(data, "until") if "until" in data else None,
    )


def parse_ack(raw: bytes | None, max_bytes: int = DEFAULT_MAX_RECORD_BYTES) -> Ack:
    data = decode_object(raw, max_bytes)
    _validate("ack", data)
    return Ack(
        command_id=data["command_id"],
        bank_id=data["bank_id"],
        status=data["status"],
        amount_held=int(data.get("amount_held", 0)),
        at=_timestamp(data, "at"),
        amount_returned=data.get("amount_returned"),
    )


Parser = Callable[[bytes | None], Any]
