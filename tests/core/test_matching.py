"""The matching state machine, one example per promise of the contract's "Matching" section.

Long on purpose: one example per promise of the contract, in the contract's order, so a
reader checks a promise against its test on one page.
"""

from __future__ import annotations

from typing import Any

import pytest

from antifraud.core.command_ids import freeze_command_id, hold_command_id, release_command_id
from antifraud.core.matching import (
    Event,
    IdentifierState,
    Outcome,
    Revoke,
    SendRevoke,
    SendWatch,
    TransferIn,
    TransferOut,
    Watch,
    apply,
)
from antifraud.core.policy import Policy
from antifraud.schemas import validator
from tests.core.strategies import HOUR, T0, iban_id, make_transfer, phone_id, report_watch

POLICY = Policy()
FRAUD = phone_id(1_234_567)  # +77011234567
FRAUD_KEY = FRAUD.key
VICTIM = iban_id("722", 1)
VICTIM2 = iban_id("965", 2)
MULE = iban_id("601", 3)
MULE2 = iban_id("998", 4)
SENDING_BANK = "CASPKZKA"
FRAUD_BANK = "HSBKKZKX"


def step(
    state: IdentifierState,
    key: str,
    event: Event,
    now: float = T0,
    policy: Policy = POLICY,
) -> Outcome:
    outcome = apply(state, key, event, now, policy)
    for command in outcome.commands:
        validator("command")(command)  # everything the platform writes keeps the contract
    return outcome


def run(
    events: list[Event], key: str = FRAUD_KEY, policy: Policy = POLICY, now: float = T0
) -> tuple[IdentifierState, list[dict[str, Any]], list[SendWatch | SendRevoke]]:
    state = IdentifierState()
    commands: list[dict[str, Any]] = []
    forwards: list[SendWatch | SendRevoke] = []
    for event in events:
        outcome = step(state, key, event, now, policy)
        commands += outcome.commands
        forwards += outcome.forwards
    return state, commands, forwards


def ids(commands: list[dict[str, Any]], type_: str | None = None) -> list[str]:
    return [c["command_id"] for c in commands if type_ is None or c["type"] == type_]


def by_type(commands: list[dict[str, Any]], type_: str) -> list[dict[str, Any]]:
    return [c for c in commands if c["type"] == type_]


def both_orders(first: Event, second: Event) -> list[list[Event]]:
    return [[first, second], [second, first]]


def victim_transfer(tid: str = "T-1", **kw: Any) -> TransferIn:
    return TransferIn(make_transfer(tid, VICTIM, FRAUD, **kw))


# ---------------------------------------------------------------------------- forward and look-back


def test_forward_match_holds_at_both_banks_and_freezes() -> None:
    state, commands, forwards = run(
        [report_watch(reported_at=T0), victim_transfer(created_at=T0 + 60)]
    )
    holds = by_type(commands, "hold_transfer")
    assert sorted(h["bank_id"] for h in holds) == sorted([FRAUD_BANK, SENDING_BANK])
    for hold in holds:
        assert hold["transfer"] == {"bank_id": SENDING_BANK, "transfer_id": "T-1"}
        assert hold["amount"] == 25_000_000 and hold["currency"] == "KZT"
        assert hold["account"] == {"kind": "phone", "value": "+77011234567"}
        assert hold["report_ids"] == ["R-1"]
        assert hold["reason"] == "reported_account" and hold["hop"] == 0
        assert hold["fraud_type"] == "bank_impersonation"
        assert hold["command_id"] == hold_command_id(hold["bank_id"], f"{SENDING_BANK}/T-1", 0)
    freezes = by_type(commands, "freeze_account")
    assert [f["bank_id"] for f in freezes] == [FRAUD_BANK]
    assert freezes[0]["command_id"] == freeze_command_id(FRAUD_BANK, FRAUD_KEY, 0, None)
    assert "amount_limit" not in freezes[0]
    assert forwards == []
    assert state.watched


def test_same_bank_transfer_gets_one_hold() -> None:
    _, commands, _ = run(
        [report_watch(), victim_transfer(bank_id=FRAUD_BANK, recipient_bank=FRAUD_BANK)]
    )
    assert [h["bank_id"] for h in by_type(commands, "hold_transfer")] == [FRAUD_BANK]


