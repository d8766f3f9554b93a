"""Internal wire and state formats: compact JSON via orjson.

These bytes never leave the platform (internal topics and table changelogs), so the
field names are short; what leaves for banks and police is built in `antifraud.core.matching`
and the agents in the contract's own shapes.
"""

from __future__ import annotations

from typing import Any

import orjson

from antifraud.core.matching import (
    ActiveCommand,
    Event,
    IdentifierState,
    Revoke,
    Support,
    TransferIn,
    TransferOut,
    Watch,
)
from antifraud.core.transfer_rows import TransferRows, transfer_from_json, transfer_to_json


def _watch_to_json(w: Watch) -> dict[str, Any]:
    return {
        "e": "watch",
        "r": w.report_id,
        "f": w.fraud_type,
        "at": w.reported_at,
        "hop": w.hop,
        "bank": w.bank_id,
        "via": w.via,
        "tk": w.transfer_key,
        "amt": w.amount,
    }


def event_to_json(event: Event) -> dict[str, Any]:
    if isinstance(event, TransferIn):
        return {"e": "in", "t": transfer_to_json(event.transfer)}
    if isinstance(event, TransferOut):
        return {"e": "out", "t": transfer_to_json(event.transfer)}
    if isinstance(event, Watch):
        return _watch_to_json(event)
    return {"e": "revoke", "r": event.report_id}


def event_from_json(data: dict[str, Any]) -> Event:
    kind = data["e"]
    if kind == "in":
        return TransferIn(transfer_from_json(data["t"]))
    if kind == "out":
        return TransferOut(transfer_from_json(data["t"]))
    if kind == "watch":
        return Watch(
            report_id=data["r"],
            fraud_type=data["f"],
            reported_at=data["at"],
            hop=data["hop"],
            bank_id=data["bank"],
            via=data["via"],
            transfer_key=data["tk"],
            amount=data["amt"],
        )
    if kind == "revoke":
        return Revoke(data["r"])
    raise ValueError(f"unknown internal event kind {kind!r}")


def dump_event(event: Event) -> bytes:
    return orjson.dumps(event_to_json(event))


def load_event(raw: bytes) -> Event:
    return event_from_json(orjson.loads(raw))


def dump_bundle(items: list[tuple[str, Event]]) -> bytes:
    """Many identifier events for one partition in one record: `[[key, event], ...]`, in order."""
    return orjson.dumps([[key, event_to_json(event)] for key, event in items])


def load_bundle(raw: bytes) -> list[tuple[str, Event]]:
    return [(key, event_from_json(data)) for key, data in orjson.loads(raw)]


def dump_state(state: IdentifierState) -> bytes:
    return orjson.dumps(
        {
            "b": state.banks,
            "s": {
                rid: [s.fraud_type, s.reported_at, s.hop, s.inflows]
                for rid, s in state.supports.items()
            },
            "i": state.inflight.rows(),
            "o": state.outflows.rows(),
            "c": [
                [c.command_id, c.type, c.bank_id, c.hop, c.transfer]
                for c in state.commands.values()
            ],
            "sp": state.spread,
            "ep": state.epoch,
        }
    )


# A state row is one changelog record: Kafka's producers and brokers refuse records over
# about 1 MB by default (Faust's producer_max_request_size is 1,000,000 bytes), and a refused
# record would leave the local table with a write its changelog never got.
STATE_ROW_LIMIT_BYTES = 900_000


def dump_state_within(
    state: IdentifierState, limit: int = STATE_ROW_LIMIT_BYTES
) -> tuple[bytes, int]:
    """`dump_state`, forgetting the oldest remembered transfers until the row fits `limit`.

    With `Policy.max_transfers_per_identifier` a row stays far below it; only transfers with
    pathological fields (128-character ids made of escaped characters) get here. Returns the
    row and how many transfers were forgotten for it.
    """
    raw = dump_state(state)
    forgotten = 0
    while len(raw) > limit:
        larger = max(state.inflight, state.outflows, key=len)
        if not larger:
            break  # nothing left to forget; the send will fail and say so
        forgotten += larger.keep_newest(len(larger) * 9 // 10)
        raw = dump_state(state)
    return raw, forgotten


def load_state(raw: bytes | None) -> IdentifierState:
    if not raw:
        return IdentifierState()
    data = orjson.loads(raw)
    return IdentifierState(
        banks=data["b"],
        supports={
            rid: Support(rid, f, at, hop, inflows)
            for rid, (f, at, hop, inflows) in data["s"].items()
        },
        inflight=TransferRows.from_rows(data["i"]),
        outflows=TransferRows.from_rows(data["o"]),
        commands={row[0]: ActiveCommand(*row) for row in data["c"]},
        spread=data["sp"],
        epoch=data["ep"],
    )
