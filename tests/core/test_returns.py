"""Return of funds: the contract's rules 1-3 on examples, then properties over many cases."""

from __future__ import annotations

from antifraud.core.cases import BankAck, IssuedReturn
from antifraud.core.command_ids import return_command_id
from antifraud.core.returns import (
    ISSUED,
    NOTHING_NEW,
    NOTHING_YET,
    REVOKED,
    CaseFunds,
    ReturnOrder,
    plan_return,
    split_largest_shares,
)
from antifraud.core.timestamps import format_rfc3339
from antifraud.schemas import validator
from tests.core.case_builders import (
    MULE,
    NOW,
    RECIPIENT_BANK,
    SANCTION,
    SENDING_BANK,
    applied,
    freeze,
    hold,
    holds_at_both_banks,
    victim,
    victim_account,
)
from tests.core.strategies import phone_id

R = "R-2026-000042"
ORDER = ReturnOrder(R, SANCTION, (victim(1, 30_000_000),))


def returned_records(records: list[IssuedReturn], status: str = "returned") -> list[IssuedReturn]:
    """The same returns, acknowledged by their banks."""
    return [
        IssuedReturn(
            r.command_id,
            r.returns,
            r.report_id,
            r.beneficiary_key,
            r.amount,
            r.transfer_key,
            BankAck(status, amount_returned=r.amount if status == "returned" else None),
        )
        for r in records
    ]


# ---------------------------------------------------------------------------- rule 1


def test_a_transfer_held_by_both_banks_goes_back_from_the_sending_bank_only() -> None:
    recipient_side, sending_side = holds_at_both_banks("T-000123")
    funds = CaseFunds(
        holds=[recipient_side, sending_side],
        acks={
            recipient_side.command_id: applied(25_000_000),
            sending_side.command_id: applied(25_000_000),
        },
    )
    plan = plan_return(ORDER, funds, NOW)
    assert plan.verdict == ISSUED
    assert plan.commands == [
        {
            "command_id": return_command_id(sending_side.command_id, victim_account(1).key),
            "type": "return_funds",
            "bank_id": SENDING_BANK,
            "account": MULE.as_json(),
            "returns": sending_side.command_id,
            "transfer": {"bank_id": SENDING_BANK, "transfer_id": "T-000123"},
            "amount": 25_000_000,
            "currency": "KZT",
            "beneficiary": {"account": victim_account(1).as_json(), "bank_id": SENDING_BANK},
            "report_ids": [R],
            "sanction": SANCTION.as_json(),
            "reason": "return_sanctioned",
            "hop": 0,
            "issued_at": format_rfc3339(NOW),
        }
    ]
    assert plan.still_held == {sending_side.command_id: 0}


def test_a_transfer_only_the_recipients_bank_held_goes_back_from_there() -> None:
    recipient_side, sending_side = holds_at_both_banks("T-1")
    funds = CaseFunds(
        holds=[recipient_side, sending_side],
        acks={
            recipient_side.command_id: applied(25_000_000),
            sending_side.command_id: BankAck("too_late"),
        },
    )
    [command] = plan_return(ORDER, funds, NOW).commands
    assert command["bank_id"] == RECIPIENT_BANK
    assert command["returns"] == recipient_side.command_id


def test_a_hold_returns_what_was_held_and_never_more_than_the_transfer() -> None:
    partly, over = hold("T-1", amount=1_000), hold("T-2", amount=1_000)
    funds = CaseFunds(
        holds=[partly, over],
        acks={partly.command_id: applied(400), over.command_id: applied(9_999)},
    )
    amounts = {
        c["transfer"]["transfer_id"]: c["amount"] for c in plan_return(ORDER, funds, NOW).commands
    }
    assert amounts == {"T-1": 400, "T-2": 1_000}


def test_an_applied_hold_that_did_not_say_how_much_holds_its_whole_transfer() -> None:
    held = hold("T-1", amount=7_000)
    funds = CaseFunds(holds=[held], acks={held.command_id: applied(None)})
    assert [c["amount"] for c in plan_return(ORDER, funds, NOW).commands] == [7_000]


def test_return_funds_commands_satisfy_the_command_schema() -> None:
    held, frozen = hold("T-1"), freeze(phone_id(7))
    funds = CaseFunds(
        holds=[held],
        freezes=[frozen],
        acks={held.command_id: applied(), frozen.command_id: applied(5_000_000)},
    )
    plan = plan_return(ReturnOrder(R, SANCTION, (victim(1, 80_000_000),)), funds, NOW)
    assert len(plan.commands) == 2
    for command in plan.commands:
        validator("command")(command)


# ---------------------------------------------------------------------------- rule 3


def test_nothing_is_returned_before_a_bank_holds_money() -> None:
    held, frozen = hold("T-1"), freeze()
    pending = CaseFunds(holds=[held], freezes=[frozen])
    assert plan_return(ORDER, pending, NOW).verdict == NOTHING_YET
    gone = CaseFunds(
        holds=[held],
        freezes=[frozen],
        acks={held.command_id: BankAck("too_late"), frozen.command_id: applied(0)},
    )
    plan = plan_return(ORDER, gone, NOW)
    assert (plan.verdict, plan.commands) == (NOTHING_YET, [])