def test_freeze_when_the_report_names_the_bank() -> None:
    _, commands, _ = run([report_watch(bank_id="IRTYKZKA")])
    assert [(c["type"], c["bank_id"]) for c in commands] == [("freeze_account", "IRTYKZKA")]


def test_no_freeze_while_no_bank_is_known() -> None:
    state, commands, _ = run([report_watch()])
    assert commands == []
    assert state.watched


def test_look_back_gives_the_same_commands_with_the_same_ids() -> None:
    forward: list[Event] = [report_watch(reported_at=T0), victim_transfer(created_at=T0 - 2 * HOUR)]
    _, forward_commands, _ = run(forward)
    _, back_commands, _ = run(list(reversed(forward)))
    assert sorted(ids(forward_commands)) == sorted(ids(back_commands))
    assert len(ids(back_commands, "hold_transfer")) == 2
    assert len(ids(back_commands, "freeze_account")) == 1


def test_look_back_holds_every_transfer_in_flight() -> None:
    events: list[Event] = [
        victim_transfer("T-1", created_at=T0 - HOUR),
        TransferIn(
            make_transfer("T-2", VICTIM2, FRAUD, bank_id="IRTYKZKA", created_at=T0 - 2 * HOUR)
        ),
        report_watch(reported_at=T0),
    ]
    _, commands, _ = run(events)
    held = {
        (h["transfer"]["transfer_id"], h["bank_id"]) for h in by_type(commands, "hold_transfer")
    }
    assert held == {
        ("T-1", FRAUD_BANK),
        ("T-1", SENDING_BANK),
        ("T-2", FRAUD_BANK),
        ("T-2", "IRTYKZKA"),
    }


def test_transfers_older_than_the_window_are_held_only_when_they_arrive_after_the_report() -> None:
    # The look-back window limits only what arrived before the report; a transfer that arrives
    # while its recipient is watched is held whatever its `created_at` (Robustness promises 4).
    too_old = T0 - POLICY.lookback_seconds - 1
    _, back, _ = run([victim_transfer(created_at=too_old), report_watch(reported_at=T0)])
    assert by_type(back, "hold_transfer") == []
    _, forward, _ = run([report_watch(reported_at=T0), victim_transfer(created_at=too_old)])
    assert len(by_type(forward, "hold_transfer")) == 2


def test_transfer_just_inside_the_window_is_held() -> None:
    edge = T0 - POLICY.lookback_seconds
    _, commands, _ = run([victim_transfer(created_at=edge), report_watch(reported_at=T0)], now=T0)
    assert len(by_type(commands, "hold_transfer")) == 2


def test_settled_and_cancelled_transfers_are_not_held() -> None:
    for status in ("settled", "cancelled"):
        for events in both_orders(report_watch(), victim_transfer(status=status)):
            _, commands, _ = run(events)
            assert by_type(commands, "hold_transfer") == [], status


def test_a_transfer_that_settles_before_the_report_is_not_held() -> None:
    _, commands, _ = run(
        [victim_transfer(), victim_transfer(status="settled"), report_watch(bank_id=FRAUD_BANK)]
    )
    assert by_type(commands, "hold_transfer") == []
    assert len(by_type(commands, "freeze_account")) == 1


def test_carve_out_purposes_are_never_held() -> None:
    for purpose in sorted(POLICY.carve_out_purposes):
        for events in both_orders(report_watch(), victim_transfer(purpose=purpose)):
            _, commands, _ = run(events)
            assert by_type(commands, "hold_transfer") == [], purpose


def test_other_purposes_and_no_purpose_are_held() -> None:
    for purpose in ("p2p", "purchase", "other", None):
        _, commands, _ = run([report_watch(), victim_transfer(purpose=purpose)])
        assert len(by_type(commands, "hold_transfer")) == 2, purpose


# ---------------------------------------------------------------------------- idempotency


