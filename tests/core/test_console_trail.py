"""The money trail's graph: every account once, each edge from where its money came from."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from antifraud.core.console_trail import (
    ESCAPED,
    HELD,
    RETURNED,
    TRACKING,
    VICTIMS,
    build_trail,
    state_of,
)
from antifraud.core.identifiers import mask

FAST = settings(max_examples=80, deadline=None)


def entry(value: str, hop: int, via: str | None, **amounts: int) -> dict[str, Any]:
    return {
        "account": {"kind": "phone", "value": value},
        "hop": hop,
        "via": via,
        "banks": ["HSBKKZKX"],
        "holds": 0,
        "freezes": 1,
        "amount_held": amounts.get("held", 0),
        "amount_escaped": amounts.get("escaped", 0),
        "amount_returned": amounts.get("returned", 0),
        "expires_at": None,
    }


# A trail as the platform follows it: some reported accounts, each suspect's `via` one of the
# accounts before it or (rarely) an account the case does not list.
@st.composite
def chains(draw: st.DrawFn) -> list[dict[str, Any]]:
    count = draw(st.integers(1, 8))
    accounts: list[dict[str, Any]] = []
    for n in range(count):
        value = f"+7701{n:07d}"
        if n == 0 or draw(st.integers(0, 4)) == 0:  # another reported account
            accounts.append(entry(value, 0, None))
            continue
        upstream = draw(st.sampled_from([*accounts, None]))
        if upstream is None:
            accounts.append(entry(value, draw(st.integers(1, 3)), "phone:+77999999999"))
        else:
            via = f"phone:{upstream['account']['value']}"
            accounts.append(entry(value, upstream["hop"] + 1, via))
    repeated = draw(st.lists(st.sampled_from(accounts), max_size=2))
    return accounts + repeated


@FAST
@given(chains())
def test_every_account_once_and_every_edge_from_its_upstream_or_the_victims(
    accounts: list[dict[str, Any]],
) -> None:
    trail = build_trail({"accounts": accounts}, [], {}, mask)
    keys = [node.key for node in trail.nodes]
    assert sorted(keys) == sorted({f"phone:{a['account']['value']}" for a in accounts})
    by_id = {node.node_id: node for node in trail.nodes}
    assert sorted(edge.target for edge in trail.edges) == sorted(by_id)
    for edge in trail.edges:
        target = by_id[edge.target]
        if edge.source == VICTIMS:
            continue
        assert target.hop >= 1
        assert by_id[edge.source].hop < target.hop  # money flows one way, left to right
    for node in trail.nodes:
        assert node.shown.endswith(node.key[-4:]) and "+7701" not in node.shown  # masked


def test_victims_and_amounts_are_carried_masked() -> None:
    accounts = [
        entry("+77011234567", 0, None, held=5),
        entry("+77017654321", 1, "phone:+77011234567"),
    ]
    victims = [{"account": {"kind": "iban", "value": "KZ86125KZT5004100100", "bank_id": "CASPKZKA"},
                "amount_lost": 300}]  # fmt: skip
    amounts = {"phone:+77011234567": 1000, "phone:+77017654321": 600}
    trail = build_trail({"accounts": accounts}, victims, amounts, mask)
    assert trail.victims == (("iban ****************0100", "CASPKZKA", 300),)
    assert [(e.source, e.amount) for e in trail.edges] == [(VICTIMS, 1000), ("a0", 600)]


def test_state_is_the_first_that_applies() -> None:
    assert state_of(entry("1", 0, None, returned=1, held=1)) == RETURNED
    assert state_of(entry("1", 0, None, held=1, escaped=1)) == HELD
    assert state_of(entry("1", 0, None, escaped=1)) == ESCAPED
    assert state_of(entry("1", 0, None)) == TRACKING
