"""What the case console knows of each case, read from the platform's own topics (pure).

`CaseBook` takes records one at a time, as the console's reader hands them over (case
status, commands, acks, reports; the audit trail is `antifraud.core.console_audit`), and
answers the console's questions: the list of cases, newest first and filtered, and one
case with its commands and acks. Nothing here talks to Kafka or HTTP.

Bad input is shown, never raised: a case-status record that is not the contract's
CaseStatus becomes an `Unreadable` row under its key; a command, ack or report that is not
what the contract says is left out (the platform dead-letters such acks and reports too).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import orjson

from antifraud.core.timestamps import parse_rfc3339
from antifraud.schemas import JsonSchemaError, describe, validator

UNREADABLE = "unreadable"
HOLD_TYPES = frozenset({"hold_transfer", "freeze_account"})


@dataclass(frozen=True, slots=True)
class Unreadable:
    """A case-status record the console could not read, and why."""

    key: str
    reason: str
    seen_at: float


@dataclass(frozen=True, slots=True)
class ReportFacts:
    """What the police's own report says, beyond the case status: type, time, victims."""

    fraud_type: str
    reported_at: float | None
    victims: tuple[dict[str, Any], ...] = ()
    case_number: str = ""


@dataclass(frozen=True, slots=True)
class CaseRow:
    """One line of the cases page."""

    report_id: str
    status: str
    fraud_type: str
    accounts: int
    amount_held: int
    amount_escaped: int
    amount_returned: int
    amount_lost: int
    reported_at: float | None
    updated_at: float | None
    first_hold_seconds: float | None
    reason: str = ""  # why an unreadable row is unreadable

    @property
    def newest_key(self) -> float:
        return self.reported_at if self.reported_at is not None else (self.updated_at or 0.0)


@dataclass(frozen=True, slots=True)
class Filters:
    """The cases page's filters; empty means everything. Dates are UTC days, inclusive."""

    status: str = ""
    fraud_type: str = ""
    since: date | None = None
    until: date | None = None

    def keeps(self, row: CaseRow) -> bool:
        if self.status and row.status != self.status:
            return False
        if self.fraud_type and row.fraud_type != self.fraud_type:
            return False
        if self.since is None and self.until is None:
            return True
        day = datetime.fromtimestamp(row.newest_key, UTC).date()
        if self.since is not None and day < self.since:
            return False
        return not (self.until is not None and day > self.until)


def parse_day(text: str) -> date | None:
    """`2026-11-29` -> that date; anything else (a person's typo) -> no filter."""
    try:
        return date.fromisoformat(text.strip()) if text.strip() else None
    except ValueError:
        return None


def read_case_status(key: str, raw: bytes | None, seen_at: float) -> dict[str, Any] | Unreadable:
    """The CaseStatus in `raw`, or why it cannot be read."""
    try:
        value = orjson.loads(raw or b"")
    except orjson.JSONDecodeError:
        return Unreadable(key, "not JSON", seen_at)
    try:
        validator("case_status")(value)
    except JsonSchemaError as exc:
        return Unreadable(key, describe(exc), seen_at)
    if key and value["report_id"] != key:
        return Unreadable(key, f"report_id {value['report_id']!r} under another key", seen_at)
    try:
        parse_rfc3339(value["updated_at"])
    except ValueError as exc:
        return Unreadable(key, f"updated_at: {exc}", seen_at)
    return dict(value)


def _json_object(raw: bytes | None, schema: str) -> dict[str, Any] | None:
    try:
        value = orjson.loads(raw or b"")
        validator(schema)(value)
    except (orjson.JSONDecodeError, JsonSchemaError):
        return None
    return dict(value)


def _time(text: Any) -> float | None:
    try:
        return parse_rfc3339(text) if isinstance(text, str) else None
    except ValueError:
        return None