def test_duplicate_events_produce_no_new_commands() -> None:
    transfer = victim_transfer()
    state = IdentifierState()
    first = step(state, FRAUD_KEY, report_watch(bank_id=FRAUD_BANK)).commands
    first += step(state, FRAUD_KEY, transfer).commands
    assert first
    for event in (transfer, report_watch(bank_id=FRAUD_BANK), transfer):
        again = step(state, FRAUD_KEY, event)
        assert again.commands == [] and again.forwards == []


def test_replaying_on_a_fresh_state_gives_identical_ids() -> None:
    events: list[Event] = [
        victim_transfer("T-1", created_at=T0 - HOUR),
        report_watch(bank_id=FRAUD_BANK),
        victim_transfer("T-2", created_at=T0 + 60),
        TransferOut(
            make_transfer("T-9", FRAUD, MULE, bank_id=FRAUD_BANK, recipient_bank="KCJBKZKX")
        ),
        Revoke("R-1"),
        report_watch("R-2"),
    ]
    _, first, first_forwards = run(events)
    _, second, second_forwards = run(events)
    assert ids(first) == ids(second)
    assert first_forwards == second_forwards
    assert len(set(ids(first))) == len(ids(first))


def test_a_bank_learned_from_a_transfer_in_flight_gets_a_freeze() -> None:
    # Forward: the report named no bank; the transfer tells us where the account is.
    _, commands, _ = run([report_watch(), victim_transfer(recipient_bank="IRTYKZKA")])
    assert [f["bank_id"] for f in by_type(commands, "freeze_account")] == ["IRTYKZKA"]
    # Look-back: same.
    _, commands, _ = run([victim_transfer(recipient_bank="IRTYKZKA"), report_watch()])
    assert [f["bank_id"] for f in by_type(commands, "freeze_account")] == ["IRTYKZKA"]
    # A second bank learned later is frozen too, the first is not frozen twice.
    state, commands, _ = run(
        [
            report_watch(bank_id=FRAUD_BANK),
            victim_transfer("T-1", recipient_bank=FRAUD_BANK),
            victim_transfer("T-2", recipient_bank="TSESKZKA"),
            victim_transfer("T-3", recipient_bank="TSESKZKA"),
        ]
    )
    assert sorted(f["bank_id"] for f in by_type(commands, "freeze_account")) == [
        FRAUD_BANK,
        "TSESKZKA",
    ]
    assert state.banks == sorted([FRAUD_BANK, "TSESKZKA"])


# ---------------------------------------------------------------------------- follow the money


def outflow(tid: str = "T-9", to: Any = MULE, **kw: Any) -> TransferOut:
    kw.setdefault("bank_id", FRAUD_BANK)
    kw.setdefault("recipient_bank", "KCJBKZKX")
    kw.setdefault("amount", 7_000_000)
    return TransferOut(make_transfer(tid, FRAUD, to, **kw))


def test_money_leaving_a_watched_account_is_followed() -> None:
    for events in both_orders(report_watch(), outflow()):
        _, commands, forwards = run(events)
        assert forwards == [
            SendWatch(
                MULE.key,
                Watch(
                    report_id="R-1",
                    fraud_type="bank_impersonation",
                    reported_at=T0,
                    hop=1,
                    bank_id="KCJBKZKX",
                    via=FRAUD_KEY,
                    transfer_key=f"{FRAUD_BANK}/T-9",
                    amount=7_000_000,
                ),
            )
        ]
        # Money going out is not held at the sender: only transfers *to* a watched account are.
        assert by_type(commands, "hold_transfer") == []


def test_settled_outflows_are_followed_and_cancelled_ones_are_not() -> None:
    _, _, forwards = run([report_watch(), outflow(status="settled")])
    assert len(forwards) == 1
    _, _, forwards = run([report_watch(), outflow(status="cancelled")])
    assert forwards == []
    _, _, forwards = run([outflow(), outflow(status="cancelled"), report_watch()])
    assert forwards == []


def test_following_respects_the_hop_limit() -> None:
    policy = Policy(hop_limit=2)
    for hop, expected in ((0, 1), (1, 1), (2, 0), (3, 0)):
        watch = Watch("R-1", "other", T0, hop=hop, via="x" if hop else None)
        _, _, forwards = run([watch, outflow()], policy=policy)
        assert len(forwards) == expected, hop
        if forwards:
            assert isinstance(forwards[0], SendWatch)
            assert forwards[0].watch.hop == hop + 1 <= policy.hop_limit


