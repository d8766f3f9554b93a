"""Sanctioned extension: which holds and freezes get an `extend`, and with which id."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from antifraud.core.cases import BankAck, Freeze, Hold, IssuedReturn
from antifraud.core.command_ids import extend_command_id
from antifraud.core.extensions import ExtendOrder, plan_extension
from antifraud.core.timestamps import format_rfc3339, parse_rfc3339
from antifraud.schemas import validator
from tests.core.case_builders import NOW, SANCTION, applied, freeze, hold
from tests.core.strategies import FAST, phone_id

R = "R-2026-000042"
DAY = 24 * 3600.0
UNTIL = parse_rfc3339("2026-12-31T18:00:00+05:00")
ORDER = ExtendOrder(R, SANCTION, UNTIL)
EXPIRES = NOW + 2 * DAY


def test_every_live_hold_and_freeze_gets_one_extend_to_its_bank() -> None:
    held, frozen = hold("T-1", expires_at=EXPIRES), freeze(expires_at=EXPIRES)
    plan = plan_extension(ORDER, [held, frozen], {held.command_id: applied()}, [], NOW)
    by_extended = {c["extends"]: c for c in plan.commands}
    assert set(by_extended) == {held.command_id, frozen.command_id}
    extend = by_extended[held.command_id]
    assert extend == {
        "command_id": extend_command_id(held.command_id, "2026-12-31T13:00:00.000Z"),
        "type": "extend",
        "bank_id": held.bank_id,
        "account": held.account.as_json(),
        "extends": held.command_id,
        "transfer": held.transfer.as_json(),
        "report_ids": [R],
        "sanction": SANCTION.as_json(),
        "reason": "hold_extended",
        "hop": 0,
        "issued_at": format_rfc3339(NOW),
        "expires_at": "2026-12-31T13:00:00.000Z",
    }
    assert "transfer" not in by_extended[frozen.command_id]
    assert plan.extended == {held.command_id: UNTIL, frozen.command_id: UNTIL}
    for command in plan.commands:
        validator("command")(command)


def test_an_until_not_later_than_the_current_lifetime_changes_nothing() -> None:
    later = hold("T-1", expires_at=UNTIL + DAY)
    same = hold("T-2", expires_at=UNTIL)
    plan = plan_extension(ORDER, [later, same], {}, [], NOW)
    assert (plan.commands, plan.extended) == ([], {})


def test_a_repeated_extend_issues_nothing_and_a_longer_one_a_new_id() -> None:
    held = hold("T-1", expires_at=EXPIRES)
    first = plan_extension(ORDER, [held], {}, [], NOW)
    extended = replace(held, expires_at=first.extended[held.command_id])
    assert plan_extension(ORDER, [extended], {}, [], NOW + 60).commands == []
    longer = plan_extension(replace(ORDER, until=UNTIL + 7 * DAY), [extended], {}, [], NOW + 60)
    assert len(longer.commands) == 1
    assert longer.commands[0]["command_id"] != first.commands[0]["command_id"]


def test_lapsed_unheld_and_returned_commands_are_not_extended() -> None:
    lapsed = hold("T-1", expires_at=NOW)
    too_late = hold("T-2", expires_at=EXPIRES)
    returned = hold("T-3", expires_at=EXPIRES, amount=500)
    part_returned = freeze(phone_id(8), expires_at=EXPIRES)
    acks = {
        too_late.command_id: BankAck("too_late"),
        returned.command_id: applied(500),
        part_returned.command_id: applied(1_000),
    }
    returns = [
        IssuedReturn(
            "a" * 32,
            returned.command_id,
            R,
            "iban:X",
            500,
            returned.transfer.key,
            BankAck("returned", amount_returned=500),
        ),
        IssuedReturn(
            "b" * 32,
            part_returned.command_id,
            R,
            "iban:X",
            400,
            None,
            BankAck("returned", amount_returned=400),
        ),
    ]
    plan = plan_extension(ORDER, [lapsed, too_late, returned, part_returned], acks, returns, NOW)
    assert [c["extends"] for c in plan.commands] == [part_returned.command_id]


def test_a_return_not_yet_acknowledged_keeps_the_money_held_and_extendable() -> None:
    held = hold("T-1", expires_at=EXPIRES, amount=500)
    pending = IssuedReturn("a" * 32, held.command_id, R, "iban:X", 500, held.transfer.key)
    plan = plan_extension(ORDER, [held], {held.command_id: applied()}, [pending], NOW)
    assert len(plan.commands) == 1


commands = st.lists(
    st.builds(
        lambda n, is_hold, expires: (
            hold(f"T-{n}", expires_at=expires)
            if is_hold
            else freeze(phone_id(n), expires_at=expires)
        ),
        st.integers(0, 50),
        st.booleans(),
        st.floats(NOW - DAY, UNTIL + 3 * DAY),
    ),
    max_size=8,
    unique_by=lambda c: c.command_id,
)


@FAST
@given(commands, st.floats(NOW - DAY, UNTIL + 3 * DAY))
def test_extensions_only_lengthen_live_lifetimes_once(
    live: list[Hold | Freeze], until: float
) -> None:
    order = ExtendOrder(R, SANCTION, until)
    plan = plan_extension(order, live, {}, [], NOW)
    by_id = {c.command_id: c for c in live}
    for extended, new_expiry in plan.extended.items():
        assert by_id[extended].expires_at < new_expiry == until
        assert by_id[extended].expires_at > NOW
    # ...and every live one that `until` lengthens is extended.
    assert set(plan.extended) == {c.command_id for c in live if NOW < c.expires_at < until}
    assert len({c["command_id"] for c in plan.commands}) == len(plan.commands)
    shuffled = list(reversed(live))
    assert plan_extension(order, shuffled, {}, [], NOW) == plan
    # After applying the extension, the same order changes nothing.
    after = [replace(c, expires_at=plan.extended.get(c.command_id, c.expires_at)) for c in live]
    assert plan_extension(order, after, {}, [], NOW).commands == []
