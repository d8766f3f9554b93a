"""Matching: the identifier-keyed stream and the one table that holds each identifier's state.

Each record on the stream is a bundle of identifier events for one partition (see
`antifraud.streams.emit.send_identifier_events`). A bundle's events are applied in order; an
identifier's state is read once and written once per bundle.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from antifraud.agents import watchlist
from antifraud.core.case_links import CaseLink
from antifraud.core.held_money import Derive, Linked, MoneyEvent
from antifraud.core.identifiers import mask_key
from antifraud.core.matching import Event, IdentifierState, apply
from antifraud.core.names import CommandType, DeadLetterCode
from antifraud.core.serde import dump_bundle_item, dump_state_within, load_bundle, load_state
from antifraud.core.state_bounds import BOUNDS, Forgotten
from antifraud.core.watchlist import WatchlistEntry, entry_changed, watchlist_entry
from antifraud.streams import metrics, topics
from antifraud.streams.app import app, settings
from antifraud.streams.case_sends import send_money_events
from antifraud.streams.emit import (
    dead_letter,
    delivered,
    issue_command,
    send_identifier_events,
    source_of,
)
from antifraud.streams.faust_internals.direct_table import DirectTable
from antifraud.streams.handling import handle_each

log = logging.getLogger("antifraud")

# Two writes per transfer: past Faust's per-key layers (streams/faust_internals/
# direct_table.py). The table is declared inside it, so every read and write goes through it.
identifier_rows = DirectTable(
    topics.bytes_table(
        "identifier-state",
        "Per normalised identifier: why it is watched, transfers in flight, commands issued.",
    )
)


async def _store(key: bytes, state: IdentifierState, now: float) -> None:
    if state.is_empty():
        await identifier_rows.set(key, None)
        return
    inflight = len(state.inflight)
    row = dump_state_within(state, now)
    identifier_key = key.decode()
    if row.transfers_forgotten:
        metrics.TRANSFERS_FORGOTTEN.inc(row.transfers_forgotten)
        _say_forgotten("transfers", identifier_key, now)
    if row.commands_forgotten:
        metrics.COMMANDS_FORGOTTEN.labels(CommandType.HOLD_TRANSFER).inc(row.commands_forgotten)
        _say_forgotten("commands", identifier_key, now)
    _count_forgotten(row.records_forgotten)
    for kind in row.records_forgotten.counts():
        _say_forgotten(kind, identifier_key, now)
    if inflight != len(state.inflight):
        metrics.INFLIGHT_TRANSFERS.dec(inflight - len(state.inflight))
    await identifier_rows.set(key, row.raw)


@app.agent(topics.identifier_events)
async def match(stream: Any) -> None:
    await handle_each(stream, _match_bundle)


async def _match_bundle(event: Any) -> None:
    now = time.time()
    states: dict[str, IdentifierState] = {}
    entries_before: dict[str, WatchlistEntry | None] = {}
    commands: list[dict[str, Any]] = []
    follow_ups: list[tuple[str, Event]] = []
    links: list[CaseLink] = []
    watched_delta = inflight_delta = forgotten = commands_forgotten = 0
    records_forgotten = Forgotten()
    for identifier_key, identifier_event in load_bundle(event.value):
        state = states.get(identifier_key)
        if state is None:
            state = states[identifier_key] = load_state(
                identifier_rows.get(identifier_key.encode())
            )
            entries_before.setdefault(identifier_key, watchlist_entry(identifier_key, state))
        try:
            outcome = apply(state, identifier_key, identifier_event, now, settings.policy)
        except Exception as exc:  # a bug: keep the event, drop this identifier's unsaved changes
            states.pop(identifier_key)
            await _dead_letter_item(event, identifier_key, identifier_event, exc)
            continue
        commands.extend(outcome.commands)
        follow_ups.extend(outcome.follow_up_events())
        links.extend(outcome.links)
        watched_delta += outcome.watched_delta
        inflight_delta += outcome.inflight_delta
        if outcome.forgotten:
            forgotten += outcome.forgotten
            _say_forgotten("transfers", identifier_key, now)
        if outcome.commands_forgotten:
            commands_forgotten += outcome.commands_forgotten
            _say_forgotten("commands", identifier_key, now)
        for kind in outcome.records_forgotten.counts():
            _say_forgotten(kind, identifier_key, now)
        records_forgotten.add(outcome.records_forgotten)
    deliveries = []
    releases: list[tuple[str, MoneyEvent]] = []
    for command in commands:
        if command["type"] == CommandType.RELEASE:
            # Through the owner of the released command's money, which sends only what was
            # not returned (core/held_money.py).
            releases.append((command["releases"], Derive(command)))
        else:
            deliveries += await issue_command(command, now)
    deliveries += await send_money_events(releases)
    deliveries += await send_identifier_events(follow_ups)
    deliveries += await watchlist.publish(_changed_entries(states, entries_before))
    # To the owner of each command's money, and on to the cases.
    deliveries += await send_money_events((link.command_id, Linked(link)) for link in links)
    await delivered(deliveries)  # before the state that records them: see streams/emit.py
    for identifier_key, state in states.items():
        await _store(identifier_key.encode(), state, now)
    identifier_rows.persist_offsets()
    if watched_delta:
        metrics.WATCHED_IDENTIFIERS.inc(watched_delta)
    if inflight_delta:
        metrics.INFLIGHT_TRANSFERS.inc(inflight_delta)
    if forgotten:
        metrics.TRANSFERS_FORGOTTEN.inc(forgotten)
    if commands_forgotten:
        metrics.COMMANDS_FORGOTTEN.labels(CommandType.HOLD_TRANSFER).inc(commands_forgotten)
    _count_forgotten(records_forgotten)


# Forgotten's fields as antifraud_watch_records_forgotten_total's kinds (freezes are commands).
_WATCH_RECORD_KINDS = {
    "reports": "report",
    "tainted_inflows": "tainted_inflow",
    "followed_transfers": "followed_transfer",
    "followed_recipients": "followed_recipient",
    "banks": "bank",
}
# Every series from 0, so that the first record forgotten shows in increase() and its alert.
for _type in (CommandType.HOLD_TRANSFER, CommandType.FREEZE_ACCOUNT):
    metrics.COMMANDS_FORGOTTEN.labels(_type)
for _kind in _WATCH_RECORD_KINDS.values():
    metrics.WATCH_RECORDS_FORGOTTEN.labels(_kind)


def _count_forgotten(forgotten: Forgotten) -> None:
    for kind, count in forgotten.counts().items():
        if kind == "freezes":
            metrics.COMMANDS_FORGOTTEN.labels(CommandType.FREEZE_ACCOUNT).inc(count)
        else:
            metrics.WATCH_RECORDS_FORGOTTEN.labels(_WATCH_RECORD_KINDS[kind]).inc(count)


def _bound(what: str) -> int:
    """The bound named in a `<what>_forgotten` log line."""
    policy = settings.policy
    if what == "transfers":
        return policy.max_transfers_per_identifier
    if what == "commands":
        return policy.max_commands_per_identifier
    return int(getattr(BOUNDS, "superseded_freezes" if what == "freezes" else what))


def _changed_entries(
    states: dict[str, IdentifierState], before: dict[str, WatchlistEntry | None]
) -> list[tuple[str, WatchlistEntry | None]]:
    """The watchlist records this bundle owes: each identifier whose entry it changed."""
    changes = []
    for identifier_key, state in states.items():
        after = watchlist_entry(identifier_key, state)
        if entry_changed(before[identifier_key], after):
            changes.append((identifier_key, after))
    return changes


_FORGETTING_SAID_EVERY = 3600.0
_forgetting_said_at: dict[tuple[str, str], float] = {}


def _say_forgotten(what: str, identifier_key: str, now: float) -> None:
    """Name (masked) the account whose transfers, hold records or other records (a field of
    `Forgotten`) are forgotten: once an hour per account and kind, since a busy account at a
    bound forgets one with every new event."""
    said_at = _forgetting_said_at.get((what, identifier_key))
    if said_at is not None and now - said_at < _FORGETTING_SAID_EVERY:
        return
    if len(_forgetting_said_at) > 10_000:
        _forgetting_said_at.clear()
    _forgetting_said_at[(what, identifier_key)] = now
    log.warning(
        "event=%s_forgotten identifier=%s bound=%d", what, mask_key(identifier_key), _bound(what)
    )


async def _dead_letter_item(event: Any, key: str, item: Event, exc: Exception) -> None:
    log.error("event=internal_error topic=%s", event.message.topic, exc_info=exc)
    source = {**source_of(event.message), "key": key}
    message = f"{type(exc).__name__}: {exc}"
    await dead_letter(source, dump_bundle_item(key, item), DeadLetterCode.INTERNAL_ERROR, message)
