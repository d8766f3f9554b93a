"""The cases' internal formats (antifraud.core.case_serde): every value survives its bytes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from antifraud.core.case_file import (
    CaseEvent,
    CaseFile,
    ExtendOrdered,
    MoneyChanged,
    Opened,
    ReturnOrdered,
    Revoked,
    Tick,
)
from antifraud.core.case_links import CaseLink
from antifraud.core.case_serde import (
    dump_case,
    dump_case_event,
    dump_money,
    dump_money_event,
    load_case,
    load_case_event,
    load_money,
    load_money_event,
)
from antifraud.core.cases import BankAck, IssuedReturn, Sanction, Victim
from antifraud.core.held_money import Acked, Derive, HeldMoney, Linked, MoneyEvent
from tests.core.case_builders import freeze, hold
from tests.core.strategies import QUICK, amounts, banks, hex_ids, identifiers, short_text

acks = st.builds(
    BankAck,
    st.sampled_from(["applied", "too_late", "returned", "failed"]),
    st.none() | amounts,
    st.none() | amounts,
)
lifetimes = st.just(float("inf")) | st.floats(0, 4e9)
commands = st.one_of(
    st.builds(
        lambda t, a, e, v: hold(t, amount=a, expires_at=e, via=v),
        short_text,
        amounts,
        lifetimes,
        st.none() | short_text,
    ),
    st.builds(
        lambda w, e, v: freeze(tainted=w, expires_at=e, via=v, hop=1),
        st.dictionaries(short_text, amounts, max_size=3),
        lifetimes,
        st.none() | short_text,
    ),
)
returns = st.builds(
    IssuedReturn,
    hex_ids,
    hex_ids,
    short_text,
    identifiers.map(lambda i: i.key),
    amounts,
    st.none() | short_text,
    st.none() | acks,
)
money = st.builds(
    HeldMoney,
    command=st.none() | commands,
    reports=st.lists(short_text, max_size=3),
    tainted=st.dictionaries(short_text, amounts, max_size=3),
    ack=st.none() | acks,
    returns=st.lists(returns, max_size=3),
    extended_until=st.none() | st.floats(0, 4e9),
    extends=st.lists(hex_ids, max_size=2),
    version=st.integers(0, 10**6),
    released=st.none() | hex_ids,
)
sanctions = st.builds(Sanction, short_text, short_text, st.just("2026-12-03T10:00:00+05:00"))
victims = st.builds(Victim, identifiers, banks, amounts, st.sampled_from(["KZT", "USD"]))
links = st.builds(
    CaseLink,
    hex_ids,
    st.lists(short_text, max_size=3).map(tuple),
    st.dictionaries(short_text, amounts, max_size=2),
    st.none() | st.just({"command_id": "ab", "type": "freeze_account"}),
    st.none() | st.tuples(identifiers.map(lambda i: i.key), banks),
    st.none() | short_text,
)
money_events: st.SearchStrategy[MoneyEvent] = st.one_of(
    links.map(Linked),
    st.builds(Acked, hex_ids, acks),
    st.just(Derive({"command_id": "ab", "type": "extend", "expires_at": "2026-12-31T00:00:00Z"})),
)
case_events: st.SearchStrategy[CaseEvent] = st.one_of(
    st.builds(Opened, st.floats(0, 4e9), st.lists(victims, max_size=3).map(tuple)),
    st.just(Revoked()),
    st.builds(ExtendOrdered, sanctions, st.floats(0, 4e9)),
    st.builds(ReturnOrdered, sanctions),
    st.builds(MoneyChanged, hex_ids, money),
    st.just(Tick()),
)
cases = st.builds(
    CaseFile,
    report_id=short_text,
    reported_at=st.none() | st.floats(0, 4e9),
    victims=st.lists(victims, max_size=3),
    revoked=st.booleans(),
    return_verdict=st.none() | st.sampled_from(["issued", "nothing_yet"]),
    money=st.dictionaries(hex_ids, money, max_size=3),
    status=st.none() | st.just({"status": "holding", "totals": {"accounts": 1}}),
    returned_seen=st.lists(hex_ids, max_size=2),
)


@QUICK
@given(money)
def test_money_views_round_trip(value: HeldMoney) -> None:
    assert load_money(dump_money(value)) == value


@QUICK
@given(money_events)
def test_money_events_round_trip(event: MoneyEvent) -> None:
    assert load_money_event(dump_money_event(event)) == event


@QUICK
@given(case_events)
def test_case_events_round_trip(event: CaseEvent) -> None:
    assert load_case_event(dump_case_event(event)) == event


@QUICK
@given(cases)
def test_case_files_round_trip(case: CaseFile) -> None:
    assert load_case(dump_case(case), case.report_id) == case


def test_missing_rows_are_fresh_and_unknown_kinds_are_errors() -> None:
    assert load_money(None) == HeldMoney()
    assert load_case(None, "R-1") == CaseFile("R-1")
    with pytest.raises(ValueError, match="money event"):
        load_money_event(b'{"e":"teleport"}')
    with pytest.raises(ValueError, match="case event"):
        load_case_event(b'{"e":"teleport"}')
