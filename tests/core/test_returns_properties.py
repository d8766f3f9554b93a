"""Return of funds over many generated cases: money moves once and never more than was held.

A generated world has transfers held by one or two banks, frozen accounts shared by up to two
reports, victims, and the banks' acks. A sequence of steps then runs against it: sanctioned
returns for either report, revocations, and banks answering the returns (`returned`, part
returned, `failed`, or not yet). After every step the invariants are checked on everything
issued so far.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TypeVar

from hypothesis import given
from hypothesis import strategies as st

from antifraud.core.cases import BankAck, Freeze, Hold, IssuedReturn, Victim, held_amount
from antifraud.core.returns import CaseFunds, ReturnOrder, plan_return
from tests.core.case_builders import (
    NOW,
    RECIPIENT_BANK,
    SANCTION,
    SENDING_BANK,
    freeze,
    hold,
    victim_account,
)
from tests.core.strategies import FAST, phone_id

T = TypeVar("T")
REPORTS = ("R-1", "R-2")
amounts = st.integers(min_value=1, max_value=10**7)


@dataclass
class World:
    holds: list[Hold]
    freezes: list[Freeze]
    supporters: dict[str, set[str]]  # command id -> reports that support it
    taint: dict[str, dict[str, int]]  # freeze command id -> report -> tainted amount
    acks: dict[str, BankAck]
    victims: dict[str, tuple[Victim, ...]]
    revoked: set[str] = field(default_factory=set)
    returns: list[IssuedReturn] = field(default_factory=list)

    def funds_of(self, report_id: str) -> CaseFunds:
        live = [r for r in REPORTS if r not in self.revoked]
        holds = [h for h in self.holds if report_id in self.supporters[h.command_id]]
        freezes = [
            replace(
                f,
                tainted={
                    r: t
                    for r, t in self.taint[f.command_id].items()
                    if r in live and r in self.supporters[f.command_id]
                },
            )
            for f in self.freezes
            if report_id in self.supporters[f.command_id]
        ]
        return CaseFunds(holds, freezes, self.acks, self.returns, report_id in self.revoked)


hold_acks = st.one_of(
    st.none(),
    st.builds(BankAck, st.sampled_from(["too_late", "not_found", "rejected"])),
    st.builds(lambda held: BankAck("applied", held), st.none() | st.integers(0, 2 * 10**7)),
)
freeze_acks = st.one_of(
    st.none(),
    st.builds(BankAck, st.sampled_from(["not_found", "rejected"])),
    st.builds(lambda held: BankAck("applied", held), st.none() | st.integers(0, 3 * 10**7)),
)
supporter_sets = st.sets(st.sampled_from(REPORTS), min_size=1)


@st.composite
def worlds(draw: st.DrawFn) -> World:
    holds, freezes, supporters, taint, acks = [], [], {}, {}, {}
    for n in range(draw(st.integers(0, 4))):
        sender = victim_account(draw(st.integers(1, 5)))
        amount = draw(amounts)
        supported = draw(supporter_sets)
        banks = [RECIPIENT_BANK] + ([SENDING_BANK] if draw(st.booleans()) else [])
        for bank in banks:
            h = hold(f"T-{n}", bank_id=bank, amount=amount, sender=sender)
            holds.append(h)
            supporters[h.command_id] = supported
            ack = draw(hold_acks)
            if ack is not None:
                acks[h.command_id] = ack
    for n in range(draw(st.integers(0, 3))):
        f = freeze(phone_id(100 + n), bank_id=draw(st.sampled_from([RECIPIENT_BANK, SENDING_BANK])))
        freezes.append(f)
        supporters[f.command_id] = draw(supporter_sets)
        taint[f.command_id] = {r: draw(st.integers(0, 10**7)) for r in supporters[f.command_id]}
        ack = draw(freeze_acks)
        if ack is not None:
            acks[f.command_id] = ack
    victims = {
        r: tuple(
            Victim(victim_account(serial), SENDING_BANK, lost)
            for serial, lost in draw(st.lists(st.tuples(st.integers(1, 6), amounts), max_size=4))
        )
        for r in REPORTS
    }
    return World(holds, freezes, supporters, taint, acks, victims)


steps = st.lists(
    st.tuples(st.sampled_from(["return", "return", "answer", "revoke"]), st.sampled_from(REPORTS)),
    min_size=1,
    max_size=8,
)


def answer_returns(world: World, rng: random.Random) -> None:
    """Banks answer some pending returns: all of it back, part of it, or `failed`."""
    for index, record in enumerate(world.returns):
        if record.ack is not None or rng.random() < 0.3:
            continue
        status = rng.choice(["returned", "returned", "failed"])
        returned = None
        if status == "returned" and rng.random() < 0.3:
            returned = rng.randint(0, record.amount)
        world.returns[index] = replace(record, ack=BankAck(status, amount_returned=returned))


def check_invariants(world: World) -> None:
    commands = {c.command_id: c for c in (*world.holds, *world.freezes)}
    by_transfer: dict[str, list[IssuedReturn]] = defaultdict(list)
    by_command: dict[str, int] = defaultdict(int)
    for record in world.returns:
        by_command[record.returns] += record.committed
        if record.transfer_key is not None:
            by_transfer[record.transfer_key].append(record)
    # Ids are unique: one id per returned hold or freeze, beneficiary and attempt.
    assert len({r.command_id for r in world.returns}) == len(world.returns)
    # No transfer is returned twice.
    for records in by_transfer.values():
        assert sum(1 for r in records if r.committed > 0) <= 1
    # Returns from an account never exceed what its bank acked as held.
    for command_id, committed in by_command.items():
        assert committed <= held_amount(commands[command_id], world.acks.get(command_id))
    # No victim gets more from frozen accounts than it lost (less its own transfers returned).
    for report_id, victims in world.victims.items():
        lost: dict[str, int] = defaultdict(int)
        for v in victims:
            lost[v.key] += v.amount_lost
        for key, amount in lost.items():
            from_freezes = sum(
                r.committed
                for r in world.returns
                if r.report_id == report_id and r.transfer_key is None and r.beneficiary_key == key
            )
            own_transfers = sum(
                r.committed
                for r in world.returns
                if r.transfer_key is not None
                and r.beneficiary_key == key
                and report_id in world.supporters[r.returns]
            )
            assert from_freezes + own_transfers <= max(amount, own_transfers)


@FAST
@given(worlds(), steps, st.randoms(use_true_random=False))
def test_money_moves_once_and_never_more_than_was_held(
    world: World, sequence: list[tuple[str, str]], rng: random.Random
) -> None:
    now = NOW
    for action, report_id in sequence:
        now += 60
        if action == "revoke":
            world.revoked.add(report_id)
        elif action == "answer":
            answer_returns(world, rng)
        else:
            order = ReturnOrder(report_id, SANCTION, world.victims[report_id])
            plan = plan_return(order, world.funds_of(report_id), now)
            if report_id in world.revoked:
                assert plan.commands == []
            world.returns.extend(plan.issued)
            assert [c["command_id"] for c in plan.commands] == [r.command_id for r in plan.issued]
        check_invariants(world)


@FAST
@given(worlds(), st.sampled_from(REPORTS))
def test_returned_and_still_held_add_up_to_what_was_held(world: World, report_id: str) -> None:
    funds = world.funds_of(report_id)
    plan = plan_return(ReturnOrder(report_id, SANCTION, world.victims[report_id]), funds, NOW)
    commands = {c.command_id: c for c in (*funds.holds, *funds.freezes)}
    returned: dict[str, int] = defaultdict(int)
    for record in plan.issued:
        returned[record.returns] += record.amount
    for command_id, still in plan.still_held.items():
        held = held_amount(commands[command_id], funds.acks.get(command_id))
        assert returned[command_id] + still == held
    assert set(returned) <= set(plan.still_held)


@FAST
@given(worlds(), st.sampled_from(REPORTS), st.randoms(use_true_random=False))
def test_the_result_does_not_depend_on_the_order_facts_arrived_in(
    world: World, report_id: str, rng: random.Random
) -> None:
    funds = world.funds_of(report_id)
    victims = world.victims[report_id]
    # Every victim account with one bank, so naming order cannot change a beneficiary's bank.
    plan = plan_return(ReturnOrder(report_id, SANCTION, victims), funds, NOW)

    def shuffled(items: Sequence[T]) -> list[T]:
        out = list(items)
        rng.shuffle(out)
        return out

    acks_in_another_order = dict(shuffled(list(funds.acks.items())))
    other = plan_return(
        ReturnOrder(report_id, SANCTION, tuple(shuffled(victims))),
        CaseFunds(
            shuffled(funds.holds),
            shuffled(funds.freezes),
            acks_in_another_order,
            shuffled(funds.earlier_returns),
            funds.revoked,
        ),
        NOW,
    )
    assert other == plan
