"""The cases: one per report id, and the police's view of it on `antifraud.case-status`.

In: the registry's `Opened`, `Revoked` and sanctioned orders (agents/reports.py), the views
of the report's holds and freezes (agents/money.py), and `Tick`s of the timer below. Out: the
returns and extensions a case plans, to the owner of each command's money (which issues
them), and the case's status (core/case_status.py) whenever it changed, keyed by report id
(latest wins). The table is kept across restarts and rebalances like every table.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from antifraud.core.case_file import CaseFile, Tick, apply_case, case_facts, next_change
from antifraud.core.case_schedule import CaseSchedule
from antifraud.core.case_serde import dump_case, load_case, load_case_event
from antifraud.core.case_status import (
    HOLDING,
    LAPSED,
    RETURNED_ALL,
    RETURNING,
    REVOKED,
    TRACKING,
    case_status,
)
from antifraud.core.held_money import Derive
from antifraud.streams import metrics, topics
from antifraud.streams.app import app, settings
from antifraud.streams.case_sends import send_case_events, send_money_events, write_case_status
from antifraud.streams.emit import Deliveries, delivered
from antifraud.streams.faust_internals.current_event import current_event_set
from antifraud.streams.handling import handle_batches
from antifraud.streams.staged import Decoded, Staged

log = logging.getLogger("antifraud")

STATUSES = (TRACKING, HOLDING, RETURNING, RETURNED_ALL, LAPSED, REVOKED)
# How often the timer looks for cases whose status changed with time alone (a lifetime that
# ended) and counts the cases by status. Lifetimes are days long: a minute late is on time.
CASE_SCAN_SECONDS = 30.0
REBUILD_STEP = 200  # cases read between two turns of the event loop (about 80 ms)

cases = topics.bytes_table(
    "cases",
    "Per report id: its victims, the latest view of each of its holds and freezes, its "
    "return verdict, and the status last written to the case-status topic.",
)

# A busy account's case is read by batch after batch: decoded once, while its bytes stay the
# same (in memory about 3.7 times its bytes: 16 MiB of them is about 60 MB).
_decoded_cases: Decoded[CaseFile] = Decoded(max_bytes=16 * 1024 * 1024)

# Report ids this worker already sent a Tick for, until the agent handled it.
_tick_requested: set[bytes] = set()

# Per case this worker holds: its status and when time alone may change it (core/case_schedule.py).
# Noted by the agent as it decides each status; rebuilt from the table by the timer when the
# worker's partitions of the case events change (a start, a rebalance).
_schedule: CaseSchedule[bytes] = CaseSchedule()
_scheduled_partitions: frozenset[int] | None = None


@app.agent(topics.case_events)
async def case_files(stream: Any) -> None:
    await handle_batches(stream, settings.batch_size, settings.batch_window_ms / 1000, _cases)


async def _cases(events: list[Any]) -> None:
    files: Staged[CaseFile] = Staged(cases, _load_case, dump_case, _decoded_cases)
    # Per case touched: its last event and the returns planned in the batch. Its status is
    # decided once, after the batch: with 1,000 holds that takes about 9 ms, and a busy
    # account changes thousands of a case's holds in a burst (once per event, that was
    # minutes of the cases agent's time).
    touched: dict[bytes, tuple[Any, int]] = {}
    before: Deliveries = []
    for event in events:
        with current_event_set(event):
            before += await _case_one(event, files, touched)
    for key, (last_event, returns) in touched.items():
        with current_event_set(last_event):
            before += await _status_changed(key, files, returns)
    # On the broker before the cases record them (streams/emit.py, `delivered`).
    await delivered(before)
    files.write_back()


def _load_case(key: bytes, raw: bytes | None) -> CaseFile:
    return load_case(raw, key.decode())


async def _case_one(
    event: Any, files: Staged[CaseFile], touched: dict[bytes, tuple[Any, int]]
) -> Deliveries:
    now = time.time()
    case_event = load_case_event(event.value)
    case = files[event.key]
    outcome = apply_case(case, case_event, now)
    before = await send_money_events((target, Derive(c)) for target, c in outcome.derive)
    if not isinstance(case_event, Tick):
        files.changed(event.key)
    else:
        _tick_requested.discard(event.key)
    _, returns = touched.get(event.key, (None, 0))
    touched[event.key] = (event, returns + len(outcome.derive))
    _count(case, outcome.returned, outcome.dropped, now)
    return before


async def _status_changed(key: bytes, files: Staged[CaseFile], returns: int) -> Deliveries:
    """Write the case's status if the batch (or time) changed it: the latest, once."""
    case = files[key]
    now = time.time()
    status, changed = _status_at(case, now)
    _schedule.note(key, next_change(case, now), status["status"])
    if not changed:
        return []
    case.status = _settled(status)
    files.changed(key)
    log.info(
        "event=case_status report_id=%s status=%s returns=%d",
        case.report_id,
        status["status"],
        returns,
    )
    return [await write_case_status(case.report_id, status)]


def _status_at(case: CaseFile, now: float) -> tuple[dict[str, Any], bool]:
    """The case's status at `now`, and whether it differs from the one last written."""
    status = case_status(case_facts(case), now)
    return status, _settled(status) != case.status


def _settled(status: dict[str, Any]) -> dict[str, Any]:
    """A status without its `updated_at`: what tells whether anything changed."""
    return {key: value for key, value in status.items() if key != "updated_at"}


def _count(case: CaseFile, returned: list[tuple[str, int]], dropped: int, now: float) -> None:
    if case.reported_at is not None:
        for _ in returned:
            metrics.REPORT_TO_RETURN.observe(max(0.0, now - case.reported_at))
    if dropped:
        metrics.CASE_HOLDS_LEFT_OUT.inc(dropped)
        log.warning("event=case_holds_left_out report_id=%s holds=%d", case.report_id, dropped)


@app.timer(interval=CASE_SCAN_SECONDS)
async def scan_cases() -> None:
    await scan_cases_once(_case_partitions(), time.time())


async def scan_cases_once(partitions: frozenset[int], now: float) -> None:
    """Count this worker's cases by status, and ask the agent to rewrite the status of each
    case that time alone may have changed (a lifetime ended). The agent decides and writes, in
    the case's own partition, like every change of state."""
    global _scheduled_partitions
    if partitions != _scheduled_partitions:
        _scheduled_partitions = partitions
        _tick_requested.clear()  # a Tick sent before may have gone to another worker
        await _schedule_from_table(now)
    due = [key for key in _schedule.due(now) if key not in _tick_requested]
    _tick_requested.update(due)
    if due:
        await send_case_events([(key.decode(), Tick()) for key in due])
    counts = _schedule.counts()
    for name in STATUSES:
        metrics.CASES.labels(name).set(counts[name])


def _case_partitions() -> frozenset[int]:
    name = topics.case_events.get_topic_name()
    return frozenset(tp.partition for tp in app.consumer.assignment() if tp.topic == name)


async def _schedule_from_table(now: float) -> None:
    """The whole pass, once per change of partitions: every case read and decided (about
    0.4 ms each), letting the agents run every `REBUILD_STEP` cases. A case whose status
    differs from the one written is due at once."""
    _schedule.begin_rebuild()
    try:
        for n, key in enumerate(list(cases.keys()), start=1):
            raw = cases.get(key)
            if raw is not None:
                case = load_case(raw, key.decode())
                status, changed = _status_at(case, now)
                due = now if changed else next_change(case, now)
                _schedule.note_from_table(key, due, status["status"])
            if n % REBUILD_STEP == 0:
                await asyncio.sleep(0)
    finally:
        _schedule.end_rebuild()
