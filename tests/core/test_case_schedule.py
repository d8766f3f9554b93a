"""The cases' timer reads a schedule instead of decoding every case: it must find exactly the
cases time may have changed, and count them as a full pass would."""

from __future__ import annotations

from collections import Counter
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from antifraud.core.case_file import ExtendOrdered, Revoked, next_change
from antifraud.core.case_schedule import CaseSchedule
from antifraud.core.cases import BankAck
from tests.core.case_builders import SANCTION
from tests.core.test_case_file import LIFETIME, NOW, World, opened_case

STATUSES = st.sampled_from(["tracking", "holding", "returning", "lapsed"])
NOTES = st.lists(
    st.tuples(st.integers(0, 20), st.none() | st.floats(0, 100), STATUSES), max_size=60
)


@given(NOTES, st.floats(0, 100))
def test_due_and_counts_are_those_of_each_case_last_noted(
    notes: list[tuple[int, float | None, str]], now: float
) -> None:
    schedule: CaseSchedule[int] = CaseSchedule()
    last: dict[int, tuple[float | None, str]] = {}
    for key, due, status in notes:
        schedule.note(key, due, status)
        last[key] = (due, status)
    expected_due = {k for k, (due, _) in last.items() if due is not None and due <= now}
    assert set(schedule.due(now)) == expected_due
    assert len(schedule.due(now)) == len(expected_due)
    assert schedule.counts() == Counter(status for _, status in last.values())
    schedule.clear()
    assert schedule.due(now) == [] and schedule.counts() == Counter()


# Steps of a rebuild: the pass's read of one case, or the agent noting one meanwhile.
REBUILD_STEPS = st.lists(
    st.tuples(st.booleans(), st.integers(0, 10), st.none() | st.floats(0, 100), STATUSES),
    max_size=40,
)


@given(NOTES, REBUILD_STEPS, st.floats(0, 100))
def test_a_rebuild_never_puts_an_older_read_over_the_agents_newer_note(
    before: list[tuple[int, float | None, str]],
    steps: list[tuple[bool, int, float | None, str]],
    now: float,
) -> None:
    schedule: CaseSchedule[int] = CaseSchedule()
    for key, due, status in before:
        schedule.note(key, due, status)
    schedule.begin_rebuild()  # what was noted before is forgotten: the table has it
    latest: dict[int, tuple[float | None, str]] = {}
    noted_by_agent: set[int] = set()
    for from_table, key, due, status in steps:
        if from_table:
            schedule.note_from_table(key, due, status)
            if key not in noted_by_agent:
                latest[key] = (due, status)
        else:
            schedule.note(key, due, status)
            noted_by_agent.add(key)
            latest[key] = (due, status)
    schedule.end_rebuild()
    expected_due = {k for k, (due, _) in latest.items() if due is not None and due <= now}
    assert set(schedule.due(now)) == expected_due
    assert schedule.counts() == Counter(status for _, status in latest.values())
    schedule.note_from_table(0, 0.0, "lapsed")  # after the rebuild, a read counts again
    assert 0 in schedule.due(now)


# ------------------------------------------- next_change: when time alone may change a case

ACKS = st.sampled_from(
    [None, BankAck("applied", 8_000_000), BankAck("too_late"), BankAck("failed")]
)
DAY = 86400.0


def _settled(status: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in status.items() if key != "updated_at"}


@given(
    st.lists(ACKS, min_size=3, max_size=3),
    st.none() | st.floats(-2 * DAY, 20 * DAY),
    st.booleans(),
    st.floats(0, 30 * DAY),
    st.floats(0, 30 * DAY),
)
def test_a_case_does_not_change_by_time_alone_before_its_next_change(
    acks: list[BankAck | None],
    extended_by: float | None,
    revoked: bool,
    first: float,
    later: float,
) -> None:
    world = World()
    commands = opened_case(world)
    for command_id, ack in zip(commands, acks, strict=True):
        if ack is not None:
            world.ack(command_id, ack)
    if extended_by is not None:
        world.to_case("R-1", ExtendOrdered(SANCTION, LIFETIME + extended_by))
    if revoked:
        world.to_case("R-1", Revoked())
    case = world.cases["R-1"]
    t1 = NOW + first
    t2 = t1 + later
    change = next_change(case, t1)
    if change is None or change > t2:
        assert _settled(world.status("R-1", t1)) == _settled(world.status("R-1", t2))
    else:
        assert t1 < change <= t2
