"""Whether the worker makes progress (antifraud.core.progress): a partition with records waiting
that has not moved for the threshold is stalled; writes failing or waited for that long are."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from antifraud.core.progress import Position, Watch, Writes, broker_silent_for, look, stalled
from tests.core.strategies import FAST

AFTER = 30.0


def run(looks: list[tuple[float, dict[str, Position]]]) -> list[list[str]]:
    """What `stalled` says after each look, the watches carried from one look to the next."""
    watches: dict[str, Watch] = {}
    said = []
    for now, positions in looks:
        watches = look(watches, positions, now)
        said.append(stalled(watches, positions, now, AFTER))
    return said


def test_a_partition_with_records_waiting_that_does_not_move_is_stalled_after_30_s() -> None:
    stuck = {"t/0": Position(highwater=10, committed=4, read=9)}
    assert run([(0, stuck), (29.9, stuck), (30, stuck), (95, stuck)]) == [[], [], ["t/0"], ["t/0"]]


def test_a_partition_that_moves_is_not_stalled_however_long_it_has_records_waiting() -> None:
    looks = [(t, {"t/0": Position(10_000, committed=t, read=t + 5)}) for t in range(0, 300, 10)]
    assert run(looks) == [[] for _ in looks]


def test_the_clock_starts_when_records_begin_to_wait_not_when_the_partition_last_moved() -> None:
    idle = {"t/0": Position(highwater=4, committed=4, read=3)}
    busy = {"t/0": Position(highwater=9, committed=4, read=3)}
    assert run([(0, idle), (3600, idle), (3601, busy), (3630, busy), (3631, busy)]) == [
        [],
        [],
        [],
        [],
        ["t/0"],
    ]


def test_a_partition_never_committed_waits_while_its_last_record_read_is_not_done() -> None:
    # An agent stuck on the first record of a partition: read, never committed.
    first = {"t/1": Position(highwater=1, committed=None, read=0)}
    assert run([(0, first), (31, first)]) == [[], ["t/1"]]
    nothing_read = {"t/1": Position(highwater=5, committed=None, read=None)}
    assert run([(0, nothing_read), (60, nothing_read)]) == [[], []]
    no_highwater = {"t/1": Position(highwater=None, committed=3, read=7)}
    assert run([(0, no_highwater), (60, no_highwater)]) == [[], []]


def test_a_partition_no_longer_owned_is_forgotten() -> None:
    watches = look({}, {"t/0": Position(9, 1, 1), "t/1": Position(9, 1, 1)}, 0)
    assert set(look(watches, {"t/1": Position(9, 1, 1)}, 10)) == {"t/1"}


positions = st.builds(
    Position,
    st.none() | st.integers(0, 50),
    st.none() | st.integers(0, 50),
    st.none() | st.integers(0, 50),
)


@FAST
@given(st.lists(st.tuples(st.floats(0, 100), positions), min_size=1, max_size=20))
def test_stalled_means_waiting_and_unmoved_for_the_whole_threshold(
    steps: list[tuple[float, Position]],
) -> None:
    now, watches = 0.0, {}
    history: list[tuple[float, Position]] = []
    for delta, position in steps:
        now += delta
        watches = look(watches, {"p": position}, now)
        history.append((now, position))
        if stalled(watches, {"p": position}, now, AFTER):
            # every look since the clock started saw it waiting with the same mark (looks at
            # the very instant it started may precede it)
            since = watches["p"].since
            assert now - since >= AFTER and position.waiting()
            assert all(p.waiting() and p.mark() == position.mark() for t, p in history if t > since)


def test_writes_fail_from_the_first_failure_until_a_success() -> None:
    writes = Writes()
    assert writes.failing_for(100) == 0
    writes.failed(100)
    writes.failed(120)  # the first failure counts
    assert writes.failing_for(131) == 31
    writes.succeeded()
    assert writes.failing_for(140) == 0


def test_a_write_waited_for_counts_as_failing_for_as_long_as_it_waits() -> None:
    writes = Writes()
    first = writes.wait_started(10)
    second = writes.wait_started(20)
    assert writes.failing_for(45) == 35  # the oldest wait
    writes.wait_ended(first)
    assert writes.failing_for(45) == 25
    writes.wait_ended(second)
    writes.wait_ended(second)  # twice is harmless
    assert writes.failing_for(45) == 0


def test_a_broker_that_answers_no_fetch_is_silent_from_its_last_answer() -> None:
    fresh = {"t/0": Position(5, 5, 4, fetched_at=100.0), "t/1": Position(0, None, None, 70.0)}
    watches = look({}, fresh, 0)
    assert broker_silent_for(watches, fresh, 131) == 31  # the latest answer counts
    assert broker_silent_for(watches, fresh, 99) == 0
    assert broker_silent_for({}, {}, 1e9) == 0  # nothing owned: nothing to judge by


def test_a_partition_never_answered_counts_from_the_first_look_at_it() -> None:
    # The broker froze before its first answer to a worker just assigned its partitions.
    never = {"t/0": Position(None, None, None), "t/1": Position(None, None, None)}
    watches = look({}, never, 1000.0)
    watches = look(watches, never, 1010.0)  # later looks keep the first one
    assert broker_silent_for(watches, never, 1031.0) == 31
    answered = {**never, "t/1": Position(3, 3, 2, fetched_at=1029.0)}
    assert broker_silent_for(look(watches, answered, 1031.0), answered, 1031.0) == 2
