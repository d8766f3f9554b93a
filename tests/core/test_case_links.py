"""Links from matching to the cases: each hold and freeze names the live reports behind it."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from antifraud.core.case_links import CaseLink
from antifraud.core.matching import Event, IdentifierState, Revoke, TransferIn, Watch, apply
from antifraud.core.policy import Policy
from tests.core.strategies import FAST, T0, iban_id, make_transfer, phone_id

POLICY = Policy()
KEY = phone_id(1).key
SENDER = iban_id("722", 7)


def run(state: IdentifierState, *events: Event, key: str = KEY) -> list[CaseLink]:
    links: list[CaseLink] = []
    for n, event in enumerate(events):
        links += apply(state, key, event, T0 + n, POLICY).links
    return links


def watch(report_id: str, hop: int = 0, **extra: object) -> Watch:
    return Watch(report_id, "bank_impersonation", T0, hop, "HSBKKZKX", **extra)  # type: ignore[arg-type]


def test_a_report_links_its_holds_with_their_sender_and_its_freeze_with_its_weight() -> None:
    to_it = make_transfer("T-1", SENDER, phone_id(1), created_at=T0 - 60)
    links = run(IdentifierState(), TransferIn(to_it), watch("R-1", lost=30_000_000))
    assert all(link.command is not None and link.reports == ("R-1",) for link in links)
    holds = [link for link in links if link.command and link.command["type"] == "hold_transfer"]
    assert sorted(h.command["bank_id"] for h in holds if h.command) == ["CASPKZKA", "HSBKKZKX"]
    assert {h.sender for h in holds} == {(SENDER.key, "CASPKZKA")}
    (freeze,) = [link for link in links if link not in holds]
    assert freeze.tainted == {"R-1": 30_000_000} and freeze.via is None


def test_a_report_that_joins_later_is_linked_to_the_commands_already_there() -> None:
    state = IdentifierState()
    to_it = make_transfer("T-1", SENDER, phone_id(1), created_at=T0 - 60)
    first = run(state, TransferIn(to_it), watch("R-1", lost=100))
    second = run(state, watch("R-2", lost=300))
    assert {link.command_id for link in second} == {link.command_id for link in first}
    assert all(link.command is None and link.reports == ("R-1", "R-2") for link in second)
    weights = [link.tainted for link in second if link.tainted]
    assert weights == [{"R-1": 100, "R-2": 300}]  # the freeze only
    # The same report again changes nothing: no link.
    assert run(state, watch("R-2", lost=300)) == []


def test_a_suspect_freeze_is_weighed_by_tainted_inflows_and_names_its_upstream() -> None:
    state, upstream = IdentifierState(), iban_id("601", 9).key
    tainted = watch("R-1", hop=1, via=upstream, transfer_key="CASPKZKA/T-9", amount=700)
    (freeze,) = run(state, tainted)
    assert freeze.via == upstream and freeze.tainted == {"R-1": 700}
    more = watch("R-1", hop=1, via=upstream, transfer_key="CASPKZKA/T-10", amount=300)
    links = run(state, more)
    # A larger bound is a new freeze (its own link); the old one's weight is updated too.
    assert {link.tainted["R-1"] for link in links} == {1000}


def test_a_revocation_leaves_the_remaining_report_alone_or_releases_everything() -> None:
    state = IdentifierState()
    to_it = make_transfer("T-1", SENDER, phone_id(1), created_at=T0 - 60)
    run(state, TransferIn(to_it), watch("R-1"), watch("R-2"))
    after_one = run(state, Revoke("R-1"))
    assert after_one and all(link.reports == ("R-2",) for link in after_one)
    assert run(state, Revoke("R-2")) == []  # released: no case needs to hear of them again


reports = st.sampled_from(["R-1", "R-2", "R-3"])
steps = st.lists(
    st.one_of(
        st.builds(lambda r, lost: watch(r, lost=lost), reports, st.integers(0, 1_000)),
        reports.map(Revoke),
        st.integers(1, 5).map(
            lambda n: TransferIn(
                make_transfer(f"T-{n}", iban_id("722", n), phone_id(1), created_at=T0 - 60)
            )
        ),
    ),
    max_size=12,
)


@FAST
@given(steps)
def test_the_last_link_of_every_live_command_names_its_live_reports(events: list[Event]) -> None:
    state = IdentifierState()
    last: dict[str, CaseLink] = {}
    for link in run(state, *events):
        last[link.command_id] = link
    for command_id, active in state.commands.items():
        link = last[command_id]
        assert link.reports == tuple(sorted(state.supports))
        if active.type == "freeze_account":
            assert link.tainted == {r: s.tainted for r, s in state.supports.items()}
