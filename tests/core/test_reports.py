"""The report registry: a report acts once, a revocation acts once, in whatever order they come."""

from __future__ import annotations

from typing import Any

from antifraud.core.identifiers import Identifier
from antifraud.core.matching import Revoke, Watch
from antifraud.core.records import Report, ReportedAccount
from antifraud.core.reports import ReportEntry, decide
from tests.core.strategies import T0

ACCOUNTS: list[list[Any]] = [
    ["phone:+77011234567", None],
    ["iban:KZ86125KZT5004100100", "HSBKKZKX"],
]


def report(
    report_id: str = "R-1",
    fraud_type: str = "bank_impersonation",
    accounts: list[list[Any]] = ACCOUNTS,
) -> Report:
    named = tuple(ReportedAccount(Identifier.from_key(key), bank) for key, bank in accounts)
    return Report(report_id, "report", fraud_type, T0, "DEP-ALMATY", "C-1", named)


def revocation(report_id: str = "R-1") -> Report:
    return Report(report_id, "revoke", "other", T0 + 3600, "DEP-ALMATY", "C-1", ())


def test_a_new_report_watches_every_account_at_hop_zero() -> None:
    decision = decide(None, report())
    assert decision.verdict == "accepted"
    assert decision.entry == ReportEntry("live", "bank_impersonation", T0, ACCOUNTS)
    assert decision.events == [
        ("phone:+77011234567", Watch("R-1", "bank_impersonation", T0, hop=0, bank_id=None)),
        (
            "iban:KZ86125KZT5004100100",
            Watch("R-1", "bank_impersonation", T0, hop=0, bank_id="HSBKKZKX"),
        ),
    ]


def test_a_replayed_report_changes_nothing() -> None:
    entry = decide(None, report()).entry
    again = decide(entry, report(fraud_type="other", accounts=[["phone:+77010000000", None]]))
    assert again.verdict == "duplicate" and again.events == []
    assert again.entry is entry and entry is not None and entry.accounts == ACCOUNTS


def test_a_revocation_revokes_every_account_once() -> None:
    entry = decide(None, report()).entry
    decision = decide(entry, revocation())
    assert decision.verdict == "revoked"
    assert decision.events == [
        ("phone:+77011234567", Revoke("R-1")),
        ("iban:KZ86125KZT5004100100", Revoke("R-1")),
    ]
    assert decision.entry is not None and decision.entry.status == "revoked"
    repeat = decide(decision.entry, revocation())
    assert (repeat.verdict, repeat.events) == ("revoke_repeat", [])


def test_a_report_after_its_revocation_is_not_acted_on() -> None:
    early = decide(None, revocation())
    assert early.verdict == "revoke_unknown" and early.events == []
    assert early.entry is not None and early.entry.status == "revoked"
    late = decide(early.entry, report())
    assert late.verdict == "duplicate" and late.events == []
    assert decide(late.entry, revocation()).verdict == "revoke_repeat"


def test_a_re_report_after_revocation_is_a_duplicate() -> None:
    entry = decide(None, report()).entry
    revoked = decide(entry, revocation()).entry
    assert decide(revoked, report()).verdict == "duplicate"
