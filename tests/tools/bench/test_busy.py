"""The busy-account bench feeds one account and reports what its state costs."""

from __future__ import annotations

from antifraud.core.policy import Policy
from antifraud.tools.bench.busy import busy_account_cost


def test_a_busy_recipient_s_state_grows_up_to_the_bound_and_is_timed() -> None:
    figures = busy_account_cost("recipient", [10, 60], 5, Policy(max_transfers_per_identifier=40))
    assert [f["transfers"] for f in figures] == [10, 60]
    small, large = figures
    assert small["role"] == "recipient" and small["remembered_bound"] == 40
    assert 0 < small["state_row_kib"] < large["state_row_kib"]
    # Past the bound the row stops growing: 40 transfers, not 65.
    bounded = busy_account_cost("recipient", [100], 5, Policy(max_transfers_per_identifier=40))
    assert bounded[0]["state_row_kib"] == large["state_row_kib"]
    assert all(f["cpu_ms_per_transfer"] >= 0 for f in figures)


def test_a_busy_sender_keeps_its_outflows() -> None:
    (figure,) = busy_account_cost("sender", [20], 5, Policy())
    assert figure["role"] == "sender" and figure["state_row_kib"] > 1