@dataclass
class CaseBook:
    """Every case the console has read, with the commands, acks and reports about it."""

    statuses: dict[str, dict[str, Any] | Unreadable] = field(default_factory=dict)
    commands: dict[str, dict[str, Any]] = field(default_factory=dict)
    by_report: dict[str, list[str]] = field(default_factory=dict)
    acks: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    reports: dict[str, ReportFacts] = field(default_factory=dict)

    def add_case_status(self, key: str, raw: bytes | None, seen_at: float) -> None:
        if raw is None:  # a tombstone: the case is no more
            self.statuses.pop(key, None)
            return
        self.statuses[key] = read_case_status(key, raw, seen_at)

    def add_command(self, raw: bytes | None) -> None:
        command = _json_object(raw, "command")
        if command is None:
            return
        command_id = command["command_id"]
        if command_id not in self.commands:
            for report_id in command.get("report_ids", ()):
                self.by_report.setdefault(report_id, []).append(command_id)
        self.commands[command_id] = command  # a re-send carries the same id and facts

    def add_ack(self, raw: bytes | None) -> None:
        ack = _json_object(raw, "ack")
        if ack is not None:
            self.acks.setdefault(ack["command_id"], []).append(ack)

    def add_report(self, raw: bytes | None) -> None:
        """The first `report` for an id wins: the platform refuses a reused id with other
        accounts (`duplicate_report`), and the same report sent again changes nothing."""
        value = _json_object(raw, "report")
        if value is None or value.get("action") != "report":
            return
        if value["report_id"] in self.reports:
            return
        self.reports[value["report_id"]] = ReportFacts(
            fraud_type=str(value.get("fraud_type", "")),
            reported_at=_time(value.get("reported_at")),
            victims=tuple(value.get("victims", ())),
            case_number=str(value.get("case_number", "")),
        )

    def case_commands(self, report_id: str) -> list[dict[str, Any]]:
        return [self.commands[c] for c in self.by_report.get(report_id, ())]

    def fraud_type(self, report_id: str) -> str:
        facts = self.reports.get(report_id)
        if facts is not None and facts.fraud_type:
            return facts.fraud_type
        for command in self.case_commands(report_id):
            if command.get("fraud_type"):
                return str(command["fraud_type"])
        return ""

    def first_hold_seconds(self, report_id: str) -> float | None:
        """From the report to the first hold or freeze a bank acked `applied`."""
        facts = self.reports.get(report_id)
        if facts is None or facts.reported_at is None:
            return None
        applied = [
            at
            for command in self.case_commands(report_id)
            if command["type"] in HOLD_TYPES
            for ack in self.acks.get(command["command_id"], ())
            if ack["status"] == "applied" and (at := _time(ack.get("at"))) is not None
        ]
        return max(0.0, min(applied) - facts.reported_at) if applied else None

    def row(self, report_id: str) -> CaseRow | None:
        status = self.statuses.get(report_id)
        if status is None:
            return None
        facts = self.reports.get(report_id)
        reported_at = facts.reported_at if facts is not None else None
        if isinstance(status, Unreadable):
            return CaseRow(
                report_id, UNREADABLE, "", 0, 0, 0, 0, 0, reported_at, status.seen_at, None,
                reason=status.reason,
            )  # fmt: skip
        totals = status["totals"]
        return CaseRow(
            report_id=report_id,
            status=status["status"],
            fraud_type=self.fraud_type(report_id),
            accounts=totals["accounts"],
            amount_held=totals["amount_held"],
            amount_escaped=totals["amount_escaped"],
            amount_returned=totals["amount_returned"],
            amount_lost=totals["amount_lost"],
            reported_at=reported_at,
            updated_at=parse_rfc3339(status["updated_at"]),
            first_hold_seconds=self.first_hold_seconds(report_id),
        )

    def rows(self, filters: Filters = Filters()) -> list[CaseRow]:
        """Every case that passes `filters`, newest first (by report time, else last update)."""
        rows = (self.row(report_id) for report_id in self.statuses)
        kept = [row for row in rows if row is not None and filters.keeps(row)]
        return sorted(kept, key=lambda row: (row.newest_key, row.report_id), reverse=True)

    def choices(self) -> tuple[list[str], list[str]]:
        """The statuses and fraud types seen, for the filter menus."""
        rows = self.rows()
        return sorted({r.status for r in rows}), sorted({r.fraud_type for r in rows} - {""})


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    at: float | None
    what: str  # "command" or "ack"
    command_id: str
    kind: str  # the command's type, or the ack's status
    bank_id: str
    account: Mapping[str, Any] | None
    amount: int | None
    detail: str
    # when it sorts: an ack never before its command, whatever the bank's clock says
    order: float | None = None


def timeline(book: CaseBook, report_id: str) -> list[TimelineEntry]:
    """The case's commands and the banks' acks, in time order (undated ones last)."""
    entries: list[TimelineEntry] = []
    for command in book.case_commands(report_id):
        issued = _time(command.get("issued_at"))
        entries.append(
            TimelineEntry(
                at=issued,
                what="command",
                command_id=command["command_id"],
                kind=command["type"],
                bank_id=command["bank_id"],
                account=command.get("account"),
                amount=command.get("amount", command.get("amount_limit")),
                detail=_command_detail(command),
                order=issued,
            )
        )
        for ack in book.acks.get(command["command_id"], ()):
            at = _time(ack.get("at"))
            entries.append(
                TimelineEntry(
                    at=at,
                    what="ack",
                    command_id=ack["command_id"],
                    kind=ack["status"],
                    bank_id=ack["bank_id"],
                    account=command.get("account"),
                    amount=ack.get("amount_returned", ack.get("amount_held")),
                    detail=f"ack of {command['type']}",
                    order=at if issued is None or at is None else max(at, issued),
                )
            )
    return sorted(entries, key=lambda e: (e.order is None, e.order or 0.0, e.what != "command"))


def _command_detail(command: Mapping[str, Any]) -> str:
    parts = [str(command.get("reason", "")), f"hop {command.get('hop', 0)}"]
    transfer = command.get("transfer")
    if isinstance(transfer, Mapping):
        parts.append(f"transfer {transfer.get('transfer_id', '')}")
    return ", ".join(p for p in parts if p)


def hold_amounts(commands: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """Per account key (`kind:value`): the money seen arriving there (held transfers, each
    once), or for a suspect's freeze the tainted amount that reached it (`amount_limit`)."""
    transfers: dict[str, dict[str, int]] = {}
    limits: dict[str, int] = {}
    for command in commands:
        account = command.get("account") or {}
        key = f"{account.get('kind', '')}:{account.get('value', '')}"
        if command.get("type") == "hold_transfer" and isinstance(command.get("transfer"), Mapping):
            ref = command["transfer"]
            name = f"{ref.get('bank_id', '')}/{ref.get('transfer_id', '')}"
            transfers.setdefault(key, {})[name] = int(command.get("amount", 0))
        elif command.get("type") == "freeze_account" and command.get("amount_limit"):
            limits[key] = max(limits.get(key, 0), int(command["amount_limit"]))
    keys = set(transfers) | set(limits)
    return {k: limits.get(k) or sum(transfers.get(k, {}).values()) for k in keys}
