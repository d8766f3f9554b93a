"""The log says when the worker's verdict changes, whoever looks first: a `/health` probe
that answers 503 leaves its line even when the stall ends before the timer's next second."""

from __future__ import annotations

import logging
import time
from unittest.mock import patch

import pytest

from antifraud.core.progress import Writes
from antifraud.streams import progress
from antifraud.streams.app import settings


def verdict(*, stalled: list[progress.Partition], failing_for: float) -> progress.Verdict:
    return progress.Verdict(stalled, broker_silent_for=0.0, writes_failing_for=failing_for)


def test_a_change_is_said_once_and_its_end_too(caplog: pytest.LogCaptureFixture) -> None:
    failing = settings.health_write_failure_seconds
    with patch.object(progress, "_said", ([], False, False)), caplog.at_level(logging.INFO):
        progress._say_if_changed(verdict(stalled=[("t", 2)], failing_for=failing))
        progress._say_if_changed(verdict(stalled=[("t", 2)], failing_for=failing + 5))
        progress._say_if_changed(verdict(stalled=[], failing_for=0.0))
    lines = [r.getMessage() for r in caplog.records if r.name == "antifraud"]
    assert len(lines) == 3 - 1, lines  # the same problems lasting longer are not said again
    assert lines[0].startswith("event=worker_stalled")
    assert "partitions not moving: t/2" in lines[0]
    assert f"writes failing for {failing:.0f} s" in lines[0]
    assert lines[1] == "event=worker_progressing"


def test_a_probe_says_it_without_the_timer(caplog: pytest.LogCaptureFixture) -> None:
    failing = settings.health_write_failure_seconds
    writes = Writes()
    writes.failed(time.time() - failing - 1)
    with (
        patch.object(progress, "_said", ([], False, False)),
        patch.object(progress, "positions", return_value={}),
        patch.object(progress, "writes", writes),
        caplog.at_level(logging.INFO),
    ):
        problems = progress.judge().problems()  # what streams/web.py's /health does
    assert len(problems) == 1 and problems[0].startswith("writes failing for"), problems
    assert any(r.getMessage().startswith("event=worker_stalled") for r in caplog.records)
