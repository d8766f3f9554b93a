"""The ledger and the acks of the cases' commands: returns answered `returned` or `failed`,
extensions `applied`; anything else contradicts its command (`invalid_ack`)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from antifraud.core.ledger import PENDING, record_ack, record_issue
from antifraud.core.records import Ack
from tests.core.strategies import FAST, T0

RETURN: dict[str, Any] = {
    "command_id": "9b" * 16,
    "type": "return_funds",
    "bank_id": "HSBKKZKX",
    "returns": "3f" * 16,
    "amount": 5_000_000,
    "currency": "KZT",
}
EXTEND: dict[str, Any] = {
    "command_id": "7e" * 16,
    "type": "extend",
    "bank_id": "HSBKKZKX",
    "extends": "3f" * 16,
}
HOLD: dict[str, Any] = {
    "command_id": "3f" * 16,
    "type": "hold_transfer",
    "bank_id": "HSBKKZKX",
    "amount": 5_000_000,
}


def ack(command: dict[str, Any], status: str, amount_returned: int | None = None) -> Ack:
    return Ack(command["command_id"], command["bank_id"], status, 0, T0 + 5, amount_returned)


def test_a_return_acked_returned_counts_the_money_returned_and_none_held() -> None:
    outcome = record_ack(record_issue(None, RETURN, T0), ack(RETURN, "returned", 4_000_000))
    assert outcome.verdict == "recorded"
    assert (outcome.returned_tenge, outcome.held_tenge, outcome.escaped_tenge) == (40_000, 0, 0)
    failed = record_ack(record_issue(None, RETURN, T0), ack(RETURN, "failed"))
    assert failed.verdict == "recorded" and failed.returned_tenge == 0


def test_an_extension_is_acked_applied_and_counts_no_money() -> None:
    outcome = record_ack(record_issue(None, EXTEND, T0), ack(EXTEND, "applied"))
    assert outcome.verdict == "recorded"
    assert (outcome.held_tenge, outcome.returned_tenge) == (0, 0)


@pytest.mark.parametrize(
    ("command", "status", "returned", "why"),
    [
        (RETURN, "applied", None, "status applied on a return_funds"),
        (RETURN, "too_late", None, "status too_late on a return_funds"),
        (RETURN, "returned", 5_000_001, "amount_returned 5000001 above the command's amount"),
        (HOLD, "returned", 1, "status returned on a hold_transfer"),
        (HOLD, "failed", None, "status failed on a hold_transfer"),
        (EXTEND, "returned", 1, "status returned on a extend"),
    ],
)
def test_acks_that_contradict_a_case_command_are_invalid_and_change_nothing(
    command: dict[str, Any], status: str, returned: int | None, why: str
) -> None:
    entry = record_issue(None, command, T0)
    outcome = record_ack(entry, ack(command, status, returned))
    assert outcome.verdict == "invalid_ack" and why in outcome.message
    assert entry.status == PENDING and outcome.returned_tenge == 0


@FAST
@given(
    st.sampled_from(["applied", "too_late", "not_found", "rejected", "returned", "failed"]),
    st.none() | st.integers(0, 10**15),
)
def test_money_returned_is_counted_only_from_returns_and_never_beyond_them(
    status: str, amount_returned: int | None
) -> None:
    for command in (RETURN, HOLD, EXTEND):
        outcome = record_ack(record_issue(None, command, T0), ack(command, status, amount_returned))
        assert outcome.returned_tenge * 100 <= (RETURN["amount"] if command is RETURN else 0)
