"""A report's case with the owners of its money, all pure: from the first link to `returned`.

`World` plays the two agents (agents/money.py, agents/cases.py) over plain dicts, every view
passing through its bytes as it would through the topics.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from antifraud.core.case_file import (
    MAX_COMMANDS_PER_CASE,
    CaseEvent,
    CaseFile,
    ExtendOrdered,
    MoneyChanged,
    Opened,
    ReturnOrdered,
    Revoked,
    apply_case,
    case_facts,
    next_change,
)
from antifraud.core.case_links import CaseLink
from antifraud.core.case_serde import (
    dump_case,
    dump_case_event,
    dump_money,
    load_case,
    load_case_event,
    load_money,
)
from antifraud.core.case_status import case_status
from antifraud.core.cases import BankAck, Victim
from antifraud.core.command_ids import freeze_command_id, hold_command_id
from antifraud.core.held_money import Acked, Derive, HeldMoney, Linked, MoneyEvent, apply_money
from antifraud.core.timestamps import format_rfc3339
from tests.core.case_builders import MULE, SANCTION, victim_account
from tests.core.strategies import FAST, T0

NOW = T0 + 3600
LIFETIME = T0 + 5 * 86400
VICTIM = Victim(victim_account(1), "CASPKZKA", 30_000_000)


class World:
    def __init__(self) -> None:
        self.money: dict[str, HeldMoney] = {}
        self.cases: dict[str, CaseFile] = {}
        self.issued: list[dict[str, Any]] = []
        self.refused: list[str] = []
        self.returned: list[tuple[str, int]] = []

    def to_money(self, command_id: str, event: MoneyEvent) -> None:
        money = self.money.setdefault(command_id, HeldMoney())
        outcome = apply_money(money, command_id, event)
        self.issued += outcome.commands
        self.refused += [why for _, why in outcome.refused]
        self.money[command_id] = load_money(dump_money(money))  # as the table keeps it
        if outcome.changed:
            for report_id in money.reports:
                self.to_case(report_id, MoneyChanged(command_id, load_money(dump_money(money))))

    def to_case(self, report_id: str, event: CaseEvent, now: float = NOW) -> None:
        case = self.cases.get(report_id) or CaseFile(report_id)
        outcome = apply_case(case, load_case_event(dump_case_event(event)), now)
        self.cases[report_id] = load_case(dump_case(case), report_id)
        self.returned += outcome.returned
        for target, command in outcome.derive:
            self.to_money(target, Derive(command))

    def status(self, report_id: str, now: float = NOW) -> dict[str, Any]:
        return case_status(case_facts(self.cases[report_id]), now)

    def ack(self, command_id: str, ack: BankAck, target: str | None = None) -> None:
        self.to_money(target or command_id, Acked(command_id, ack))


def hold(bank_id: str, transfer_id: str = "T-1", amount: int = 25_000_000) -> dict[str, Any]:
    return {
        "command_id": hold_command_id(bank_id, f"CASPKZKA/{transfer_id}", 0),
        "type": "hold_transfer",
        "bank_id": bank_id,
        "transfer": {"bank_id": "CASPKZKA", "transfer_id": transfer_id},
        "amount": amount,
        "currency": "KZT",
        "account": MULE.as_json(),
        "report_ids": ["R-1"],
        "hop": 0,
        "expires_at": format_rfc3339(LIFETIME),
    }


def freeze() -> dict[str, Any]:
    return {
        "command_id": freeze_command_id("HSBKKZKX", MULE.key, 0, None),
        "type": "freeze_account",
        "bank_id": "HSBKKZKX",
        "account": MULE.as_json(),
        "report_ids": ["R-1"],
        "hop": 0,
        "expires_at": format_rfc3339(LIFETIME),
    }


def opened_case(world: World, reports: tuple[str, ...] = ("R-1",)) -> list[str]:
    """R-1 (30,000,000 lost) with a transfer held at both banks and the mule's account frozen."""
    world.to_case("R-1", Opened(T0, (VICTIM,)))
    commands = [hold("HSBKKZKX"), hold("CASPKZKA"), freeze()]
    for command in commands:
        sender = (VICTIM.key, "CASPKZKA") if command["type"] == "hold_transfer" else None
        weights = dict.fromkeys(reports, 0) if command["type"] == "freeze_account" else {}
        link = CaseLink(command["command_id"], reports, weights, command, sender)
        world.to_money(command["command_id"], Linked(link))
    return [c["command_id"] for c in commands]


def test_the_whole_life_of_a_case_from_tracking_to_returned() -> None:
    world = World()
    recipient_hold, sending_hold, frozen = opened_case(world)
    assert world.status("R-1")["status"] == "tracking"
    world.to_case("R-1", ReturnOrdered(SANCTION))
    assert world.issued == []  # no bank holds anything yet
    assert world.status("R-1")["return_verdict"] == "nothing_yet"

    for command_id in (recipient_hold, sending_hold):
        world.ack(command_id, BankAck("applied", 25_000_000))
    world.ack(frozen, BankAck("applied", 8_000_000))
    status = world.status("R-1")
    assert status["status"] == "holding"
    assert status["totals"]["amount_held"] == 33_000_000  # the transfer once, and the freeze

    world.to_case("R-1", ReturnOrdered(SANCTION))
    returns = [(c["returns"], c["amount"], c["beneficiary"]["bank_id"]) for c in world.issued]
    # Rule 1: the transfer back to its sender, from the sending bank (the money never left it).
    # Rule 2: the victim is still owed 5,000,000 of its 30,000,000: that much from the freeze.
    assert returns == [(sending_hold, 25_000_000, "CASPKZKA"), (frozen, 5_000_000, "CASPKZKA")]
    assert world.status("R-1")["status"] == "returning"

    world.to_case("R-1", ReturnOrdered(SANCTION))  # a repeated return issues nothing new
    assert len(world.issued) == 2 and world.cases["R-1"].return_verdict == "nothing_new"

    for command in world.issued:
        said = BankAck("returned", amount_returned=command["amount"])
        world.ack(command["command_id"], said, target=command["returns"])
    status = world.status("R-1")
    assert status["status"] == "returned"
    assert status["totals"]["amount_returned"] == 30_000_000
    assert status["totals"]["amount_held"] == 3_000_000  # unclaimed money stays held
    # Each return counted once as returned (the metric), however often its view arrives.
    assert sorted(world.returned) == sorted((c["command_id"], c["amount"]) for c in world.issued)


