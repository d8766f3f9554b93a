"""The report registry's decisions: what a report or a revocation does, once per report id."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from antifraud.core.matching import Revoke, Watch
from antifraud.core.names import DeadLetterCode, ReportAction
from antifraud.core.records import Report

# Verdicts whose record is dead-lettered with that very code (CONTRACT.md, "Report ids").
REJECTED_VERDICTS = frozenset({DeadLetterCode.UNKNOWN_REPORT, DeadLetterCode.DUPLICATE_REPORT})


@dataclass(slots=True)
class ReportEntry:
    status: str  # "live" | "revoked"
    fraud_type: str
    reported_at: float
    accounts: list[list[Any]] = field(default_factory=list)  # [identifier key, bank_id | None]


@dataclass(slots=True)
class RegistryDecision:
    entry: ReportEntry | None  # what the registry keeps for the id (None: nothing)
    # (identifier key, event) pairs for the identifier-keyed stream
    events: list[tuple[str, Watch | Revoke]]
    # accepted | duplicate | revoked | revoke_repeat, or a dead-letter code: unknown_report |
    # duplicate_report
    verdict: str
    message: str = ""  # why, for a dead letter


def _same_accounts(a: list[list[Any]], b: list[list[Any]]) -> bool:
    """One report's accounts, in whatever order they were listed."""
    return sorted(map(tuple, a), key=repr) == sorted(map(tuple, b), key=repr)


def _is_placeholder(entry: ReportEntry) -> bool:
    """What an earlier version kept for a revocation of a report it never saw.

    Those were remembered as a revoked report without accounts (no real report has none)
    and silently blocked the real report. A report for such an id is a new report.
    """
    return entry.status == "revoked" and not entry.accounts


def decide(existing: ReportEntry | None, report: Report) -> RegistryDecision:
    """A report id acts once: the same report again changes nothing, a revocation acts once.

    A revocation of a report id never seen is refused (`unknown_report`) and remembered
    nowhere, so it cannot block the real report when it arrives. A report that reuses an id
    with other accounts is refused (`duplicate_report`): the first report stands.
    """
    report_id = report.report_id
    if existing is not None and _is_placeholder(existing):
        existing = None
    if report.action == ReportAction.REPORT:
        accounts = [[account.identifier.key, account.bank_id] for account in report.accounts]
        if existing is None:
            entry = ReportEntry("live", report.fraud_type, report.reported_at, accounts)
            events: list[tuple[str, Watch | Revoke]] = [
                (key, Watch(report_id, entry.fraud_type, entry.reported_at, hop=0, bank_id=bank_id))
                for key, bank_id in entry.accounts
            ]
            return RegistryDecision(entry, events, "accepted")
        if _same_accounts(existing.accounts, accounts):
            return RegistryDecision(existing, [], "duplicate")
        return RegistryDecision(
            existing,
            [],
            DeadLetterCode.DUPLICATE_REPORT,
            f"report_id {report_id} already names other accounts",
        )
    if existing is None:
        return RegistryDecision(
            None, [], DeadLetterCode.UNKNOWN_REPORT, f"report_id {report_id} was never reported"
        )
    if existing.status == "revoked":
        return RegistryDecision(existing, [], "revoke_repeat")
    existing.status = "revoked"
    revokes: list[tuple[str, Watch | Revoke]] = [
        (key, Revoke(report_id)) for key, _ in existing.accounts
    ]
    return RegistryDecision(existing, revokes, "revoked")