def test_following_respects_the_minimum_amount() -> None:
    policy = Policy(min_follow_amount=1_000_00)
    _, _, below = run([report_watch(), outflow(amount=99_999)], policy=policy)
    _, _, at = run([report_watch(), outflow(amount=1_000_00)], policy=policy)
    assert below == []
    assert len(at) == 1


def test_carve_out_outflows_are_not_followed() -> None:
    for purpose in sorted(POLICY.carve_out_purposes):
        _, _, forwards = run([report_watch(), outflow(purpose=purpose)])
        assert forwards == [], purpose


def test_money_that_left_before_the_window_is_not_followed() -> None:
    old = T0 - POLICY.lookback_seconds - 1
    _, _, forwards = run([outflow(created_at=old), report_watch()], now=T0)
    assert forwards == []


def test_an_outflow_is_followed_once_per_report() -> None:
    state = IdentifierState()
    step(state, FRAUD_KEY, report_watch())
    assert len(step(state, FRAUD_KEY, outflow()).forwards) == 1
    assert step(state, FRAUD_KEY, outflow()).forwards == []
    assert step(state, FRAUD_KEY, outflow(status="settled")).forwards == []
    # A second report follows the same money under its own id.
    second = step(state, FRAUD_KEY, report_watch("R-2")).forwards
    assert [f.watch.report_id for f in second if isinstance(f, SendWatch)] == ["R-2"]


def test_a_transfer_to_itself_is_not_followed() -> None:
    _, _, forwards = run([report_watch(), outflow(to=FRAUD)])
    assert forwards == []


def suspect_watch(report_id: str, transfer_id: str, amount: int, hop: int = 1) -> Watch:
    return Watch(
        report_id,
        "bank_impersonation",
        T0,
        hop=hop,
        bank_id="KCJBKZKX",
        via=FRAUD_KEY,
        transfer_key=f"{FRAUD_BANK}/{transfer_id}",
        amount=amount,
    )


def test_a_suspect_is_frozen_up_to_the_tainted_money() -> None:
    state = IdentifierState()
    first = step(state, MULE.key, suspect_watch("R-1", "T-9", 100_00)).commands
    assert [(c["type"], c["reason"], c["hop"], c.get("amount_limit")) for c in first] == [
        ("freeze_account", "mule_chain", 1, 100_00)
    ]
    assert first[0]["command_id"] == freeze_command_id("KCJBKZKX", MULE.key, 0, 100_00)
    # The same tainted transfer reported again, under another report: counted once.
    assert step(state, MULE.key, suspect_watch("R-2", "T-9", 100_00)).commands == []
    # A second tainted inflow raises the bound: a new freeze for the larger amount.
    more = step(state, MULE.key, suspect_watch("R-1", "T-10", 50_00)).commands
    assert [c.get("amount_limit") for c in more] == [150_00]


def test_a_suspect_that_is_also_reported_is_frozen_whole() -> None:
    state = IdentifierState()
    step(state, MULE.key, suspect_watch("R-1", "T-9", 100_00))
    whole = step(state, MULE.key, Watch("R-2", "other", T0, hop=0, bank_id="KCJBKZKX")).commands
    assert len(whole) == 1 and "amount_limit" not in whole[0]
    assert whole[0]["reason"] == "reported_account" and whole[0]["hop"] == 0


def test_a_suspect_gets_holds_with_mule_chain_reason() -> None:
    state = IdentifierState()
    step(state, MULE.key, suspect_watch("R-1", "T-9", 100_00))
    incoming = TransferIn(make_transfer("T-50", VICTIM, MULE, recipient_bank="KCJBKZKX"))
    holds = by_type(step(state, MULE.key, incoming).commands, "hold_transfer")
    assert {(h["reason"], h["hop"]) for h in holds} == {("mule_chain", 1)}
    assert len(holds) == 2


# ---------------------------------------------------------------------------- revocation


