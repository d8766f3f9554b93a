"""The report registry's decisions: what a report, a revocation, an extension or a return
does, once per report id, and who may ask for them (CONTRACT.md, "Who may act on a report")."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from antifraud.core.authority import may_act
from antifraud.core.case_file import CaseEvent, ExtendOrdered, Opened, ReturnOrdered, Revoked
from antifraud.core.matching import Revoke, Watch
from antifraud.core.names import DeadLetterCode, ReportAction
from antifraud.core.records import Report

# Verdicts whose record is dead-lettered with that very code (CONTRACT.md, "Report ids",
# "Who may act on a report").
REJECTED_VERDICTS = frozenset(
    {DeadLetterCode.UNKNOWN_REPORT, DeadLetterCode.DUPLICATE_REPORT, DeadLetterCode.FORBIDDEN}
)


@dataclass(slots=True)
class ReportEntry:
    status: str  # "live" | "revoked"
    fraud_type: str
    reported_at: float
    accounts: list[list[Any]] = field(default_factory=list)  # [identifier key, bank_id | None]
    issuer: str | None = None  # who filed it; None: recorded before issuers were kept


@dataclass(slots=True)
class RegistryDecision:
    entry: ReportEntry | None  # what the registry keeps for the id (None: nothing)
    # (identifier key, event) pairs for the identifier-keyed stream
    events: list[tuple[str, Watch | Revoke]]
    # accepted | duplicate | revoked | revoke_repeat | extend | extend_revoked | return, or a
    # dead-letter code: unknown_report | duplicate_report | forbidden
    verdict: str
    message: str = ""  # why, for a dead letter
    case_events: list[CaseEvent] = field(default_factory=list)  # for the report's case


def _same_accounts(a: list[list[Any]], b: list[list[Any]]) -> bool:
    """One report's accounts, in whatever order they were listed."""
    return sorted(map(tuple, a), key=repr) == sorted(map(tuple, b), key=repr)


def _is_placeholder(entry: ReportEntry) -> bool:
    """What an earlier version kept for a revocation of a report it never saw.

    Those were remembered as a revoked report without accounts (no real report has none)
    and silently blocked the real report. A report for such an id is a new report.
    """
    return entry.status == "revoked" and not entry.accounts


def decide(
    existing: ReportEntry | None, report: Report, supervisory: frozenset[str] = frozenset()
) -> RegistryDecision:
    """A report id acts once: the same report again changes nothing, a revocation acts once.

    A revocation, extension or return of a report id never seen is refused (`unknown_report`)
    and remembered nowhere, so it cannot block the real report when it arrives. A report that
    reuses an id with other accounts is refused (`duplicate_report`): the first report stands.
    Only the issuer that filed a report, or one of the `supervisory` issuers, may revoke,
    extend or return it (`forbidden`, changing nothing). An extension or a return goes to the
    report's case, which plans it (core/case_file.py); a repeated one finds nothing new there.
    """
    report_id = report.report_id
    if existing is not None and _is_placeholder(existing):
        existing = None
    if report.action == ReportAction.REPORT:
        accounts = [[account.identifier.key, account.bank_id] for account in report.accounts]
        if existing is None:
            entry = ReportEntry(
                "live", report.fraud_type, report.reported_at, accounts, report.issuer
            )
            lost = report.amount_lost
            events: list[tuple[str, Watch | Revoke]] = [
                (key, Watch(report_id, entry.fraud_type, entry.reported_at, 0, bank_id, lost=lost))
                for key, bank_id in entry.accounts
            ]
            opened = Opened(report.reported_at, report.victims)
            return RegistryDecision(entry, events, "accepted", case_events=[opened])
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
    if not may_act(existing.issuer, report.issuer, supervisory):
        message = (
            f"issuer {report.issuer!r} may not {report.action} report_id {report_id}: "
            "only the issuer that filed it or a supervisory issuer may"
        )
        return RegistryDecision(existing, [], DeadLetterCode.FORBIDDEN, message)
    if report.action == ReportAction.EXTEND:
        if existing.status == "revoked" or report.sanction is None or report.until is None:
            return RegistryDecision(existing, [], "extend_revoked")
        extend = ExtendOrdered(report.sanction, report.until)
        return RegistryDecision(existing, [], "extend", case_events=[extend])
    if report.action == ReportAction.RETURN:
        if report.sanction is None:  # pragma: no cover - the schema requires it
            raise ValueError("a return without a sanction passed intake")
        # Also after a revocation: the case answers that nothing is returned, and says so.
        return RegistryDecision(
            existing, [], "return", case_events=[ReturnOrdered(report.sanction)]
        )
    if existing.status == "revoked":
        return RegistryDecision(existing, [], "revoke_repeat")
    existing.status = "revoked"
    revokes: list[tuple[str, Watch | Revoke]] = [
        (key, Revoke(report_id)) for key, _ in existing.accounts
    ]
    return RegistryDecision(existing, revokes, "revoked", case_events=[Revoked()])
