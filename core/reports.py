"""The report registry's decisions: what a report or a revocation does, once per report id."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from antifraud.core.matching import Revoke, Watch
from antifraud.core.names import ReportAction
from antifraud.core.records import Report


@dataclass(slots=True)
class ReportEntry:
    status: str  # "live" | "revoked"
    fraud_type: str
    reported_at: float
    accounts: list[list[Any]] = field(default_factory=list)  # [identifier key, bank_id | None]


@dataclass(slots=True)
class RegistryDecision:
    entry: ReportEntry | None
    # (identifier key, event) pairs for the identifier-keyed stream
    events: list[tuple[str, Watch | Revoke]]
    verdict: str  # accepted | duplicate | revoked | revoke_unknown | revoke_repeat


def decide(existing: ReportEntry | None, report: Report) -> RegistryDecision:
    """A report id acts once: a replayed report changes nothing, a revocation acts once.

    A revocation that arrives before its report (police systems do not promise
    order) is remembered, so the late report is not acted on.
    """
    report_id = report.report_id
    if report.action == ReportAction.REPORT:
        if existing is not None:
            return RegistryDecision(existing, [], "duplicate")
        accounts = [[account.identifier.key, account.bank_id] for account in report.accounts]
        entry = ReportEntry("live", report.fraud_type, report.reported_at, accounts)
        events: list[tuple[str, Watch | Revoke]] = [
            (key, Watch(report_id, entry.fraud_type, entry.reported_at, hop=0, bank_id=bank_id))
            for key, bank_id in entry.accounts
        ]
        return RegistryDecision(entry, events, "accepted")
    if existing is None:
        tombstone = ReportEntry("revoked", report.fraud_type, report.reported_at, [])
        return RegistryDecision(tombstone, [], "revoke_unknown")
    if existing.status == "revoked":
        return RegistryDecision(existing, [], "revoke_repeat")
    existing.status = "revoked"
    revokes: list[tuple[str, Watch | Revoke]] = [
        (key, Revoke(report_id)) for key, _ in existing.accounts
    ]
    return RegistryDecision(existing, revokes, "revoked")
