"""The demo's contract check: each case's promised holds and freezes, full releases, and
returns of funds: one at least for each case ordered returned, no money returned twice."""

from __future__ import annotations

from typing import Any

from antifraud.harness.simulation import Scenario
from antifraud.tools.demo.contract import Seen, contract_problems, held_transfers, returned_twice

IBAN = "KZ86125KZT5004100100"


def hold(command_id: str, bank: str, sender: str, transfer_id: str, amount: int) -> dict[str, Any]:
    return {
        "command_id": command_id,
        "type": "hold_transfer",
        "bank_id": bank,
        "transfer": {"bank_id": sender, "transfer_id": transfer_id},
        "amount": amount,
        "report_ids": ["R-1"],
    }


def freeze(command_id: str, bank: str, value: str) -> dict[str, Any]:
    return {
        "command_id": command_id,
        "type": "freeze_account",
        "bank_id": bank,
        "account": {"kind": "iban", "value": value},
        "report_ids": ["R-1"],
    }


def release(command_id: str, releases: str) -> dict[str, Any]:
    return {"command_id": command_id, "type": "release", "releases": releases, "report_ids": []}


def seen(*commands: dict[str, Any]) -> Seen:
    return Seen(commands={c["command_id"]: c for c in commands})


def case(revoked: bool = False) -> Scenario:
    return Scenario(
        report_id="R-1",
        expected_holds={("HSBKKZKX", "CASPKZKA", "T-1"), ("CASPKZKA", "CASPKZKA", "T-1")},
        expected_freezes={("HSBKKZKX", IBAN)},
        revoked=revoked,
    )


def test_a_transfer_held_at_both_banks_counts_once_and_a_released_hold_not_at_all() -> None:
    both = seen(
        hold("h1", "HSBKKZKX", "CASPKZKA", "T-1", 500),
        hold("h2", "CASPKZKA", "CASPKZKA", "T-1", 500),
        hold("h3", "HSBKKZKX", "CASPKZKA", "T-2", 700),
        release("r3", "h3"),
    )
    assert held_transfers(both) == {("CASPKZKA", "T-1"): 500}


def test_every_promise_kept_means_no_problem() -> None:
    kept = seen(
        hold("h1", "HSBKKZKX", "CASPKZKA", "T-1", 500),
        hold("h2", "CASPKZKA", "CASPKZKA", "T-1", 500),
        freeze("f1", "HSBKKZKX", IBAN),
    )
    assert contract_problems([case()], kept) == []


def test_a_missing_hold_and_freeze_are_named_with_the_account_masked() -> None:
    problems = contract_problems([case()], seen(hold("h1", "HSBKKZKX", "CASPKZKA", "T-1", 500)))
    assert problems == [
        "R-1: no hold_transfer to CASPKZKA for transfer T-1 (sent by CASPKZKA)",
        "R-1: no freeze_account to HSBKKZKX for ****************0100",
    ]
    assert IBAN not in "".join(problems)


def test_a_revoked_case_must_have_released_every_command_it_caused() -> None:
    caused = [
        hold("h1", "HSBKKZKX", "CASPKZKA", "T-1", 500),
        hold("h2", "CASPKZKA", "CASPKZKA", "T-1", 500),
        freeze("f1", "HSBKKZKX", IBAN),
    ]
    partly = seen(*caused, release("r1", "h1"))
    assert contract_problems([case(revoked=True)], partly) == [
        "R-1 was revoked but 2 of the 3 commands it caused were not released"
    ]
    fully = seen(*caused, release("r1", "h1"), release("r2", "h2"), release("r3", "f1"))
    assert contract_problems([case(revoked=True)], fully) == []


def give_back(
    command_id: str,
    source: str,
    amount: int,
    to: str = IBAN,
    transfer_id: str | None = None,
    report_id: str = "R-1",
) -> dict[str, Any]:
    command: dict[str, Any] = {
        "command_id": command_id,
        "type": "return_funds",
        "bank_id": "CASPKZKA",
        "returns": source,
        "amount": amount,
        "beneficiary": {"account": {"kind": "iban", "value": to}, "bank_id": "CASPKZKA"},
        "report_ids": [report_id],
    }
    if transfer_id:
        command["transfer"] = {"bank_id": "CASPKZKA", "transfer_id": transfer_id}
    return command


def returned_case() -> Scenario:
    return Scenario(report_id="R-1", return_ordered=True)


def test_a_case_whose_return_was_ordered_must_get_a_return_funds() -> None:
    nothing = seen(give_back("x1", "f9", 100, report_id="R-9"))
    assert contract_problems([returned_case()], nothing) == [
        "R-1: a return was ordered but no return_funds came"
    ]
    assert contract_problems([returned_case()], seen(give_back("x1", "f1", 100))) == []
    assert contract_problems([Scenario(report_id="R-1")], Seen()) == []  # none ordered


def test_a_freeze_may_pay_several_victims_but_each_only_once() -> None:
    other = "KZ20722KZT0000000009"
    split = seen(give_back("x1", "f1", 100), give_back("x2", "f1", 50, to=other))
    assert returned_twice(split) == []
    twice = seen(give_back("x1", "f1", 100), give_back("x2", "f1", 100))
    assert returned_twice(twice) == [
        "the money held by command f1 returned 2 times to iban:****************0100 at CASPKZKA"
    ]
    assert IBAN not in "".join(returned_twice(twice))


def test_a_transfer_is_returned_once_from_one_bank_and_never_beyond_its_hold() -> None:
    holds = [
        hold("h1", "HSBKKZKX", "CASPKZKA", "T-1", 500),
        hold("h2", "CASPKZKA", "CASPKZKA", "T-1", 500),
    ]
    once = seen(*holds, give_back("x1", "h2", 500, transfer_id="T-1"))
    assert returned_twice(once) == []
    from_both = seen(
        *holds,
        give_back("x1", "h2", 500, transfer_id="T-1"),
        give_back("x2", "h1", 500, transfer_id="T-1"),
    )
    assert returned_twice(from_both) == [
        "transfer T-1 (sent by CASPKZKA) returned by 2 return_funds commands"
    ]
    beyond = seen(*holds, give_back("x1", "h2", 501, transfer_id="T-1"))
    assert returned_twice(beyond) == ["5.01 KZT returned from hold h2, which held at most 5.00 KZT"]
    # and the contract check says so too
    assert contract_problems([returned_case()], from_both) == returned_twice(from_both)
