"""Matching: the identifier-keyed stream and the one table that holds each identifier's state."""

from __future__ import annotations

import time
from typing import Any

from core.matching import IdentifierState, Revoke, SendWatch, apply
from core.serde import dump_event, dump_state, load_event, load_state
from streams import metrics, topics
from streams.app import app, settings
from streams.emit import guarded, issue_command

identifier_state = topics.bytes_table(
    "identifier-state",
    "Per normalised identifier: why it is watched, transfers in flight, commands issued.",
)


def _store(key: bytes, state: IdentifierState) -> None:
    if state.is_empty():
        if key in identifier_state:
            del identifier_state[key]
    else:
        identifier_state[key] = dump_state(state)


@app.agent(topics.identifier_events)
async def match(stream: Any) -> None:
    async for event in stream.events():
        await guarded(event, _match_one)


async def _match_one(event: Any) -> None:
    key: bytes = event.key
    identifier_key = key.decode()
    now = time.time()
    state = load_state(identifier_state.get(key))
    outcome = apply(state, identifier_key, load_event(event.value), now, settings.policy)
    _store(key, state)
    for command in outcome.commands:
        await issue_command(command, now)
    for forward in outcome.forwards:
        follow_up = forward.watch if isinstance(forward, SendWatch) else Revoke(forward.report_id)
        await topics.identifier_events.send(
            key=forward.identifier_key.encode(), value=dump_event(follow_up)
        )
    if outcome.watched_delta:
        metrics.WATCHED_IDENTIFIERS.inc(outcome.watched_delta)
    if outcome.inflight_delta:
        metrics.INFLIGHT_TRANSFERS.inc(outcome.inflight_delta)
