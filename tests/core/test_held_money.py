"""The owner of one hold's or freeze's money: its view for the cases, and the gate of returns."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from antifraud.core.case_links import CaseLink
from antifraud.core.cases import BankAck, Freeze, Hold
from antifraud.core.held_money import (
    ALREADY_RETURNED,
    MORE_THAN_HELD,
    NOT_HELD,
    UNKNOWN,
    WRONG_CURRENCY,
    Acked,
    Derive,
    HeldMoney,
    Linked,
    apply_money,
)
from antifraud.core.timestamps import format_rfc3339
from tests.core.case_builders import MULE, SANCTION, victim_account
from tests.core.strategies import FAST, T0

HOLD_ID, FREEZE_ID = "a" * 32, "b" * 32
SENDER = victim_account(1)


def hold_command(amount: int = 25_000_000) -> dict[str, Any]:
    return {
        "command_id": HOLD_ID,
        "type": "hold_transfer",
        "bank_id": "HSBKKZKX",
        "transfer": {"bank_id": "CASPKZKA", "transfer_id": "T-1"},
        "amount": amount,
        "currency": "KZT",
        "account": MULE.as_json(),
        "report_ids": ["R-1"],
        "hop": 0,
        "expires_at": format_rfc3339(T0 + 5 * 86400),
    }


def freeze_command() -> dict[str, Any]:
    return {
        "command_id": FREEZE_ID,
        "type": "freeze_account",
        "bank_id": "HSBKKZKX",
        "account": MULE.as_json(),
        "report_ids": ["R-1"],
        "hop": 1,
        "expires_at": format_rfc3339(T0 + 5 * 86400),
    }


def linked_hold(amount: int = 25_000_000, ack: BankAck | None = None) -> HeldMoney:
    money = HeldMoney()
    link = CaseLink(HOLD_ID, ("R-1",), {}, hold_command(amount), (SENDER.key, "CASPKZKA"))
    apply_money(money, link.command_id, Linked(link))
    if ack is not None:
        apply_money(money, HOLD_ID, Acked(HOLD_ID, ack))
    return money


def linked_freeze(held: int | None) -> HeldMoney:
    money = HeldMoney()
    link = CaseLink(FREEZE_ID, ("R-1",), {"R-1": 700}, freeze_command(), None, "iban:KZ00")
    apply_money(money, link.command_id, Linked(link))
    if held is not None:
        apply_money(money, FREEZE_ID, Acked(FREEZE_ID, BankAck("applied", held)))
    return money


def return_of(source: str, amount: int, n: int = 0, currency: str = "KZT") -> dict[str, Any]:
    command = {
        "command_id": f"{n:032x}",
        "type": "return_funds",
        "bank_id": "HSBKKZKX",
        "account": MULE.as_json(),
        "returns": source,
        "amount": amount,
        "currency": currency,
        "beneficiary": {"account": victim_account(n).as_json(), "bank_id": "CASPKZKA"},
        "report_ids": ["R-1"],
        "sanction": SANCTION.as_json(),
        "reason": "return_sanctioned",
        "hop": 0,
        "issued_at": format_rfc3339(T0),
    }
    if source == HOLD_ID:
        command["transfer"] = {"bank_id": "CASPKZKA", "transfer_id": "T-1"}
    return command


def test_a_linked_hold_carries_its_transfer_sender_and_lifetime() -> None:
    money = linked_hold()
    assert isinstance(money.command, Hold)
    assert money.command.sender == SENDER and money.command.sender_bank == "CASPKZKA"
    assert money.command.expires_at == T0 + 5 * 86400
    assert money.reports == ["R-1"] and money.version == 1
    # The same link again changes nothing; another report adds itself.
    again = CaseLink(HOLD_ID, ("R-1",))
    assert not apply_money(money, HOLD_ID, Linked(again)).changed and money.version == 1
    assert apply_money(money, HOLD_ID, Linked(CaseLink(HOLD_ID, ("R-2",)))).changed
    assert money.reports == ["R-1", "R-2"] and money.version == 2


def test_a_freeze_keeps_the_latest_weights_and_the_first_ack() -> None:
    money = linked_freeze(held=None)
    assert isinstance(money.command, Freeze) and money.command.via == "iban:KZ00"
    apply_money(money, FREEZE_ID, Linked(CaseLink(FREEZE_ID, ("R-2",), {"R-2": 300})))
    assert money.tainted == {"R-2": 300} and money.reports == ["R-1", "R-2"]
    assert apply_money(money, FREEZE_ID, Acked(FREEZE_ID, BankAck("applied", 900))).changed
    assert not apply_money(money, FREEZE_ID, Acked(FREEZE_ID, BankAck("rejected"))).changed
    assert money.ack == BankAck("applied", 900)


def test_an_ack_that_overtakes_its_command_is_kept() -> None:
    money = HeldMoney()
    assert apply_money(money, HOLD_ID, Acked(HOLD_ID, BankAck("applied", 5))).changed
    link = CaseLink(HOLD_ID, ("R-1",), {}, hold_command(), (SENDER.key, "CASPKZKA"))
    apply_money(money, HOLD_ID, Linked(link))
    assert money.ack == BankAck("applied", 5) and isinstance(money.command, Hold)


def test_the_gate_issues_a_return_only_from_money_held() -> None:
    assert apply_money(HeldMoney(), HOLD_ID, Derive(return_of(HOLD_ID, 1))).refused[0][1] == UNKNOWN
    pending = linked_hold()
    assert apply_money(pending, HOLD_ID, Derive(return_of(HOLD_ID, 1))).refused[0][1] == NOT_HELD
    too_late = linked_hold(ack=BankAck("too_late"))
    assert apply_money(too_late, HOLD_ID, Derive(return_of(HOLD_ID, 1))).refused[0][1] == NOT_HELD
    held = linked_hold(ack=BankAck("applied", 10_000_000))
    over = apply_money(held, HOLD_ID, Derive(return_of(HOLD_ID, 10_000_001)))
    assert over.refused[0][1] == MORE_THAN_HELD
    usd = apply_money(held, HOLD_ID, Derive(return_of(HOLD_ID, 1, currency="USD")))
    assert usd.refused[0][1] == WRONG_CURRENCY
    issued = apply_money(held, HOLD_ID, Derive(return_of(HOLD_ID, 10_000_000)))
    assert [c["amount"] for c in issued.commands] == [10_000_000] and issued.changed
    assert (
        apply_money(held, HOLD_ID, Derive(return_of(HOLD_ID, 10_000_000))).commands == []
    )  # replay
    second = apply_money(held, HOLD_ID, Derive(return_of(HOLD_ID, 1, n=1)))
    assert second.refused[0][1] == ALREADY_RETURNED


def test_a_failed_return_leaves_the_money_held_for_another_attempt() -> None:
    held = linked_hold(ack=BankAck("applied"))  # no amount said: the whole transfer
    apply_money(held, HOLD_ID, Derive(return_of(HOLD_ID, 25_000_000)))
    assert apply_money(held, HOLD_ID, Acked(f"{0:032x}", BankAck("failed"))).changed
    retry = apply_money(held, HOLD_ID, Derive(return_of(HOLD_ID, 25_000_000, n=1)))
    assert len(retry.commands) == 1
    assert [r.committed for r in held.returns] == [0, 25_000_000]


def test_an_extension_is_issued_once_and_lengthens_the_lifetime() -> None:
    money = linked_freeze(held=500)
    extend = {
        "command_id": "c" * 32,
        "type": "extend",
        "extends": FREEZE_ID,
        "expires_at": format_rfc3339(T0 + 30 * 86400),
    }
    assert apply_money(money, FREEZE_ID, Derive(extend)).commands == [extend]
    assert money.expires_at == T0 + 30 * 86400
    assert apply_money(money, FREEZE_ID, Derive(extend)).commands == []
    assert not apply_money(money, FREEZE_ID, Acked("c" * 32, BankAck("applied"))).changed


requests = st.lists(
    st.tuples(
        st.integers(1, 1_500),  # amount asked
        st.sampled_from(["returned", "failed", None]),  # what its bank answers, if anything
        st.integers(0, 1_500),  # amount_returned said
    ),
    max_size=12,
)


@FAST
@given(held=st.integers(1, 2_000), asks=requests)
def test_returns_from_a_freeze_never_exceed_what_its_bank_held(
    held: int, asks: list[tuple[int, str | None, int]]
) -> None:
    money = linked_freeze(held)
    for n, (amount, answer, said) in enumerate(asks):
        issued = apply_money(money, FREEZE_ID, Derive(return_of(FREEZE_ID, amount, n)))
        if issued.commands and answer is not None:
            status = BankAck(answer, amount_returned=said if answer == "returned" else None)
            apply_money(money, FREEZE_ID, Acked(f"{n:032x}", status))
        assert sum(r.committed for r in money.returns) <= held
        assert sum(r.amount for r in money.returns if r.ack is None) <= held


def release_of(source: str, n: int = 0) -> dict[str, Any]:
    return {
        "command_id": f"{n:031x}e",
        "type": "release",
        "bank_id": "HSBKKZKX",
        "account": MULE.as_json(),
        "releases": source,
        "report_ids": ["R-1"],
        "reason": "report_revoked",
        "hop": 0,
        "issued_at": format_rfc3339(T0),
    }


def test_a_revocation_releases_only_what_was_not_returned() -> None:
    untouched = linked_freeze(held=700)
    assert apply_money(untouched, FREEZE_ID, Derive(release_of(FREEZE_ID))).commands == [
        release_of(FREEZE_ID)
    ]
    partly = linked_freeze(held=700)
    apply_money(partly, FREEZE_ID, Derive(return_of(FREEZE_ID, 500)))
    (release,) = apply_money(partly, FREEZE_ID, Derive(release_of(FREEZE_ID))).commands
    assert release == {**release_of(FREEZE_ID), "amount_returned": 500}
    assert apply_money(partly, FREEZE_ID, Derive(release_of(FREEZE_ID))).commands == []  # replay
    # A transfer given back to its sender is never released on to the fraudster.
    returned = linked_hold(ack=BankAck("applied"))
    apply_money(returned, HOLD_ID, Derive(return_of(HOLD_ID, 25_000_000)))
    outcome = apply_money(returned, HOLD_ID, Derive(release_of(HOLD_ID)))
    assert outcome.commands == [] and outcome.refused[0][1] == "returned_already"
    # ...unless its return failed: then the money is still held, and released whole.
    failed = linked_hold(ack=BankAck("applied"))
    apply_money(failed, HOLD_ID, Derive(return_of(HOLD_ID, 25_000_000)))
    apply_money(failed, HOLD_ID, Acked(f"{0:032x}", BankAck("failed")))
    assert apply_money(failed, HOLD_ID, Derive(release_of(HOLD_ID))).commands == [
        release_of(HOLD_ID)
    ]
    # A release of a command whose money was never linked goes out as it is.
    assert apply_money(HeldMoney(), "x", Derive(release_of("x"))).commands == [release_of("x")]