def reported_with_everything() -> tuple[IdentifierState, list[dict[str, Any]]]:
    state, commands, _ = run(
        [
            report_watch(bank_id=FRAUD_BANK),
            victim_transfer("T-1"),
            victim_transfer("T-2", bank_id="IRTYKZKA", recipient_bank="TSESKZKA"),
            outflow("T-9", MULE),
            outflow("T-10", MULE2, recipient_bank="TSESKZKA"),
        ]
    )
    return state, commands


def test_revoke_releases_every_command_when_no_support_remains() -> None:
    state, issued = reported_with_everything()
    assert len(issued) == 6  # 2 freezes (HSBK, TSES) + 2 holds per transfer
    outcome = step(state, FRAUD_KEY, Revoke("R-1"))
    releases = outcome.commands
    assert {r["releases"] for r in releases} == set(ids(issued))
    for release in releases:
        original = next(c for c in issued if c["command_id"] == release["releases"])
        assert release["type"] == "release"
        assert release["command_id"] == release_command_id(original["command_id"])
        assert release["bank_id"] == original["bank_id"]
        assert release["account"] == original["account"]
        assert release["reason"] == "report_revoked"
        assert release["report_ids"] == ["R-1"]
        assert release.get("transfer") == original.get("transfer")
    assert state.commands == {} and not state.watched
    assert outcome.watched_delta == -1


def test_revoke_keeps_commands_another_report_supports() -> None:
    state, _ = reported_with_everything()
    step(state, FRAUD_KEY, report_watch("R-2"))
    outcome = step(state, FRAUD_KEY, Revoke("R-1"))
    assert outcome.commands == []
    assert len(state.commands) == 6 and state.watched
    # ...and once the last one goes, everything is released.
    assert len(step(state, FRAUD_KEY, Revoke("R-2")).commands) == 6


def test_revoke_cascades_to_every_followed_recipient() -> None:
    state, _ = reported_with_everything()
    outcome = step(state, FRAUD_KEY, Revoke("R-1"))
    assert sorted(
        (f.identifier_key, f.report_id) for f in outcome.forwards if isinstance(f, SendRevoke)
    ) == sorted([(MULE.key, "R-1"), (MULE2.key, "R-1")])
    assert all(isinstance(f, SendRevoke) for f in outcome.forwards)


def test_revoke_cascades_only_the_revoked_reports_followers() -> None:
    state, _ = reported_with_everything()
    step(state, FRAUD_KEY, report_watch("R-2"))
    outcome = step(state, FRAUD_KEY, Revoke("R-2"))
    assert sorted(f.identifier_key for f in outcome.forwards) == sorted([MULE.key, MULE2.key])
    assert {f.report_id for f in outcome.forwards if isinstance(f, SendRevoke)} == {"R-2"}


def test_unknown_or_repeated_revokes_do_nothing() -> None:
    state, _ = reported_with_everything()
    assert step(state, FRAUD_KEY, Revoke("R-404")).commands == []
    assert step(state, FRAUD_KEY, Revoke("R-1")).commands
    again = step(state, FRAUD_KEY, Revoke("R-1"))
    assert again.commands == [] and again.forwards == []
    assert step(IdentifierState(), FRAUD_KEY, Revoke("R-1")).commands == []


def test_a_suspect_releases_when_its_upstream_report_is_revoked() -> None:
    state = IdentifierState()
    issued = step(state, MULE.key, suspect_watch("R-1", "T-9", 100_00)).commands
    released = step(state, MULE.key, Revoke("R-1")).commands
    assert [r["releases"] for r in released] == ids(issued)
    assert released[0]["hop"] == 1


def test_re_report_after_revoke_issues_new_ids() -> None:
    state, first = reported_with_everything()
    step(state, FRAUD_KEY, Revoke("R-1"))
    again = step(state, FRAUD_KEY, report_watch("R-1", bank_id=FRAUD_BANK)).commands
    assert state.epoch == 1
    assert len(again) == 6
    assert not set(ids(again)) & set(ids(first))
    assert set(ids(again, "hold_transfer")) == {
        hold_command_id(
            h["bank_id"], f"{h['transfer']['bank_id']}/{h['transfer']['transfer_id']}", 1
        )
        for h in by_type(first, "hold_transfer")
    }
    # ...and the money that left is followed again, so the chain is rebuilt.
    forwards = step(state, FRAUD_KEY, report_watch("R-3")).forwards
    assert len(forwards) == 2


