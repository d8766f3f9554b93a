"""Case status: each status, the figures per account and in totals, and the schema."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from antifraud.core.case_status import CaseFacts, case_status
from antifraud.core.cases import BankAck, IssuedReturn, held_amount, holding_source
from antifraud.core.returns import CaseFunds, ReturnOrder, plan_return
from antifraud.core.timestamps import format_rfc3339
from antifraud.schemas import validator
from tests.core.case_builders import (
    MULE,
    NOW,
    SANCTION,
    applied,
    freeze,
    hold,
    holds_at_both_banks,
    victim,
)
from tests.core.strategies import FAST, phone_id
from tests.core.test_returns_properties import REPORTS, World, worlds

R = "R-2026-000042"
DAY = 24 * 3600.0
EXPIRES = NOW + 3 * DAY
RECIPIENT_SIDE, SENDING_SIDE = (replace(h, expires_at=EXPIRES) for h in holds_at_both_banks("T-1"))
FROZEN = freeze(expires_at=EXPIRES)
VICTIMS = (victim(1, 30_000_000),)


def status(facts: CaseFacts, now: float = NOW) -> dict[str, Any]:
    record = case_status(facts, now)
    validator("case_status")(record)
    return record


def facts(**changes: Any) -> CaseFacts:
    base = CaseFacts(R, [RECIPIENT_SIDE, SENDING_SIDE], [FROZEN], victims=VICTIMS)
    return replace(base, **changes)


def returned(records: list[IssuedReturn], status: str = "returned") -> list[IssuedReturn]:
    return [
        replace(r, ack=BankAck(status, amount_returned=r.amount if status == "returned" else None))
        for r in records
    ]


def test_tracking_while_no_bank_has_applied_anything() -> None:
    record = status(facts())
    assert record["status"] == "tracking"
    assert record["totals"] == {
        "accounts": 1,
        "commands": 3,
        "acked": 0,
        "amount_held": 0,
        "amount_escaped": 0,
        "amount_returned": 0,
        "amount_lost": 30_000_000,
        "amount_lapsed": 0,
        "returns": 0,
        "returns_acked": 0,
        "returns_failed": 0,
    }


def test_holding_counts_a_transfer_held_by_both_banks_once() -> None:
    # The contract's example: two holds and a freeze on one phone, two of them acked.
    acks = {
        RECIPIENT_SIDE.command_id: applied(25_000_000),
        SENDING_SIDE.command_id: applied(25_000_000),
    }
    record = status(facts(acks=acks))
    assert record["status"] == "holding"
    assert record["updated_at"] == format_rfc3339(NOW)
    [account] = record["accounts"]
    assert account == {
        "account": MULE.as_json(),
        "hop": 0,
        "via": None,
        "banks": sorted({RECIPIENT_SIDE.bank_id, SENDING_SIDE.bank_id}),
        "holds": 2,
        "freezes": 1,
        "amount_held": 25_000_000,
        "amount_escaped": 0,
        "amount_returned": 0,
        "amount_lapsed": 0,
        "expires_at": format_rfc3339(EXPIRES),
    }
    assert (record["totals"]["commands"], record["totals"]["acked"]) == (3, 2)
    assert record["totals"]["amount_held"] == 25_000_000


def test_a_hold_acked_too_late_is_money_escaped() -> None:
    acks = {
        RECIPIENT_SIDE.command_id: BankAck("too_late"),
        SENDING_SIDE.command_id: BankAck("too_late"),
        FROZEN.command_id: applied(1_000),
    }
    record = status(facts(acks=acks))
    assert record["status"] == "holding"
    assert record["totals"]["amount_escaped"] == 25_000_000
    assert record["totals"]["amount_held"] == 1_000


def ordered_return(case: CaseFacts) -> list[IssuedReturn]:
    funds = CaseFunds(case.holds, case.freezes, case.acks, case.returns)
    return plan_return(ReturnOrder(R, SANCTION, tuple(case.victims)), funds, NOW).issued


def test_returning_until_every_return_is_acked_then_returned() -> None:
    acks = {SENDING_SIDE.command_id: applied(25_000_000), FROZEN.command_id: applied(4_000_000)}
    held = facts(acks=acks)
    issued = ordered_return(held)
    assert len(issued) == 2  # the transfer to its sender, the frozen money to the victim
    record = status(replace(held, returns=issued, return_verdict="issued"))
    assert record["status"] == "returning"
    assert record["return_verdict"] == "issued"
    assert record["totals"]["amount_held"] == 29_000_000  # still held until banks say returned
    first_acked = [*returned(issued[:1]), *issued[1:]]
    assert status(replace(held, returns=first_acked))["status"] == "returning"
    done = status(replace(held, returns=returned(issued)))
    assert done["status"] == "returned"
    assert done["totals"]["amount_returned"] == 25_000_000 + 4_000_000
    assert done["totals"]["amount_held"] == 0
    assert (done["totals"]["returns"], done["totals"]["returns_acked"]) == (2, 2)


def test_a_failed_return_leaves_the_money_held() -> None:
    acks = {SENDING_SIDE.command_id: applied(25_000_000)}
    held = facts(acks=acks)
    failed = returned(ordered_return(held), "failed")
    record = status(replace(held, returns=failed))
    assert record["status"] == "holding"
    assert record["totals"]["amount_held"] == 25_000_000
    assert record["totals"]["amount_returned"] == 0
    assert record["totals"]["returns_failed"] == 1


def test_a_return_before_any_bank_held_money_says_so_and_keeps_tracking() -> None:
    record = status(facts(return_verdict="nothing_yet"))
    assert (record["status"], record["return_verdict"]) == ("tracking", "nothing_yet")


def test_lapsed_when_every_lifetime_is_over_unreturned() -> None:
    acks = {SENDING_SIDE.command_id: applied(25_000_000)}
    later = EXPIRES + 1
    record = status(facts(acks=acks), later)
    assert record["status"] == "lapsed"
    assert record["totals"]["amount_held"] == 0
    assert record["totals"]["amount_lapsed"] == 25_000_000
    assert record["accounts"][0]["expires_at"] == format_rfc3339(EXPIRES)


def test_an_extension_keeps_the_case_holding_past_the_first_lifetime() -> None:
    acks = {SENDING_SIDE.command_id: applied(25_000_000)}
    until = EXPIRES + 10 * DAY
    extended = dict.fromkeys(
        (RECIPIENT_SIDE.command_id, SENDING_SIDE.command_id, FROZEN.command_id), until
    )
    record = status(facts(acks=acks, extended=extended), EXPIRES + 1)
    assert record["status"] == "holding"
    assert record["accounts"][0]["expires_at"] == format_rfc3339(until)


def test_revoked_releases_what_was_held_and_keeps_what_was_returned() -> None:
    acks = {SENDING_SIDE.command_id: applied(25_000_000), FROZEN.command_id: applied(4_000_000)}
    held = facts(acks=acks)
    done = returned(ordered_return(held)[:1])
    record = status(replace(held, returns=done, revoked=True))
    assert record["status"] == "revoked"
    assert record["totals"]["amount_held"] == 0
    assert record["totals"]["amount_returned"] == 25_000_000


def test_suspects_show_their_hop_and_the_money_trail() -> None:
    upstream = MULE.key
    suspect = phone_id(9)
    mule_freeze = freeze(suspect, hop=1, via=upstream, expires_at=EXPIRES)
    mule_hold = hold("T-9", account=suspect, hop=1, via=upstream, expires_at=EXPIRES - DAY)
    record = status(facts(holds=[RECIPIENT_SIDE, mule_hold], freezes=[FROZEN, mule_freeze]))
    first, second = record["accounts"]
    assert (first["hop"], first["via"]) == (0, None)
    assert (second["account"], second["hop"], second["via"]) == (suspect.as_json(), 1, upstream)
    assert second["expires_at"] == format_rfc3339(EXPIRES - DAY)  # the earliest still running
    assert record["totals"]["accounts"] == 2


# ---------------------------------------------------------------------------- properties


@FAST
@given(worlds(), st.sampled_from(REPORTS), st.booleans(), st.floats(NOW - DAY, NOW + DAY))
def test_status_is_valid_and_its_figures_add_up(
    world: World, report_id: str, answer: bool, expires_at: float
) -> None:
    funds = world.funds_of(report_id)
    holds = [replace(h, expires_at=expires_at) for h in funds.holds]
    freezes = [replace(f, expires_at=expires_at) for f in funds.freezes]
    plan = plan_return(ReturnOrder(report_id, SANCTION, world.victims[report_id]), funds, NOW)
    returns = returned(plan.issued) if answer else plan.issued
    case = CaseFacts(
        report_id, holds, freezes, funds.acks, returns, victims=world.victims[report_id]
    )
    record = status(case)
    totals = record["totals"]
    for figure in ("amount_held", "amount_escaped", "amount_returned", "amount_lapsed"):
        assert totals[figure] == sum(a[figure] for a in record["accounts"])
    by_transfer: dict[str, list] = {}
    for h in holds:
        by_transfer.setdefault(h.transfer.key, []).append(h)
    ever_held = sum(
        held_amount(source, funds.acks.get(source.command_id))
        for source in (holding_source(hs, funds.acks) for hs in by_transfer.values())
        if source is not None
    ) + sum(held_amount(f, funds.acks.get(f.command_id)) for f in freezes)
    assert totals["amount_held"] + totals["amount_returned"] + totals["amount_lapsed"] == ever_held
    expected = "returned" if plan.issued and answer else "returning" if plan.issued else None
    if expected:
        assert record["status"] == expected
    elif expires_at <= NOW and (holds or freezes):
        assert record["status"] == "lapsed"
