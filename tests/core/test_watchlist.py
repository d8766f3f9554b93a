"""Watchlist entries derived from matching state (contract: "Watchlist"), and bank-side lookups.

The properties replay the random money graphs of `test_matching_chains` with a publisher
that writes an identifier's entry only when `entry_changed` says so, as the worker does,
and compare what a compacted topic would keep with the accounts live reports reach.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from antifraud.core.identifiers import Identifier, InvalidIdentifier
from antifraud.core.matching import IdentifierState, Revoke, TransferIn, TransferOut, Watch, apply
from antifraud.core.names import WatchlistMarker
from antifraud.core.policy import Policy
from antifraud.core.timestamps import parse_rfc3339
from antifraud.core.watchlist import (
    WatchlistEntry,
    entry_changed,
    entry_record,
    lookup_identifiers,
    parse_entry_value,
    watchlist_entry,
)
from antifraud.schemas import validator
from tests.core import test_matching_chains as chains
from tests.core.strategies import (
    FAST,
    HOUR,
    T0,
    iban_id,
    make_transfer,
    messy_card,
    messy_iban,
    messy_kz_phone,
    phone_id,
    report_watch,
)

POLICY = Policy()
# Fewer random graphs than test_matching_chains runs: the matching itself is tested there.
PUBLISHING = settings(chains.CHAINS, max_examples=60)
FRAUD = phone_id(1_234_567)  # +77011234567
MULE = iban_id("601", 3)
VICTIM = iban_id("722", 1)

# The contract's example entry, field for field.
CONTRACT_ENTRY: dict[str, Any] = {
    "account": {"kind": "phone", "value": "+77011234567"},
    "marker": "reported_account",
    "hop": 0,
    "fraud_types": ["bank_impersonation"],
    "report_ids": ["R-2026-000042"],
    "banks": ["HSBKKZKX"],
    "since": "2026-11-29T09:05:00Z",
    "amount_limit": None,
}


def entry_after(events: list[Any], key: str = FRAUD.key) -> WatchlistEntry | None:
    state = IdentifierState()
    for event in events:
        apply(state, key, event, T0, POLICY)
    return watchlist_entry(key, state)


# ---------------------------------------------------------------------------- examples


def test_a_reported_account_gets_the_contracts_entry() -> None:
    watch = report_watch("R-2026-000042", reported_at=T0 + 300, bank_id="HSBKKZKX")
    entry = entry_after([watch])
    assert entry is not None
    as_json = entry.as_json()
    validator("watchlist_entry")(as_json)
    assert {**as_json, "since": "2026-11-29T09:05:00Z"} == CONTRACT_ENTRY
    assert parse_rfc3339(as_json["since"]) == T0 + 300
    assert as_json["since"].endswith("Z")


def test_the_entry_carries_only_the_contracts_fields() -> None:
    entry = entry_after([report_watch(bank_id="HSBKKZKX")])
    assert entry is not None
    assert set(entry.as_json()) == set(CONTRACT_ENTRY)  # no case number, no victim, no amounts


def test_an_unwatched_account_has_no_entry() -> None:
    transfer = make_transfer("T-1", VICTIM, FRAUD)
    assert entry_after([]) is None
    assert entry_after([TransferIn(transfer)]) is None


def test_a_suspect_is_a_mule_suspect_with_its_hop_and_its_freezes_limit() -> None:
    state = IdentifierState()
    key = MULE.key
    outcomes = [
        apply(state, key, event, T0, POLICY)
        for event in (
            Watch(
                "R-1",
                "fake_investment",
                T0,
                hop=2,
                bank_id="KCJBKZKX",
                transfer_key="A/T-1",
                amount=700,
            ),
            Watch(
                "R-2",
                "other",
                T0 - HOUR,
                hop=1,
                bank_id="KCJBKZKX",
                transfer_key="B/T-2",
                amount=300,
            ),
        )
    ]
    entry = watchlist_entry(key, state)
    assert entry is not None
    validator("watchlist_entry")(entry.as_json())
    assert (entry.marker, entry.hop, entry.amount_limit) == (WatchlistMarker.MULE_SUSPECT, 1, 1000)
    assert entry.fraud_types == ("fake_investment", "other")
    assert entry.report_ids == ("R-1", "R-2")
    assert parse_rfc3339(entry.since) == T0 - HOUR  # the earliest live report
    freezes = [c for o in outcomes for c in o.commands if c["type"] == "freeze_account"]
    assert freezes[-1]["amount_limit"] == entry.amount_limit


def test_a_report_naming_a_suspect_makes_it_a_reported_account_without_a_limit() -> None:
    suspect = Watch("R-1", "other", T0, hop=1, bank_id="KCJBKZKX", transfer_key="A/T-1", amount=700)
    entry = entry_after([suspect, report_watch("R-2")], key=MULE.key)
    assert entry is not None
    assert (entry.marker, entry.hop, entry.amount_limit) == (
        WatchlistMarker.REPORTED_ACCOUNT,
        0,
        None,
    )


def test_revoking_the_only_report_makes_a_tombstone_and_another_report_keeps_it() -> None:
    assert entry_after([report_watch("R-1"), Revoke("R-1")]) is None
    kept = entry_after(
        [report_watch("R-1"), report_watch("R-2", reported_at=T0 + 60), Revoke("R-1")]
    )
    assert kept is not None
    assert kept.report_ids == ("R-2",)
    assert parse_rfc3339(kept.since) == T0 + 60


def test_a_transfer_from_a_new_bank_changes_the_entry() -> None:
    state = IdentifierState()
    apply(state, FRAUD.key, report_watch(bank_id="HSBKKZKX"), T0, POLICY)
    before = watchlist_entry(FRAUD.key, state)
    transfer = make_transfer("T-1", VICTIM, FRAUD, recipient_bank="KCJBKZKX")
    apply(state, FRAUD.key, TransferIn(transfer), T0, POLICY)
    after = watchlist_entry(FRAUD.key, state)
    assert after is not None and after.banks == ("HSBKKZKX", "KCJBKZKX")
    assert entry_changed(before, after)
    # the same transfer again changes nothing, so nothing is written
    apply(state, FRAUD.key, TransferIn(transfer), T0, POLICY)
    assert not entry_changed(after, watchlist_entry(FRAUD.key, state))


def test_entry_changed() -> None:
    entry = entry_after([report_watch(bank_id="HSBKKZKX")])
    assert entry is not None
    assert not entry_changed(None, None)
    assert entry_changed(None, entry) and entry_changed(entry, None)
    assert not entry_changed(entry, dataclasses.replace(entry))
    for field, value in (("hop", 1), ("banks", ()), ("report_ids", ("R-9",)), ("amount_limit", 5)):
        assert entry_changed(entry, dataclasses.replace(entry, **{field: value}))


def test_records_round_trip_and_a_tombstone_has_no_value() -> None:
    entry = entry_after([report_watch(bank_id="HSBKKZKX")])
    assert entry is not None
    key, value = entry_record(FRAUD.key, entry)
    assert key == b"phone:+77011234567"
    assert parse_entry_value(value) == entry
    assert entry_record(FRAUD.key, None) == (key, None)
    assert parse_entry_value(None) is None


def test_unknown_fields_of_a_published_entry_are_ignored() -> None:
    entry = WatchlistEntry.from_json({**CONTRACT_ENTRY, "added_later": {"x": 1}})
    assert entry.as_json() == CONTRACT_ENTRY


# ---------------------------------------------------------------------------- properties


class PublishingNetwork(chains.Network):
    """The chains' network, publishing entries as the worker does: compare, write on change."""

    def __init__(self, policy: Policy) -> None:
        super().__init__(policy)
        self.topic: list[tuple[str, WatchlistEntry | None]] = []

    def step(self) -> None:
        key = self.queue[0][0]
        state = self.states.get(key)
        before = None if state is None else watchlist_entry(key, state)
        super().step()
        after = watchlist_entry(key, self.states[key])
        if entry_changed(before, after):
            self.topic.append((key, after))

    def compacted(self) -> dict[str, WatchlistEntry]:
        """What a replica that read the topic from the beginning holds."""
        latest: dict[str, WatchlistEntry | None] = {}
        for key, entry in self.topic:
            latest[key] = entry
        return {key: entry for key, entry in latest.items() if entry is not None}


