"""When the bench's worker phase is done: every transfer committed, every hold out, and the
identifier stream's commits at rest."""

from __future__ import annotations

from antifraud.tools.bench.preload import Published
from antifraud.tools.bench.worker_run import Progress, finished, transfers_committed


def test_committed_transfers_count_only_this_run_s_offsets() -> None:
    preloaded = Published(seconds=1.0, ranges={0: (10, 20), 1: (0, 5)})
    assert transfers_committed({0: 15, 1: -1}, preloaded) == (5, False)
    assert transfers_committed({0: 20, 1: 5}, preloaded) == (15, True)
    assert transfers_committed({0: 25, 1: 7}, preloaded) == (15, True)  # later records too
    assert preloaded.start == {0: 10, 1: 0} and preloaded.end == {0: 20, 1: 5}


def sample(at: float, transfers: int, events: int, holds: int) -> Progress:
    return Progress(at=at, transfers=transfers, identifier_events=events, holds=holds)


def test_done_is_the_first_sample_after_which_nothing_moved_for_the_quiet_spell() -> None:
    samples = [
        sample(0.5, 50, 40, 0),
        sample(1.0, 100, 150, 3),
        sample(1.5, 100, 200, 4),  # everything in: the stream's commits stop here
        sample(2.0, 100, 200, 4),
    ]
    assert finished(samples, events=100, holds=4, quiet=1.0) is None  # not quiet long enough
    samples.append(sample(2.5, 100, 200, 4))
    assert finished(samples, events=100, holds=4, quiet=1.0) == samples[2]


def test_not_done_while_a_hold_or_a_transfer_is_missing() -> None:
    samples = [sample(t, 100, 200, 3) for t in (1.0, 5.0, 10.0)]
    assert finished(samples, events=100, holds=4, quiet=1.0) is None
    assert finished(samples, events=101, holds=3, quiet=1.0) is None
    assert finished(samples, events=100, holds=3, quiet=1.0) == samples[0]