def test_revoke_then_re_report_then_revoke_releases_the_new_ids() -> None:
    state, _ = reported_with_everything()
    step(state, FRAUD_KEY, Revoke("R-1"))
    second = step(state, FRAUD_KEY, report_watch("R-2", bank_id=FRAUD_BANK)).commands
    released = step(state, FRAUD_KEY, Revoke("R-2")).commands
    assert sorted(r["releases"] for r in released) == sorted(ids(second))
    assert state.epoch == 2


# ---------------------------------------------------------------------------- bookkeeping


def test_outcome_deltas_count_watched_identifiers_and_inflight_transfers() -> None:
    state = IdentifierState()
    assert step(state, FRAUD_KEY, victim_transfer()).inflight_delta == 1
    watched = step(state, FRAUD_KEY, report_watch())
    assert watched.watched_delta == 1
    assert step(state, FRAUD_KEY, report_watch("R-2")).watched_delta == 0
    assert step(state, FRAUD_KEY, victim_transfer(status="settled")).inflight_delta == -1


def test_old_transfers_are_pruned_from_state() -> None:
    state = IdentifierState()
    step(state, FRAUD_KEY, victim_transfer(created_at=T0), now=T0)
    step(state, FRAUD_KEY, outflow(created_at=T0), now=T0)
    later = T0 + POLICY.lookback_seconds + 1
    outcome = step(state, FRAUD_KEY, report_watch(reported_at=later), now=later)
    assert not state.inflight and not state.outflows
    assert outcome.commands == [] and outcome.forwards == []


def test_remembered_transfers_are_bounded_and_the_forgotten_counted() -> None:
    policy = Policy(max_transfers_per_identifier=3)
    state = IdentifierState()
    # Sent out of order: the oldest by created_at are forgotten, not the first to arrive.
    order = (5, 0, 4, 1, 3, 2)
    forgotten = [
        step(
            state, FRAUD_KEY, victim_transfer(f"T-{i}", created_at=T0 + i), policy=policy
        ).forgotten
        for i in order
    ]
    forgotten += [
        step(state, FRAUD_KEY, outflow(f"T-{i}", created_at=T0 + i), policy=policy).forgotten
        for i in order
    ]
    assert sorted(state.inflight) == [f"{SENDING_BANK}/T-{i}" for i in (3, 4, 5)]
    assert sorted(state.outflows) == [f"{FRAUD_BANK}/T-{i}" for i in (3, 4, 5)]
    assert forgotten == [0, 0, 0, 1, 1, 1] * 2


def test_the_bound_on_remembered_transfers_is_at_least_one() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Policy(max_transfers_per_identifier=0)


def test_a_report_on_a_busy_account_holds_its_newest_transfers() -> None:
    policy = Policy(max_transfers_per_identifier=2)
    events: list[Event] = [victim_transfer(f"T-{i}", created_at=T0 - i) for i in range(4)]
    _, commands, _ = run([*events, report_watch()], policy=policy)
    held = {c["transfer"]["transfer_id"] for c in by_type(commands, "hold_transfer")}
    assert held == {"T-0", "T-1"}


def test_outflows_that_can_never_be_followed_are_not_remembered() -> None:
    policy = Policy(min_follow_amount=1_000)
    state = IdentifierState()
    step(state, FRAUD_KEY, outflow("T-salary", purpose="salary"), policy=policy)
    step(state, FRAUD_KEY, outflow("T-small", amount=999), policy=policy)
    step(state, FRAUD_KEY, outflow("T-self", to=FRAUD), policy=policy)
    step(state, FRAUD_KEY, outflow("T-kept", amount=1_000), policy=policy)
    assert list(state.outflows) == [f"{FRAUD_BANK}/T-kept"]


def test_empty_state_is_empty_and_watched_state_is_not() -> None:
    state = IdentifierState()
    assert state.is_empty()
    step(state, FRAUD_KEY, report_watch())
    assert not state.is_empty()
    step(state, FRAUD_KEY, Revoke("R-1"))
    assert not state.is_empty()  # the epoch must survive, or a re-report would reuse old ids
