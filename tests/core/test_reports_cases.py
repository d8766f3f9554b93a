"""The registry and the cases: extensions and returns go to the report's case, and only the
unit that filed a report, or a supervisory one, may revoke, extend or return it."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from antifraud.core.case_file import ExtendOrdered, Opened, ReturnOrdered, Revoked
from antifraud.core.cases import Sanction, Victim
from antifraud.core.identifiers import Identifier
from antifraud.core.matching import Revoke, Watch
from antifraud.core.records import Report, ReportedAccount
from antifraud.core.reports import REJECTED_VERDICTS, ReportEntry, decide
from tests.core.strategies import FAST, T0

SANCTION = Sanction("Almaty city prosecutor", "SK-2026-7781", "2026-12-03T10:00:00+05:00")
PHONE = Identifier("phone", "+77011234567")
VICTIMS = (
    Victim(Identifier("iban", "KZ86125KZT5004100100"), "CASPKZKA", 20_000_000),
    Victim(Identifier("phone", "+77017654321"), "HSBKKZKX", 10_000_000),
)
FILED = Report(
    "R-1", "report", "bank_impersonation", T0, "ALM-PD-CYBER", "C-1",
    (ReportedAccount(PHONE, "HSBKKZKX"),), VICTIMS,
)  # fmt: skip


def act(action: str, issuer: str = "ALM-PD-CYBER") -> Report:
    until = T0 + 30 * 86400 if action == "extend" else None
    sanction = SANCTION if action in ("extend", "return") else None
    return Report("R-1", action, "other", T0 + 60, issuer, "", (), (), sanction, until)


def filed_entry() -> ReportEntry:
    entry = decide(None, FILED).entry
    assert entry is not None
    return entry


def test_a_report_opens_its_case_with_its_victims_and_weighs_its_accounts() -> None:
    decision = decide(None, FILED)
    assert decision.case_events == [Opened(T0, VICTIMS)]
    assert decision.entry is not None and decision.entry.issuer == "ALM-PD-CYBER"
    (_, watch), = decision.events  # fmt: skip
    assert isinstance(watch, Watch) and watch.lost == 30_000_000


def test_extend_and_return_go_to_the_case_and_change_no_account() -> None:
    extend = decide(filed_entry(), act("extend"))
    assert (extend.verdict, extend.events) == ("extend", [])
    assert extend.case_events == [ExtendOrdered(SANCTION, T0 + 30 * 86400)]
    ret = decide(filed_entry(), act("return"))
    assert (ret.verdict, ret.events, ret.case_events) == ("return", [], [ReturnOrdered(SANCTION)])
    assert ret.entry is not None and ret.entry.status == "live"


def test_after_a_revocation_an_extension_does_nothing_and_a_return_is_answered_by_the_case() -> (
    None
):
    entry = filed_entry()
    revoked = decide(entry, act("revoke"))
    assert revoked.case_events == [Revoked()] and revoked.events == [(PHONE.key, Revoke("R-1"))]
    assert decide(entry, act("extend")).case_events == []
    # The case answers "revoked": nothing is returned, and its status says so.
    assert decide(entry, act("return")).case_events == [ReturnOrdered(SANCTION)]


def test_another_unit_is_forbidden_and_changes_nothing() -> None:
    for action in ("revoke", "extend", "return"):
        entry = filed_entry()
        decision = decide(entry, act(action, "AST-PD-CYBER"))
        assert decision.verdict == "forbidden" and decision.verdict in REJECTED_VERDICTS
        assert (decision.events, decision.case_events) == ([], [])
        assert entry.status == "live"
        assert f"may not {action} report_id R-1" in decision.message


def test_a_supervisory_issuer_may_act_on_any_report() -> None:
    supervisors = frozenset({"GP-RK"})
    decision = decide(filed_entry(), act("revoke", "GP-RK"), supervisors)
    assert decision.verdict == "revoked"


def test_a_report_recorded_before_issuers_were_kept_is_left_to_supervisors() -> None:
    old = replace(filed_entry(), issuer=None)
    assert decide(old, act("revoke")).verdict == "forbidden"
    assert decide(old, act("return", "GP-RK"), frozenset({"GP-RK"})).verdict == "return"


def test_nothing_can_act_on_a_report_never_seen() -> None:
    for action in ("revoke", "extend", "return"):
        decision = decide(None, act(action))
        assert decision.verdict == "unknown_report" and decision.entry is None
        assert decision.case_events == []


issuers = st.sampled_from(["ALM-PD-CYBER", "AST-PD-CYBER", "GP-RK", ""])


@FAST
@given(
    acting=issuers,
    action=st.sampled_from(["revoke", "extend", "return"]),
    supervisory=st.frozensets(issuers),
)
def test_only_the_filer_or_a_supervisor_ever_reaches_the_accounts_or_the_case(
    acting: str, action: str, supervisory: frozenset[str]
) -> None:
    decision = decide(filed_entry(), act(action, acting), supervisory)
    allowed = acting == "ALM-PD-CYBER" or acting in supervisory
    assert (decision.verdict != "forbidden") == allowed
    if not allowed:
        assert not decision.events and not decision.case_events