def test_a_revoked_case_returns_nothing_and_extends_nothing() -> None:
    world = World()
    _, _, frozen = opened_case(world)
    world.ack(frozen, BankAck("applied", 8_000_000))
    world.to_case("R-1", Revoked())
    world.to_case("R-1", ReturnOrdered(SANCTION))
    world.to_case("R-1", ExtendOrdered(SANCTION, LIFETIME + 86400))
    assert world.issued == []
    assert world.status("R-1")["status"] == "revoked"
    assert world.cases["R-1"].return_verdict == "revoked"


def test_an_extension_reaches_every_live_command_once_and_moves_the_expiry() -> None:
    world = World()
    commands = opened_case(world)
    world.ack(commands[0], BankAck("too_late"))  # nothing held there to keep
    until = LIFETIME + 20 * 86400
    world.to_case("R-1", ExtendOrdered(SANCTION, until))
    extended = sorted(c["extends"] for c in world.issued)
    assert extended == sorted(commands[1:])
    assert {c["expires_at"] for c in world.issued} == {format_rfc3339(until)}
    world.to_case("R-1", ExtendOrdered(SANCTION, until))
    assert len(world.issued) == 2
    after_lifetime = LIFETIME + 86400
    assert world.status("R-1", after_lifetime)["status"] != "lapsed"
    assert next_change(world.cases["R-1"], NOW) == LIFETIME  # the too_late hold's own


def test_without_extension_everything_lapses() -> None:
    world = World()
    _, _, frozen = opened_case(world)
    world.ack(frozen, BankAck("applied", 8_000_000))
    assert world.status("R-1", LIFETIME + 1)["status"] == "lapsed"
    assert next_change(world.cases["R-1"], LIFETIME + 1) is None


def test_an_older_view_never_replaces_a_newer_one() -> None:
    case = CaseFile("R-1")
    newer = HeldMoney(version=3)
    apply_case(case, MoneyChanged("x", newer), NOW)
    apply_case(case, MoneyChanged("x", HeldMoney(version=2, reports=["R-9"])), NOW)
    assert case.money["x"] is newer


def test_a_case_keeps_a_bounded_number_of_holds_and_counts_the_rest() -> None:
    world = World()
    world.to_case("R-1", Opened(T0, (VICTIM,)))
    dropped = 0
    for n in range(MAX_COMMANDS_PER_CASE + 3):
        command = hold("HSBKKZKX", f"T-{n}")
        link = CaseLink(command["command_id"], ("R-1",), {}, command, (VICTIM.key, "CASPKZKA"))
        money = HeldMoney()
        apply_money(money, link.command_id, Linked(link))
        dropped += apply_case(
            world.cases["R-1"], MoneyChanged(command["command_id"], money), NOW
        ).dropped
    assert dropped == 3 and len(world.cases["R-1"].money) == MAX_COMMANDS_PER_CASE
    assert len(dump_case(world.cases["R-1"])) < 900_000  # one changelog record


@FAST
@given(
    held=st.integers(1, 10**9),
    lost=st.tuples(st.integers(1, 10**9), st.integers(1, 10**9)),
    weights=st.tuples(st.integers(0, 10**9), st.integers(0, 10**9)),
    first=st.sampled_from(["R-1", "R-2"]),
    stale=st.booleans(),
)
def test_two_reports_sharing_a_freeze_never_return_more_than_it_holds(
    held: int, lost: tuple[int, int], weights: tuple[int, int], first: str, stale: bool
) -> None:
    world = World()
    command = freeze()
    world.to_case("R-1", Opened(T0, (Victim(victim_account(1), "CASPKZKA", lost[0]),)))
    world.to_case("R-2", Opened(T0, (Victim(victim_account(2), "CASPKZKA", lost[1]),)))
    split = {"R-1": weights[0], "R-2": weights[1]}
    link = CaseLink(command["command_id"], ("R-1", "R-2"), split, command)
    world.to_money(command["command_id"], Linked(link))
    world.ack(command["command_id"], BankAck("applied", held))
    second = "R-2" if first == "R-1" else "R-1"
    if stale:
        # The second case plans before it hears of the first one's returns.
        world.cases[second] = load_case(dump_case(world.cases[second]), second)
        snapshot = dump_case(world.cases[second])
        world.to_case(first, ReturnOrdered(SANCTION))
        world.cases[second] = load_case(snapshot, second)
    else:
        world.to_case(first, ReturnOrdered(SANCTION))
    world.to_case(second, ReturnOrdered(SANCTION))
    assert sum(c["amount"] for c in world.issued) <= held
    for report_id, victim_lost in zip(("R-1", "R-2"), lost, strict=True):
        mine = [c for c in world.issued if c["report_ids"] == [report_id]]
        assert sum(c["amount"] for c in mine) <= victim_lost
