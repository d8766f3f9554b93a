"""The command ledger's decisions: first issue wins, one ack per command, one re-send when late."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from antifraud.core.ledger import PENDING, LedgerEntry, record_ack, record_issue, record_resend
from antifraud.core.records import Ack
from tests.core.strategies import FAST, T0

HOLD: dict[str, Any] = {
    "command_id": "3f7c" + "0" * 28,
    "type": "hold_transfer",
    "bank_id": "HSBKKZKX",
    "amount": 25_000_000,
    "currency": "KZT",
}
FREEZE: dict[str, Any] = {"command_id": "ab" * 16, "type": "freeze_account", "bank_id": "CASPKZKA"}
LIMITED_FREEZE: dict[str, Any] = {**FREEZE, "command_id": "cd" * 16, "amount_limit": 7_000_000}
RELEASE: dict[str, Any] = {
    "command_id": "ef" * 16,
    "type": "release",
    "bank_id": "HSBKKZKX",
    "releases": HOLD["command_id"],
}


def ack(
    status: str = "applied",
    bank: str = "HSBKKZKX",
    at: float = T0 + 2,
    amount_held: int = 0,
    command_id: str = HOLD["command_id"],
) -> Ack:
    return Ack(command_id, bank, status, amount_held, at)


def test_first_issue_is_recorded_and_replays_keep_it() -> None:
    entry = record_issue(None, HOLD, T0)
    assert (entry.command, entry.issued_at, entry.status, entry.resent) == (
        HOLD,
        T0,
        PENDING,
        False,
    )
    assert entry.bank_id == "HSBKKZKX"
    entry.status = "applied"
    replay = record_issue(entry, {**HOLD, "issued_at": "later"}, T0 + 100)
    assert replay is entry
    assert replay.issued_at == T0 and replay.status == "applied"


def test_unknown_command() -> None:
    assert record_ack(None, ack()).verdict == "unknown_command"


def test_wrong_bank_cannot_acknowledge() -> None:
    entry = record_issue(None, HOLD, T0)
    assert record_ack(entry, ack(bank="CASPKZKA")).verdict == "wrong_bank"
    assert entry.status == PENDING


def test_applied_counts_the_amount_held_in_tenge() -> None:
    entry = record_issue(None, HOLD, T0)
    outcome = record_ack(entry, ack(amount_held=10_000_000))
    assert outcome.verdict == "recorded"
    assert outcome.held_tenge == 100_000.0 and outcome.escaped_tenge == 0.0
    assert outcome.latency_seconds == 2.0
    assert entry.status == "applied" and entry.acked_at == T0 + 2


def test_applied_without_amount_counts_the_commanded_amount() -> None:
    outcome = record_ack(record_issue(None, HOLD, T0), ack())
    assert outcome.held_tenge == 250_000.0


def test_too_late_counts_escaped_money() -> None:
    outcome = record_ack(record_issue(None, HOLD, T0), ack("too_late"))
    assert (outcome.held_tenge, outcome.escaped_tenge) == (0.0, 250_000.0)


@pytest.mark.parametrize("status", ["not_found", "rejected"])
def test_other_statuses_move_no_money(status: str) -> None:
    entry = record_issue(None, HOLD, T0)
    outcome = record_ack(entry, ack(status))
    assert (outcome.verdict, outcome.held_tenge, outcome.escaped_tenge) == ("recorded", 0.0, 0.0)
    assert entry.status == status


def test_freeze_acks_have_no_amount() -> None:
    entry = record_issue(None, FREEZE, T0)
    outcome = record_ack(entry, ack(bank="CASPKZKA", command_id=FREEZE["command_id"]))
    assert outcome.verdict == "recorded" and outcome.held_tenge == 0.0


def test_second_ack_is_a_duplicate_and_changes_nothing() -> None:
    entry = record_issue(None, HOLD, T0)
    record_ack(entry, ack("applied"))
    again = record_ack(entry, ack("too_late", at=T0 + 50))
    assert again.verdict == "duplicate" and again.escaped_tenge == 0.0
    assert entry.status == "applied" and entry.acked_at == T0 + 2


def test_latency_is_never_negative() -> None:
    # Bank clocks drift: an ack stamped before the issue time counts as instant.
    outcome = record_ack(record_issue(None, HOLD, T0), ack(at=T0 - 5))
    assert outcome.latency_seconds == 0.0


def test_an_overdue_command_is_resent_once() -> None:
    entry = record_issue(None, HOLD, T0)
    assert not record_resend(entry, T0 + 59, 60)
    assert not record_resend(entry, T0 + 60, 60)
    assert record_resend(entry, T0 + 61, 60)
    assert entry.resent
    assert not record_resend(entry, T0 + 600, 60)


def test_an_acknowledged_or_unknown_command_is_never_resent() -> None:
    entry = record_issue(None, HOLD, T0)
    record_ack(entry, ack())
    assert not record_resend(entry, T0 + 1000, 60)
    assert not record_resend(None, T0 + 1000, 60)


def ack_of(command: dict[str, Any], status: str = "applied", amount_held: int = 0) -> Ack:
    return ack(
        status, command["bank_id"], amount_held=amount_held, command_id=command["command_id"]
    )


@pytest.mark.parametrize(
    ("command", "amount_held", "why"),
    [
        (HOLD, 25_000_001, "above the command's amount 25000000"),
        (HOLD, 10**15, "above the command's amount"),  # inflated the held-money metric
        (LIMITED_FREEZE, 7_000_001, "above the command's amount_limit 7000000"),
        (RELEASE, 1, "on a release"),
        (RELEASE, 25_000_000, "on a release"),
    ],
)
def test_an_ack_that_contradicts_its_command_is_invalid_and_changes_nothing(
    command: dict[str, Any], amount_held: int, why: str
) -> None:
    entry = record_issue(None, command, T0)
    outcome = record_ack(entry, ack_of(command, amount_held=amount_held))
    assert outcome.verdict == "invalid_ack" and why in outcome.message
    assert (outcome.held_tenge, outcome.escaped_tenge) == (0.0, 0.0)
    assert entry.status == PENDING and entry.acked_at is None
    # The bank's correct ack still counts afterwards.
    assert record_ack(entry, ack_of(command)).verdict == "recorded"


@pytest.mark.parametrize(
    ("command", "amount_held"),
    [(HOLD, 25_000_000), (HOLD, 1), (LIMITED_FREEZE, 7_000_000), (FREEZE, 10**15), (RELEASE, 0)],
)
def test_acks_within_their_command_are_recorded(command: dict[str, Any], amount_held: int) -> None:
    outcome = record_ack(record_issue(None, command, T0), ack_of(command, amount_held=amount_held))
    assert outcome.verdict == "recorded"


@pytest.mark.parametrize("status", ["applied", "too_late"])
@pytest.mark.parametrize(
    "command",
    [
        RELEASE,
        {**RELEASE, "amount": 25_000_000},  # even one that names the amount it released
    ],
)
def test_acks_of_commands_that_hold_nothing_never_count_money(
    command: dict[str, Any], status: str
) -> None:
    outcome = record_ack(record_issue(None, command, T0), ack_of(command, status))
    assert outcome.verdict == "recorded"
    assert (outcome.held_tenge, outcome.escaped_tenge) == (0.0, 0.0)


def test_a_contradicting_ack_after_a_recorded_one_is_still_invalid() -> None:
    entry = record_issue(None, HOLD, T0)
    assert record_ack(entry, ack()).verdict == "recorded"
    assert record_ack(entry, ack(amount_held=10**15)).verdict == "invalid_ack"
    assert entry.status == "applied"


@FAST
@given(
    st.sampled_from([HOLD, FREEZE, LIMITED_FREEZE, RELEASE]),
    st.sampled_from(["applied", "too_late", "not_found", "rejected"]),
    st.none() | st.integers(min_value=0, max_value=10**15),
)
def test_money_counted_never_exceeds_what_the_command_asked_for(
    command: dict[str, Any], status: str, amount_held: int | None
) -> None:
    outcome = record_ack(record_issue(None, command, T0), ack_of(command, status, amount_held or 0))
    ceiling = command.get("amount", command.get("amount_limit"))
    counted = (outcome.held_tenge + outcome.escaped_tenge) * 100
    if command["type"] == "release":
        assert counted == 0
    elif ceiling is not None:
        assert counted <= ceiling
    if outcome.verdict == "invalid_ack":
        assert counted == 0


@FAST
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["applied", "too_late", "not_found", "rejected"]),
            st.sampled_from(["HSBKKZKX", "CASPKZKA"]),
            st.floats(min_value=-100, max_value=10_000),
            st.none() | st.integers(min_value=0, max_value=HOLD["amount"]),
        ),
        max_size=6,
    )
)
def test_at_most_one_ack_is_ever_recorded(acks: list[tuple[str, str, float, int | None]]) -> None:
    entry = record_issue(None, HOLD, T0)
    verdicts = []
    for status, bank, delay, held in acks:
        outcome = record_ack(entry, ack(status, bank, T0 + delay, held or 0))
        verdicts.append(outcome.verdict)
        assert outcome.held_tenge >= 0 and outcome.escaped_tenge >= 0
        assert not (outcome.held_tenge and outcome.escaped_tenge)
        if outcome.verdict != "recorded":
            assert outcome == type(outcome)(outcome.verdict)
    assert verdicts.count("recorded") <= 1
    if "recorded" in verdicts:
        first = verdicts.index("recorded")
        assert all(v == "wrong_bank" for v in verdicts[:first])
        assert all(v in {"duplicate", "wrong_bank"} for v in verdicts[first + 1 :])
    assert isinstance(entry, LedgerEntry)
