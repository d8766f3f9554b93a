"""The contract's names that code decides on: command types, reasons, dead-letter codes,
ack statuses, report actions, transfer statuses and watchlist markers, each written once.

They are plain strings (what goes on the wire and into command ids), grouped by what they
name; `ALL` lists a group, and tests/core/test_names.py checks each group against the
contract's JSON schemas. A new command type or dead-letter code starts here.
"""

from __future__ import annotations

from typing import Final


class CommandType:
    HOLD_TRANSFER: Final = "hold_transfer"
    FREEZE_ACCOUNT: Final = "freeze_account"
    RELEASE: Final = "release"
    EXTEND: Final = "extend"
    RETURN_FUNDS: Final = "return_funds"
    ALL: Final = (HOLD_TRANSFER, FREEZE_ACCOUNT, RELEASE, EXTEND, RETURN_FUNDS)


class Reason:
    """Why a command was issued (`reason`)."""

    REPORTED_ACCOUNT: Final = "reported_account"  # the report named the account (hop 0)
    MULE_CHAIN: Final = "mule_chain"  # tainted money reached it (hop >= 1)
    REPORT_REVOKED: Final = "report_revoked"  # a release
    HOLD_EXTENDED: Final = "hold_extended"  # an extend
    RETURN_SANCTIONED: Final = "return_sanctioned"  # a return of funds
    ALL: Final = (REPORTED_ACCOUNT, MULE_CHAIN, REPORT_REVOKED, HOLD_EXTENDED, RETURN_SANCTIONED)


class DeadLetterCode:
    """`error.code` of a dead letter."""

    INVALID_JSON: Final = "invalid_json"
    SCHEMA_VIOLATION: Final = "schema_violation"
    INVALID_IDENTIFIER: Final = "invalid_identifier"
    BAD_SIGNATURE: Final = "bad_signature"
    TOO_LARGE: Final = "too_large"
    UNKNOWN_COMMAND: Final = "unknown_command"
    UNKNOWN_REPORT: Final = "unknown_report"  # a revoke for a report never seen
    DUPLICATE_REPORT: Final = "duplicate_report"  # a reused report_id with other accounts
    INVALID_ACK: Final = "invalid_ack"  # an ack that contradicts its command
    FORBIDDEN: Final = "forbidden"  # a revoke, extend or return from a unit that may not act
    # Not a fault of the record: a bug met it. Kept so the record is never lost.
    INTERNAL_ERROR: Final = "internal_error"
    ALL: Final = (
        INVALID_JSON,
        SCHEMA_VIOLATION,
        INVALID_IDENTIFIER,
        BAD_SIGNATURE,
        TOO_LARGE,
        UNKNOWN_COMMAND,
        UNKNOWN_REPORT,
        DUPLICATE_REPORT,
        INVALID_ACK,
        FORBIDDEN,
        INTERNAL_ERROR,
    )


class AckStatus:
    APPLIED: Final = "applied"
    TOO_LATE: Final = "too_late"
    NOT_FOUND: Final = "not_found"
    REJECTED: Final = "rejected"
    RETURNED: Final = "returned"  # of a return_funds
    FAILED: Final = "failed"  # of a return_funds
    ALL: Final = (APPLIED, TOO_LATE, NOT_FOUND, REJECTED, RETURNED, FAILED)


class ReportAction:
    REPORT: Final = "report"
    REVOKE: Final = "revoke"
    EXTEND: Final = "extend"  # a sanctioned extension of the report's holds and freezes
    RETURN: Final = "return"  # a sanctioned return of the money held because of the report
    ALL: Final = (REPORT, REVOKE, EXTEND, RETURN)
    ACTING_ON_A_REPORT: Final = (REVOKE, EXTEND, RETURN)  # only its issuer or a supervisor


class TransferStatus:
    INITIATED: Final = "initiated"
    SETTLED: Final = "settled"
    CANCELLED: Final = "cancelled"
    ALL: Final = (INITIATED, SETTLED, CANCELLED)


class WatchlistMarker:
    """`marker` of a watchlist entry (core/watchlist.py)."""

    REPORTED_ACCOUNT: Final = "reported_account"  # a live report names it (hop 0)
    MULE_SUSPECT: Final = "mule_suspect"  # tainted money reached it (hop >= 1)
    ALL: Final = (REPORTED_ACCOUNT, MULE_SUSPECT)
