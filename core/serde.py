"""Every internal record format: compact JSON via orjson, built and read here and nowhere else.

These bytes never leave the platform (internal topics and table changelogs); what leaves
for banks and police is built in `antifraud.core.commands` and the agents in the contract's
own shapes. Each format is a pair of typed functions, plain values in and out, with a
round-trip test in tests/core/test_serde.py or tests/core/test_serde_registry_ledger.py.
The bytes are what the worker has always written: records already in a changelog or an
internal topic must still decode.

The formats, each as `dump_x`/`load_x` (where written / where read):
- identifier events, in bundles (agents/intake, agents/reports, matching / agents/matching);
- identifier state, the identifier-state table (agents/matching);
- report events, on the report-events topic (agents/intake / agents/reports);
- registry entries, the report-registry table (agents/reports);
- ledger events `issued`, `ack`, `due`, on the ledger-events topic (streams/emit,
  agents/intake, agents/ledger's timer / agents/ledger); an ack carries its original
  bytes for a later dead letter, truncated like one beyond 64 KiB
  (`antifraud.core.dead_letters.Payload.carried`), so the event always fits;
- ledger entries, the command-ledger table (agents/ledger).

Over 400 lines on purpose: one place for every matching, registry and ledger format keeps
their compact field names from colliding and their compatibility rules together; the
cases' formats, which share none of them, are in core/case_serde.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from antifraud.core.case_serde import sanction_from_json, victim_from_json, victim_to_json
from antifraud.core.dead_letters import Payload, as_text, from_text
from antifraud.core.followed import Followed
from antifraud.core.hold_records import forget_holds
from antifraud.core.identifiers import Identifier
from antifraud.core.ledger import AckReceived, CommandIssued, LedgerEntry, LedgerEvent, ResendDue
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
from antifraud.core.names import CommandType
from antifraud.core.records import Ack, Report, ReportedAccount
from antifraud.core.reports import ReportEntry
from antifraud.core.state_bounds import Forgotten, shrink
from antifraud.core.transfer_rows import TransferRows, transfer_from_json, transfer_to_json

# ---------------------------------------------------------------------------- identifier events


def _watch_to_json(w: Watch) -> dict[str, Any]:
    data = {
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
    if w.lost:
        data["lost"] = w.lost  # written only when known, so older events keep their bytes
    return data


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
            lost=data.get("lost", 0),
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


def dump_bundle_item(key: str, event: Event) -> bytes:
    """One item of a bundle on its own (`[key, event]`): the payload of its dead letter."""
    return orjson.dumps([key, event_to_json(event)])


# ---------------------------------------------------------------------------- identifier state


def dump_state(state: IdentifierState) -> bytes:
    row: dict[str, Any] = {
        "b": state.banks,
        "s": {rid: _support_row(s) for rid, s in state.supports.items()},
        "i": state.inflight.rows(),
        "o": state.outflows.rows(),
        "c": [
            [c.command_id, c.type, c.bank_id, c.hop, c.transfer, c.expires_at]
            for c in state.commands.values()
        ],
        "sp": {rid: _followed_row(followed) for rid, followed in state.spread.items()},
        "ep": state.epoch,
    }
    # Tainted money kept only as sums (core/state_bounds.py): written only when there is some,
    # so a state that never reached the bound keeps the bytes written before.
    if state.tainted_forgotten:
        row["tf"] = state.tainted_forgotten
    shares = {rid: s.inflows_forgotten for rid, s in state.supports.items() if s.inflows_forgotten}
    if shares:
        row["sf"] = shares
    return orjson.dumps(row)


def _followed_row(followed: Followed) -> list[str]:
    """The recipients of forgotten markers, bare (an identifier key has no "|"), then the
    markers as rows have always held them, "recipient|transfer key|hop", oldest first."""
    markers = [f"{marker}|{hop}" for marker, hop in followed.transfers.items()]
    return [*followed.recipients, *markers]


def _followed_from_row(row: list[str]) -> Followed:
    transfers: dict[str, int] = {}
    recipients: dict[str, None] = {}
    for entry in row:
        marker, bar, hop = entry.rpartition("|")
        if bar:
            transfers[marker] = int(hop)
        else:
            recipients[entry] = None
    return Followed(transfers, recipients)  # which derives its index of recipients


def _support_row(s: Support) -> list[Any]:
    row: list[Any] = [s.fraud_type, s.reported_at, s.hop, s.inflows]
    if s.via is not None or s.lost:
        row += [s.via, s.lost]  # rows written before these were kept have four items
    return row


def _support_from_row(report_id: str, row: list[Any], inflows_forgotten: int) -> Support:
    fraud_type, reported_at, hop, inflows, *extra = row
    via, lost = extra if extra else (None, 0)
    return Support(report_id, fraud_type, reported_at, hop, inflows, inflows_forgotten, via, lost)


# A state row is one changelog record: Kafka's producers and brokers refuse records over
# about 1 MB by default (Faust's producer_max_request_size is 1,000,000 bytes), and a refused
# record would leave the local table with a write its changelog never got.
STATE_ROW_LIMIT_BYTES = 900_000


@dataclass(frozen=True, slots=True)
class StateRow:
    """A state's row, and what was forgotten to make it fit."""

    raw: bytes
    transfers_forgotten: int = 0
    commands_forgotten: int = 0  # holds
    records_forgotten: Forgotten = field(default_factory=Forgotten)  # the other kinds


