"""Local tables survive a clean stop and are discarded after an unclean one."""

from __future__ import annotations

import os
from pathlib import Path

from antifraud.streams.local_state import (
    MARKER,
    discard_if_unclean,
    mark_running,
    mark_stopped,
    record_assignment,
    recorded_assignment,
)


def make_tables(tmp_path: Path) -> tuple[Path, Path]:
    datadir = tmp_path / "data"
    tabledir = datadir / "v1" / "tables"
    tabledir.mkdir(parents=True)
    (tabledir / "identifier-state-0.db").write_text("rocksdb files")
    return datadir, tabledir


def test_clean_stop_keeps_the_tables(tmp_path: Path) -> None:
    datadir, tabledir = make_tables(tmp_path)
    mark_running(datadir)
    assert (datadir / MARKER).read_text() == str(os.getpid())
    mark_stopped(datadir)
    assert discard_if_unclean(datadir, tabledir) is False
    assert (tabledir / "identifier-state-0.db").exists()


def test_unclean_stop_discards_the_tables(tmp_path: Path) -> None:
    datadir, tabledir = make_tables(tmp_path)
    mark_running(datadir)  # ...and the process dies without mark_stopped
    assert discard_if_unclean(datadir, tabledir) is True
    assert not tabledir.exists()


def test_first_start_on_an_empty_directory(tmp_path: Path) -> None:
    datadir = tmp_path / "fresh"
    assert discard_if_unclean(datadir, datadir / "v1" / "tables") is False
    mark_running(datadir)
    assert (datadir / MARKER).exists()


def test_the_last_assignment_is_remembered_across_restarts(tmp_path: Path) -> None:
    assert recorded_assignment(tmp_path) is None  # never joined
    record_assignment(tmp_path, [3, 1, 3])
    assert recorded_assignment(tmp_path) == {1, 3}
    record_assignment(tmp_path, [])  # a worker left with nothing
    assert recorded_assignment(tmp_path) == set()