def test_nothing_is_returned_after_a_revocation() -> None:
    held = hold("T-1")
    funds = CaseFunds(holds=[held], acks={held.command_id: applied()}, revoked=True)
    plan = plan_return(ORDER, funds, NOW)
    assert (plan.verdict, plan.commands) == (REVOKED, [])


def test_a_repeated_return_issues_nothing_new() -> None:
    held, frozen = hold("T-1"), freeze(phone_id(7))
    acks = {held.command_id: applied(), frozen.command_id: applied(9_000_000)}
    order = ReturnOrder(R, SANCTION, (victim(1, 30_000_000), victim(2, 1_000_000)))
    first = plan_return(order, CaseFunds([held], [frozen], acks), NOW)
    assert first.verdict == ISSUED and len(first.commands) == 3
    for earlier in (first.issued, returned_records(first.issued)):
        again = plan_return(order, CaseFunds([held], [frozen], acks, earlier), NOW + 60)
        assert (again.verdict, again.commands) == (NOTHING_NEW, [])


def test_a_replay_before_the_returns_were_recorded_derives_the_same_ids() -> None:
    held = hold("T-1")
    funds = CaseFunds(holds=[held], acks={held.command_id: applied()})
    first = plan_return(ORDER, funds, NOW)
    replay = plan_return(ORDER, funds, NOW + 5)
    assert [c["command_id"] for c in first.commands] == [c["command_id"] for c in replay.commands]


def test_money_a_failed_return_left_held_goes_again_under_a_new_id() -> None:
    held = hold("T-1")
    funds = CaseFunds(holds=[held], acks={held.command_id: applied()})
    first = plan_return(ORDER, funds, NOW)
    failed = returned_records(first.issued, "failed")
    retry = plan_return(ORDER, CaseFunds([held], [], funds.acks, failed), NOW + 60)
    assert retry.verdict == ISSUED
    [again] = retry.commands
    assert again["amount"] == first.commands[0]["amount"]
    assert again["command_id"] == return_command_id(held.command_id, victim_account(1).key, 1)
    assert again["command_id"] != first.commands[0]["command_id"]


def test_a_transfer_returned_for_another_report_is_not_returned_again() -> None:
    held = hold("T-1")
    acks = {held.command_id: applied()}
    other = plan_return(ReturnOrder("R-OTHER", SANCTION), CaseFunds([held], [], acks), NOW)
    assert len(other.commands) == 1
    plan = plan_return(ORDER, CaseFunds([held], [], acks, other.issued), NOW + 60)
    assert (plan.verdict, plan.commands) == (NOTHING_NEW, [])


# ---------------------------------------------------------------------------- rule 2


def test_frozen_money_is_split_by_what_each_victim_is_still_owed() -> None:
    # Victim 1 lost 300, of which a held transfer of 200 comes back by rule 1: still owed 100.
    # Victim 2 lost 100 and victim 3 lost 50; 125 frozen is split 100:100:50 -> 50, 50, 25.
    held, frozen = hold("T-1", amount=200, sender=victim_account(1)), freeze(phone_id(7))
    order = ReturnOrder(R, SANCTION, (victim(1, 300), victim(2, 100), victim(3, 50)))
    funds = CaseFunds(
        [held], [frozen], {held.command_id: applied(), frozen.command_id: applied(125)}
    )
    plan = plan_return(order, funds, NOW)
    given = {
        (c["returns"], c["beneficiary"]["account"]["value"]): c["amount"] for c in plan.commands
    }
    assert given == {
        (held.command_id, victim_account(1).value): 200,
        (frozen.command_id, victim_account(1).value): 50,
        (frozen.command_id, victim_account(2).value): 50,
        (frozen.command_id, victim_account(3).value): 25,
    }
    assert plan.still_held == {held.command_id: 0, frozen.command_id: 0}


def test_frozen_money_no_victim_can_take_stays_held() -> None:
    frozen = freeze()
    order = ReturnOrder(R, SANCTION, (victim(1, 700), victim(2, 300)))
    plan = plan_return(order, CaseFunds([], [frozen], {frozen.command_id: applied(5_000)}), NOW)
    assert sorted(c["amount"] for c in plan.commands) == [300, 700]
    assert plan.still_held == {frozen.command_id: 4_000}
    no_victims = plan_return(
        ReturnOrder(R, SANCTION), CaseFunds([], [frozen], {frozen.command_id: applied(5_000)}), NOW
    )
    assert (no_victims.verdict, no_victims.commands) == (NOTHING_NEW, [])
    assert no_victims.still_held == {frozen.command_id: 5_000}


