"""The report registry: a report acts once, a revocation acts once, in whatever order they come."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from antifraud.core.identifiers import Identifier
from antifraud.core.matching import Revoke, Watch
from antifraud.core.records import Report, ReportedAccount
from antifraud.core.reports import REJECTED_VERDICTS, ReportEntry, decide
from tests.core.strategies import FAST, T0

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
    assert decision.entry == ReportEntry("live", "bank_impersonation", T0, ACCOUNTS, "DEP-ALMATY")
    assert decision.events == [
        ("phone:+77011234567", Watch("R-1", "bank_impersonation", T0, hop=0, bank_id=None)),
        (
            "iban:KZ86125KZT5004100100",
            Watch("R-1", "bank_impersonation", T0, hop=0, bank_id="HSBKKZKX"),
        ),
    ]


def test_the_same_report_again_changes_nothing() -> None:
    entry = decide(None, report()).entry
    # The same accounts, in another order and with another fraud type: the same report.
    again = decide(entry, report(fraud_type="other", accounts=list(reversed(ACCOUNTS))))
    assert again.verdict == "duplicate" and again.events == []
    assert again.entry is entry and entry is not None and entry.accounts == ACCOUNTS


@pytest.mark.parametrize(
    "accounts",
    [
        [["phone:+77010000000", None]],
        ACCOUNTS[:1],
        [*ACCOUNTS, ["phone:+77010000000", None]],
        [ACCOUNTS[0], ["iban:KZ86125KZT5004100100", "TSESKZKX"]],  # another bank named
    ],
)
def test_a_reused_report_id_with_other_accounts_is_a_duplicate_report(
    accounts: list[list[Any]],
) -> None:
    entry = decide(None, report()).entry
    reused = decide(entry, report(accounts=accounts))
    assert reused.verdict == "duplicate_report" and reused.events == []
    assert "R-1" in reused.message
    assert reused.entry is entry and entry is not None and entry.accounts == ACCOUNTS
    assert reused.verdict in REJECTED_VERDICTS


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


def test_a_revocation_of_a_report_never_seen_is_refused_and_remembered_nowhere() -> None:
    early = decide(None, revocation())
    assert early.verdict == "unknown_report" and early.events == []
    assert early.entry is None and early.verdict in REJECTED_VERDICTS
    # ...so the real report, arriving later, is acted on (it used to be ignored).
    late = decide(early.entry, report())
    assert late.verdict == "accepted" and len(late.events) == 2


def test_a_placeholder_kept_by_an_earlier_version_does_not_block_the_report() -> None:
    placeholder = ReportEntry("revoked", "other", T0 + 3600, [])
    assert decide(placeholder, report()).verdict == "accepted"
    assert decide(placeholder, revocation()).verdict == "unknown_report"


def test_a_re_report_after_revocation_is_a_duplicate() -> None:
    entry = decide(None, report()).entry
    revoked = decide(entry, revocation()).entry
    assert decide(revoked, report()).verdict == "duplicate"


@FAST
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["R-1", "R-2"]),
            st.sampled_from(["report", "revoke"]),
            st.sampled_from([0, 1, 2]),
        ),
        max_size=12,
    )
)
def test_each_report_id_acts_at_most_twice_whatever_arrives(
    actions: list[tuple[str, str, int]],
) -> None:
    """Once as a report (its first), once as a revocation (after it); the rest refused or
    ignored, and nothing is remembered of a refused record."""
    account_sets = [ACCOUNTS, ACCOUNTS[:1], [["card:4111111111111111", None]]]
    registry: dict[str, ReportEntry] = {}
    first: dict[str, int] = {}
    revoked: set[str] = set()
    for report_id, action, which in actions:
        record = (
            report(report_id, accounts=account_sets[which])
            if action == "report"
            else revocation(report_id)
        )
        decision = decide(registry.get(report_id), record)
        if action == "report" and report_id not in first:
            expected = "accepted"
            first[report_id] = which
        elif action == "report":
            expected = "duplicate" if first[report_id] == which else "duplicate_report"
        elif report_id not in first:
            expected = "unknown_report"
        elif report_id in revoked:
            expected = "revoke_repeat"
        else:
            expected = "revoked"
            revoked.add(report_id)
        assert decision.verdict == expected
        assert bool(decision.events) == (expected in {"accepted", "revoked"})
        if expected == "unknown_report":
            assert decision.entry is None and report_id not in registry
        if decision.entry is not None and expected not in REJECTED_VERDICTS:
            registry[report_id] = decision.entry