def dump_state_within(
    state: IdentifierState, now: float, limit: int = STATE_ROW_LIMIT_BYTES
) -> StateRow:
    """`dump_state`, forgetting the oldest remembered transfers, then the oldest hold records,
    then a tenth of each other kind (`state_bounds.shrink`), until the row fits `limit`.

    Within its bounds (the policy's and core/state_bounds.py's) a row stays far below it;
    only records with pathological fields (128-character ids made of escaped characters)
    get here.
    """
    raw = dump_state(state)
    transfers = commands = 0
    records = Forgotten()
    while len(raw) > limit:
        larger = max(state.inflight, state.outflows, key=len)
        if larger:
            transfers += larger.keep_newest(len(larger) * 9 // 10)
        elif any(c.type == CommandType.HOLD_TRANSFER for c in state.commands.values()):
            commands += forget_holds(state, now, len(state.commands) * 9 // 10)
        elif (shrunk := shrink(state, now)) is not None:
            records.add(shrunk)
        else:
            break  # nothing left to forget; the send will fail and say so
        raw = dump_state(state)
    return StateRow(raw, transfers, commands, records)


def load_state(raw: bytes | None) -> IdentifierState:
    if not raw:
        return IdentifierState()
    data = orjson.loads(raw)
    shares = data.get("sf", {})
    return IdentifierState(
        banks=data["b"],
        supports={
            rid: _support_from_row(rid, row, shares.get(rid, 0)) for rid, row in data["s"].items()
        },
        inflight=TransferRows.from_rows(data["i"]),
        outflows=TransferRows.from_rows(data["o"]),
        commands={row[0]: ActiveCommand(*row) for row in data["c"]},
        spread={rid: _followed_from_row(row) for rid, row in data["sp"].items()},
        epoch=data["ep"],
        tainted_forgotten=data.get("tf", 0),
    )


# ---------------------------------------------------------------------------- report events


ReportOrigin = tuple[dict[str, Any], bytes | Payload | None]
"""The police system's own record: its source (topic, partition, offset, key) and bytes (beyond
64 KiB, what its dead letter would hold: `Payload.carried`, so the event always fits)."""


def dump_report_event(report: Report, origin: ReportOrigin | None = None) -> bytes:
    """A validated report for the registry, keyed by report id; accounts by identifier key.

    With `origin`, the record it came from goes along, so the registry can dead-letter it
    (`unknown_report`, `duplicate_report`), as the ledger does an ack (`src`, `payload`).
    """
    body: dict[str, Any] = {
        "report_id": report.report_id,
        "action": report.action,
        "fraud_type": report.fraud_type,
        "reported_at": report.reported_at,
        "issuer": report.issuer,
        "case_number": report.case_number,
        "accounts": [[a.identifier.key, a.bank_id] for a in report.accounts],
    }
    # The case fields only when there are some, so a plain report keeps its bytes.
    if report.victims:
        body["victims"] = [victim_to_json(v) for v in report.victims]
    if report.sanction is not None:
        body["sanction"] = report.sanction.as_json()
    if report.until is not None:
        body["until"] = report.until
    if origin is not None:
        source, raw = origin
        body["src"] = source
        body.update((raw if isinstance(raw, Payload) else Payload.carried(raw)).fields())
    return orjson.dumps(body)


def load_report_origin(raw: bytes) -> ReportOrigin | None:
    """The record a report event came from; None for an event written without it."""
    data = orjson.loads(raw)
    if "src" not in data:
        return None
    if data.get("payload_truncated"):
        return data["src"], Payload.from_fields(data)
    return data["src"], payload_bytes(data["payload"], data["payload_encoding"])


def load_report_event(raw: bytes) -> Report:
    data = orjson.loads(raw)
    return Report(
        report_id=data["report_id"],
        action=data["action"],
        fraud_type=data["fraud_type"],
        reported_at=data["reported_at"],
        issuer=data["issuer"],
        case_number=data["case_number"],
        accounts=tuple(
            ReportedAccount(Identifier.from_key(key), bank_id) for key, bank_id in data["accounts"]
        ),
        victims=tuple(victim_from_json(v) for v in data.get("victims", ())),
        sanction=sanction_from_json(data["sanction"]) if "sanction" in data else None,
        until=data.get("until"),
    )


# ---------------------------------------------------------------------------- registry entries


def dump_report_entry(entry: ReportEntry) -> bytes:
    data: dict[str, Any] = {
        "status": entry.status,
        "fraud_type": entry.fraud_type,
        "reported_at": entry.reported_at,
        "accounts": entry.accounts,
    }
    if entry.issuer is not None:  # entries recorded before issuers were kept have none
        data["issuer"] = entry.issuer
    return orjson.dumps(data)


def load_report_entry(raw: bytes | None) -> ReportEntry | None:
    if raw is None:
        return None
    data = orjson.loads(raw)
    return ReportEntry(
        data["status"],
        data["fraud_type"],
        data["reported_at"],
        data["accounts"],
        data.get("issuer"),
    )


# ---------------------------------------------------------------------------- ledger events


def payload_text(raw: bytes | None) -> tuple[str, str]:
    """The original bytes as text when they are UTF-8, else base64, and which one it is.

    The contract's dead letters carry a payload this way too (`payload_encoding`)."""
    return ("", "utf-8") if raw is None else as_text(raw)


def payload_bytes(text: str, encoding: str) -> bytes:
    """The inverse of `payload_text`."""
    return from_text(text, encoding)


_RESEND_DUE = orjson.dumps({"e": "due"})


def dump_ledger_event(event: LedgerEvent) -> bytes:
    if isinstance(event, CommandIssued):
        return orjson.dumps({"e": "issued", "cmd": event.command, "at": event.at})
    if isinstance(event, AckReceived):
        ack = event.ack
        carried = event.payload
        if isinstance(carried, bytes):
            carried = Payload.whole(carried)
        said: dict[str, Any] = {
            "command_id": ack.command_id,
            "bank_id": ack.bank_id,
            "status": ack.status,
            "amount_held": ack.amount_held,
            "at": ack.at,
        }
        if ack.amount_returned is not None:  # returns' acks only: the others keep their bytes
            said["amount_returned"] = ack.amount_returned
        return orjson.dumps(
            {
                "e": "ack",
                "ack": said,
                "src": event.source,
                **carried.fields(),
            }
        )
    return _RESEND_DUE


def load_ledger_event(raw: bytes) -> LedgerEvent:
    data = orjson.loads(raw)
    kind = data["e"]
    if kind == "issued":
        return CommandIssued(data["cmd"], data["at"])
    if kind == "ack":
        ack = data["ack"]
        return AckReceived(
            Ack(
                ack["command_id"],
                ack["bank_id"],
                ack["status"],
                ack["amount_held"],
                ack["at"],
                ack.get("amount_returned"),
            ),
            data["src"],
            (
                Payload.from_fields(data)
                if data.get("payload_truncated")
                else payload_bytes(data["payload"], data["payload_encoding"])
            ),
        )
    if kind == "due":
        return ResendDue()
    raise ValueError(f"unknown ledger event kind {kind!r}")


# ---------------------------------------------------------------------------- ledger entries


def dump_ledger_entry(entry: LedgerEntry) -> bytes:
    return orjson.dumps(
        {
            "cmd": entry.command,
            "issued_at": entry.issued_at,
            "status": entry.status,
            "resent": entry.resent,
            "acked_at": entry.acked_at,
        }
    )


def load_ledger_entry(raw: bytes | None) -> LedgerEntry | None:
    if raw is None:
        return None
    d = orjson.loads(raw)
    return LedgerEntry(d["cmd"], d["issued_at"], d["status"], d["resent"], d["acked_at"])