def test_victims_in_another_currency_take_nothing_from_a_tenge_account() -> None:
    frozen = freeze()
    dollars = victim(2, 500)
    dollars = type(dollars)(dollars.account, dollars.bank_id, 500, "USD")
    order = ReturnOrder(R, SANCTION, (victim(1, 100), dollars))
    plan = plan_return(order, CaseFunds([], [frozen], {frozen.command_id: applied(1_000)}), NOW)
    assert [(c["beneficiary"]["account"]["value"], c["amount"]) for c in plan.commands] == [
        (victim_account(1).value, 100)
    ]


def test_a_shared_account_is_split_between_reports_by_their_tainted_inflows() -> None:
    frozen = freeze(hop=1, tainted={R: 9_000_000, "R-57": 3_000_000})
    acks = {frozen.command_id: applied(10_000_001)}
    mine = plan_return(
        ReturnOrder(R, SANCTION, (victim(1, 50_000_000),)), CaseFunds([], [frozen], acks), NOW
    )
    assert [c["amount"] for c in mine.commands] == [7_500_001]  # 75%, and the odd unit
    theirs = plan_return(
        ReturnOrder("R-57", SANCTION, (victim(9, 50_000_000),)),
        CaseFunds([], [frozen], acks, mine.issued),
        NOW,
    )
    assert [c["amount"] for c in theirs.commands] == [2_500_000]
    assert theirs.still_held == {frozen.command_id: 0}


def test_the_readme_worked_example() -> None:
    """The allocation example in the README, figure by figure (amounts in tiyn)."""
    report_42, report_57 = "R-2026-000042", "R-2026-000057"
    aigerim, bolat, dana = victim_account(1), victim_account(2), victim_account(3)
    order = ReturnOrder(
        report_42,
        SANCTION,
        (victim(1, 30_000_000), victim(2, 12_000_000), victim(3, 5_000_000)),
    )
    recipient_side, sending_side = holds_at_both_banks("T-7", amount=20_000_000, sender=aigerim)
    reported = freeze(MULE)  # the reported phone's account: emptied before the freeze
    mule = freeze(phone_id(7), hop=1, tainted={report_42: 9_000_000, report_57: 3_000_000})
    acks = {
        recipient_side.command_id: applied(20_000_000),
        sending_side.command_id: applied(20_000_000),
        reported.command_id: applied(0),
        mule.command_id: applied(10_000_001),
    }
    funds = CaseFunds([recipient_side, sending_side], [reported, mule], acks)
    plan = plan_return(order, funds, NOW)
    given = [
        (c["bank_id"], c["beneficiary"]["account"]["value"], c["amount"]) for c in plan.commands
    ]
    assert sorted(given) == sorted(
        [
            (SENDING_BANK, aigerim.value, 20_000_000),  # rule 1, from the sending bank only
            # rule 2: R-42's 75% of the mule's 10,000,001 (7,500,000.75 -> 7,500,001, the odd unit
            # to the larger share) split 10 : 12 : 5 (millions still owed); Bolat's is the largest
            # share and takes the odd unit: 2,777,778 + 3,333,334 + 1,388,889 = 7,500,001.
            (RECIPIENT_BANK, bolat.value, 3_333_334),
            (RECIPIENT_BANK, dana.value, 1_388_889),
            (RECIPIENT_BANK, aigerim.value, 2_777_778),
        ]
    )
    assert plan.still_held == {sending_side.command_id: 0, mule.command_id: 2_500_000}
    again = plan_return(order, CaseFunds(funds.holds, funds.freezes, acks, plan.issued), NOW + 60)
    assert again.commands == []


# ---------------------------------------------------------------------------- splitting


def test_split_gives_the_odd_units_to_the_largest_shares() -> None:
    assert split_largest_shares(10, {"a": 1, "b": 1, "c": 1}) == {"a": 4, "b": 3, "c": 3}
    assert split_largest_shares(7, {"small": 1, "large": 2}) == {"small": 2, "large": 5}
    assert split_largest_shares(5, {"a": 0, "b": 0}) == {"a": 3, "b": 2}
    assert split_largest_shares(5, {"a": 0, "b": 4}) == {"a": 0, "b": 5}
    assert split_largest_shares(0, {"a": 3}) == {"a": 0}
    assert split_largest_shares(9, {}) == {}


def test_a_victims_own_transfer_still_unanswered_is_not_paid_again_from_frozen_money() -> None:
    # Victim 1 lost 300, 200 of it in a transfer R holds that no bank has answered yet: the
    # frozen money pays it only the other 100, and the ack that follows returns the 200.
    pending = hold("T-1", amount=200, sender=victim_account(1))
    frozen = freeze(phone_id(7))
    order = ReturnOrder(R, SANCTION, (victim(1, 300),))
    first = plan_return(
        order, CaseFunds([pending], [frozen], {frozen.command_id: applied(1_000)}), NOW
    )
    assert [c["amount"] for c in first.commands] == [100]
    acks = {frozen.command_id: applied(1_000), pending.command_id: applied()}
    second = plan_return(order, CaseFunds([pending], [frozen], acks, first.issued), NOW + 60)
    assert [(c["returns"], c["amount"]) for c in second.commands] == [(pending.command_id, 200)]