def play_publishing(scenario: chains.Scenario) -> tuple[PublishingNetwork, set[str]]:
    """`chains.play` on a publishing network."""
    network = PublishingNetwork(chains.policy_for(scenario))
    live: set[str] = set()
    for (kind, index), drain in zip(scenario.order, scenario.drains, strict=True):
        if kind == "transfer":
            network.transfer(scenario.transfers[index])
        else:
            spec = scenario.reports[index]
            if kind == "report":
                if network.report(chains.report_body(spec, scenario.accounts)) == "accepted":
                    live.add(spec.report_id)
            else:
                network.report(chains.revoke_body(spec))
                live.discard(spec.report_id)
        network.drain(drain)
    network.drain()
    return network, live


@PUBLISHING
@given(chains.scenarios())
def test_the_compacted_topic_lists_exactly_the_accounts_live_reports_reach(
    scenario: chains.Scenario,
) -> None:
    network, live = play_publishing(scenario)
    last: dict[str, WatchlistEntry | None] = {}
    for key, written in network.topic:
        assert entry_changed(last.get(key), written)  # no record repeats the one before it
        last[key] = written
    expected = chains.expected_supports(scenario, live)
    listed = network.compacted()
    assert set(listed) == set(expected)
    fraud_types = {spec.report_id: spec.fraud_type for spec in scenario.reports}
    for key, entry in listed.items():
        validator("watchlist_entry")(entry.as_json())
        hop = min(expected[key].values())
        assert entry.account == Identifier.from_key(key)
        assert entry.hop == hop
        assert entry.marker == (
            WatchlistMarker.REPORTED_ACCOUNT if hop == 0 else WatchlistMarker.MULE_SUSPECT
        )
        assert entry.report_ids == tuple(sorted(expected[key]))
        assert entry.fraud_types == tuple(sorted({fraud_types[r] for r in expected[key]}))
        assert (entry.amount_limit is None) == (hop == 0)
        assert entry == watchlist_entry(key, network.states[key])


