"""Identifier events, bundles and identifier state (antifraud.core.serde): every value survives
its trip through bytes unchanged, and a reloaded state decides as the original did.

The other internal formats: tests/core/test_serde_registry_ledger.py."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from antifraud.core.followed import Followed
from antifraud.core.identifiers import Identifier
from antifraud.core.matching import (
    ActiveCommand,
    Event,
    IdentifierState,
    Support,
    apply,
)
from antifraud.core.policy import Policy
from antifraud.core.records import Transfer
from antifraud.core.serde import (
    StateRow,
    dump_bundle,
    dump_bundle_item,
    dump_event,
    dump_state,
    dump_state_within,
    load_bundle,
    load_event,
    load_state,
)
from antifraud.core.transfer_rows import TransferRows
from tests.core.strategies import (
    FAST,
    QUICK,
    T0,
    amounts,
    banks,
    events,
    hex_ids,
    identifiers,
    short_text,
    timestamps,
    transfers,
)


@st.composite
def states(draw: st.DrawFn) -> IdentifierState:
    supports = {}
    for report_id in draw(st.lists(short_text, max_size=3, unique=True)):
        supports[report_id] = Support(
            report_id,
            draw(st.sampled_from(["bank_impersonation", "other"])),
            draw(timestamps),
            draw(st.integers(0, 5)),
            draw(st.dictionaries(short_text, amounts, max_size=3)),
            inflows_forgotten=draw(st.just(0) | amounts),
            via=draw(st.none() | identifiers.map(lambda i: i.key)),
            lost=draw(st.just(0) | amounts),
        )
    commands = {}
    for command_id in draw(st.lists(hex_ids, max_size=4, unique=True)):
        transfer = draw(
            st.none() | st.fixed_dictionaries({"bank_id": banks, "transfer_id": short_text})
        )
        commands[command_id] = ActiveCommand(
            command_id,
            "freeze_account" if transfer is None else "hold_transfer",
            draw(banks),
            draw(st.integers(0, 5)),
            transfer,
            draw(st.none() | timestamps),
        )
    inflight = TransferRows(draw(st.lists(transfers, max_size=3)))
    outflows = TransferRows(draw(st.lists(transfers, max_size=3)))
    return IdentifierState(
        banks=sorted(draw(st.sets(banks, max_size=3))),
        supports=supports,
        inflight=inflight,
        outflows=outflows,
        commands=commands,
        spread=draw(st.dictionaries(short_text, followed_money(), max_size=2)),
        epoch=draw(st.integers(min_value=0, max_value=1000)),
        tainted_forgotten=draw(st.just(0) | amounts),
    )


@st.composite
def followed_money(draw: st.DrawFn) -> Followed:
    keys = identifiers.map(lambda i: i.key)
    # A transfer id may hold "|" too: the hop is after the last one, the recipient before the first.
    markers = st.tuples(keys, banks, short_text | st.just("odd|id")).map(
        lambda m: f"{m[0]}|{m[1]}/{m[2]}"
    )
    return Followed(
        draw(st.dictionaries(markers, st.integers(1, 5), max_size=3)),
        dict.fromkeys(draw(st.lists(keys, max_size=2))),
    )


@FAST
@given(events)
def test_events_round_trip(event: Event) -> None:
    assert load_event(dump_event(event)) == event


@QUICK
@given(states())
def test_states_round_trip(state: IdentifierState) -> None:
    raw = dump_state(state)
    assert load_state(raw) == state
    assert dump_state(load_state(raw)) == raw


def test_a_command_row_written_before_expires_at_was_kept_still_loads() -> None:
    state = IdentifierState(banks=["HSBKKZKX"])
    state.commands["ab" * 16] = ActiveCommand("ab" * 16, "freeze_account", "HSBKKZKX", 0, None, T0)
    rows = orjson.loads(dump_state(state))
    rows["c"] = [row[:5] for row in rows["c"]]
    assert load_state(orjson.dumps(rows)).commands["ab" * 16].expires_at is None


def test_missing_state_is_a_fresh_state() -> None:
    assert load_state(None) == IdentifierState()
    assert load_state(b"") == IdentifierState()
    assert load_state(dump_state(IdentifierState())) == IdentifierState()


def test_unknown_event_kind_is_an_error() -> None:
    with pytest.raises(ValueError):
        load_event(orjson.dumps({"e": "teleport"}))


@QUICK
@given(st.lists(st.tuples(st.sampled_from(["key-a", "key-b"]), events), max_size=12), events)
def test_a_reloaded_state_behaves_like_the_original(
    history: list[tuple[str, Event]], next_event: Event
) -> None:
    """What the changelog restores after a rebalance must decide exactly as before it."""
    policy = Policy(hop_limit=3)
    key = "phone:+77011234567"
    state = IdentifierState()
    for _, event in history:
        apply(state, key, event, T0, policy)
    restored = load_state(dump_state(state))
    assert restored == state
    original_outcome = apply(state, key, next_event, T0, policy)
    restored_outcome = apply(restored, key, next_event, T0, policy)
    assert restored_outcome == original_outcome
    assert restored == state


def test_a_state_row_too_large_for_the_changelog_forgets_its_oldest_transfers() -> None:
    # Transfer ids of 128 characters that JSON must escape: about 1 KB a transfer.
    escaped_id = "\u0001" * 120
    state = IdentifierState(
        outflows=TransferRows(
            Transfer(
                bank_id="CASPKZKA",
                transfer_id=f"{escaped_id}{n:08d}",
                sender=Identifier("iban", "KZ86125KZT5004100100"),
                sender_bank="CASPKZKA",
                recipient=Identifier("phone", "+77011234567"),
                recipient_bank="HSBKKZKX",
                amount=1_000,
                currency="KZT",
                status="initiated",
                created_at=T0 + n,
            )
            for n in range(2_000)
        )
    )
    assert len(dump_state(state)) > 1_500_000

    within = dump_state_within(state, T0, 900_000)
    row, forgotten = within.raw, within.transfers_forgotten

    assert 800_000 < len(row) <= 900_000
    assert forgotten == 2_000 - len(state.outflows) > 0
    assert within.commands_forgotten == 0
    assert load_state(row) == state
    newest = sorted(state.outflows, key=lambda k: k[-8:])
    assert newest[0].endswith(f"{2_000 - len(state.outflows):08d}")  # the oldest went first


def test_a_state_row_that_fits_is_written_whole() -> None:
    state = IdentifierState(banks=["HSBKKZKX"], epoch=3)
    assert dump_state_within(state, T0, 900_000) == StateRow(dump_state(state), 0, 0)


# ---------------------------------------------------------------------------- bundles


@FAST
@given(st.lists(st.tuples(identifiers.map(lambda i: i.key), events), max_size=5))
def test_bundles_round_trip(items: list[tuple[str, Event]]) -> None:
    assert load_bundle(dump_bundle(items)) == items


@FAST
@given(identifiers.map(lambda i: i.key), events)
def test_a_bundle_item_alone_is_one_element_of_its_bundle(key: str, event: Event) -> None:
    assert (
        orjson.loads(dump_bundle_item(key, event)) == orjson.loads(dump_bundle([(key, event)]))[0]
    )
