"""Internal wire and state formats: compact JSON via orjson.

These bytes never leave the platform (internal topics and table changelogs), so the
field names are short; what leaves for banks and police is built in `core.matching`
and the agents in the contract's own shapes.
"""

from __future__ import annotations

from typing import Any

import orjson

from core.identifiers import Identifier
from core.matching import (
    ActiveCommand,
    Event,
    IdentifierState,
    Revoke,
    Support,
    TransferIn,
    TransferOut,
    Watch,
)
from core.records import Transfer


def transfer_to_json(t: Transfer) -> list[Any]:
    return [
        t.bank_id,
        t.transfer_id,
        t.sender.key,
        t.sender_bank,
        t.recipient.key,
        t.recipient_bank,
        t.amount,
        t.currency,
        t.status,
        t.created_at,
        t.purpose,
    ]


def transfer_from_json(row: list[Any]) -> Transfer:
    return Transfer(
        bank_id=row[0],
        transfer_id=row[1],
        sender=Identifier.from_key(row[2]),
        sender_bank=row[3],
        recipient=Identifier.from_key(row[4]),
        recipient_bank=row[5],
        amount=row[6],
        currency=row[7],
        status=row[8],
        created_at=row[9],
        purpose=row[10],
    )


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
            "i": [transfer_to_json(t) for t in state.inflight.values()],
            "o": [transfer_to_json(t) for t in state.outflows.values()],
            "c": [
                [c.command_id, c.type, c.bank_id, c.hop, c.transfer]
                for c in state.commands.values()
            ],
            "sp": state.spread,
            "ep": state.epoch,
        }
    )


def load_state(raw: bytes | None) -> IdentifierState:
    if not raw:
        return IdentifierState()
    data = orjson.loads(raw)
    inflight = [transfer_from_json(row) for row in data["i"]]
    outflows = [transfer_from_json(row) for row in data["o"]]
    return IdentifierState(
        banks=data["b"],
        supports={
            rid: Support(rid, f, at, hop, inflows)
            for rid, (f, at, hop, inflows) in data["s"].items()
        },
        inflight={t.key: t for t in inflight},
        outflows={t.key: t for t in outflows},
        commands={row[0]: ActiveCommand(*row) for row in data["c"]},
        spread=data["sp"],
        epoch=data["ep"],
    )