@PUBLISHING
@given(chains.scenarios(revocations=False))
def test_a_suspects_limit_is_the_one_its_freezes_carry(scenario: chains.Scenario) -> None:
    """Without revocations the tainted money a suspect received only grows, and each growth
    issues a freeze with the new limit: the highest limit in force is the entry's."""
    network, _ = play_publishing(scenario)
    for key, entry in network.compacted().items():
        limits = [
            network.issued[c.command_id].get("amount_limit")
            for c in network.states[key].commands.values()
            if c.type == "freeze_account"
        ]
        if entry.marker == WatchlistMarker.MULE_SUSPECT and limits:
            assert max(limit or 0 for limit in limits) == entry.amount_limit


@FAST
@given(st.sampled_from(["R-1", "R-2"]), st.integers(0, 3), st.data())
def test_the_entry_is_a_function_of_the_state_alone(
    report_id: str, hop: int, data: st.DataObject
) -> None:
    """Replaying an event (a restart before the offset commit) never changes the entry again."""
    events = data.draw(
        st.lists(
            st.sampled_from(
                [
                    report_watch("R-1", bank_id="HSBKKZKX"),
                    Watch(
                        "R-2",
                        "other",
                        T0,
                        hop=hop,
                        bank_id="KCJBKZKX",
                        transfer_key="A/T-1",
                        amount=500,
                    ),
                    Revoke(report_id),
                    TransferIn(make_transfer("T-1", VICTIM, FRAUD, recipient_bank="IRTYKZKA")),
                    TransferOut(make_transfer("T-2", FRAUD, MULE)),
                ]
            ),
            max_size=8,
        )
    )
    state = IdentifierState()
    for event in events:
        apply(state, FRAUD.key, event, T0, POLICY)
        before = watchlist_entry(FRAUD.key, state)
        apply(state, FRAUD.key, event, T0, POLICY)  # the same event once more
        assert not entry_changed(before, watchlist_entry(FRAUD.key, state))


# ---------------------------------------------------------------------------- lookups


@FAST
@given(messy_kz_phone())
def test_any_way_of_writing_a_phone_looks_up_its_e164(case: tuple[str, str]) -> None:
    written, e164 = case
    assert Identifier("phone", e164) in lookup_identifiers(written)
    assert lookup_identifiers(written, "phone") == [Identifier("phone", e164)]


@FAST
@given(messy_iban())
def test_any_way_of_writing_an_iban_looks_up_that_iban_only(case: tuple[str, str]) -> None:
    written, iban = case
    assert lookup_identifiers(written) == [Identifier("iban", iban)]
    assert lookup_identifiers(f"iban:{written}") == [Identifier("iban", iban)]


@FAST
@given(messy_card())
def test_any_way_of_writing_a_card_looks_up_that_card(case: tuple[str, str]) -> None:
    written, card = case
    assert Identifier("card", card) in lookup_identifiers(written)
    assert lookup_identifiers(written, "card") == [Identifier("card", card)]


@pytest.mark.parametrize(
    "written",
    ["8 701 123 45 67", "87011234567", "7011234567", "+7 (701) 123-45-67", "phone:+77011234567"],
)
def test_the_contracts_phone_forms_look_up_one_key(written: str) -> None:
    assert [i.key for i in lookup_identifiers(written)] == ["phone:+77011234567"]


@pytest.mark.parametrize(
    "written", ["", "hello", "KZ86125KZT5004100101", "4111 1111 1111 1112", "card:123"]
)
def test_what_no_check_accepts_is_invalid(written: str) -> None:
    with pytest.raises(InvalidIdentifier):
        lookup_identifiers(written)


def test_a_given_kind_is_checked_as_that_kind_only() -> None:
    with pytest.raises(InvalidIdentifier):
        lookup_identifiers("87011234567", "iban")
    assert lookup_identifiers("kz86 125k zt50 0410 0100", "iban") == [
        Identifier("iban", "KZ86125KZT5004100100")
    ]
