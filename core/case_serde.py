"""The internal record formats of the cases: money events and views, case events and files.

The companion of `antifraud.core.serde` for the case modules (kept apart so neither grows past
a screenful of formats): compact JSON via orjson, built and read here and nowhere else.
- money events `link`, `ack`, `derive` on the money-events topic (agents/matching,
  agents/ledger, agents/cases / agents/money), and `HeldMoney` rows of the held-money table;
- case events `opened`, `revoked`, `extend`, `return`, `money`, `tick` on the case-events
  topic (agents/reports, agents/money, the cases timer / agents/cases), and `CaseFile` rows
  of the cases table.
An unknown lifetime (`inf`) is written as null.
"""

from __future__ import annotations

from typing import Any

import orjson

from antifraud.core.case_file import (
    CaseEvent,
    CaseFile,
    ExtendOrdered,
    MoneyChanged,
    Opened,
    ReturnOrdered,
    Revoked,
    Tick,
)
from antifraud.core.case_links import CaseLink
from antifraud.core.cases import BankAck, Freeze, Hold, IssuedReturn, Sanction, TransferRef, Victim
from antifraud.core.held_money import Acked, Derive, HeldMoney, Linked, MoneyEvent
from antifraud.core.identifiers import Identifier

INF = float("inf")


def _time(seconds: float) -> float | None:
    return None if seconds == INF else seconds


def _untime(value: float | None) -> float:
    return INF if value is None else value


# ---------------------------------------------------------------------------- parts


def ack_to_json(ack: BankAck | None) -> list[Any] | None:
    return None if ack is None else [ack.status, ack.amount_held, ack.amount_returned]


def ack_from_json(data: list[Any] | None) -> BankAck | None:
    return None if data is None else BankAck(*data)


def _return_to_json(r: IssuedReturn) -> list[Any]:
    return [
        r.command_id,
        r.returns,
        r.report_id,
        r.beneficiary_key,
        r.amount,
        r.transfer_key,
        ack_to_json(r.ack),
    ]


def _return_from_json(row: list[Any]) -> IssuedReturn:
    command_id, returns, report_id, beneficiary_key, amount, transfer_key, ack = row
    return IssuedReturn(
        command_id,
        returns,
        report_id,
        beneficiary_key,
        amount,
        transfer_key,
        ack_from_json(ack),
    )


def _command_to_json(command: Hold | Freeze | None) -> dict[str, Any] | None:
    if command is None:
        return None
    common = {
        "id": command.command_id,
        "bank": command.bank_id,
        "acct": command.account.key,
        "hop": command.hop,
        "cur": command.currency,
        "via": command.via,
        "exp": _time(command.expires_at),
    }
    if isinstance(command, Freeze):
        return {"t": "freeze", **common, "w": dict(command.tainted)}
    return {
        "t": "hold",
        **common,
        "tr": [command.transfer.bank_id, command.transfer.transfer_id],
        "amt": command.amount,
        "snd": command.sender.key,
        "sb": command.sender_bank,
    }


def _command_from_json(data: dict[str, Any] | None) -> Hold | Freeze | None:
    if data is None:
        return None
    account = Identifier.from_key(data["acct"])
    expires = _untime(data["exp"])
    if data["t"] == "freeze":
        return Freeze(
            data["id"],
            data["bank"],
            account,
            data["hop"],
            data["cur"],
            data["w"],
            data["via"],
            expires,
        )
    return Hold(
        data["id"],
        data["bank"],
        account,
        data["hop"],
        TransferRef(*data["tr"]),
        data["amt"],
        data["cur"],
        Identifier.from_key(data["snd"]),
        data["sb"],
        data["via"],
        expires,
    )


def money_to_json(money: HeldMoney) -> dict[str, Any]:
    return {
        "cmd": _command_to_json(money.command),
        "reports": money.reports,
        "w": money.tainted,
        "ack": ack_to_json(money.ack),
        "ret": [_return_to_json(r) for r in money.returns],
        "until": money.extended_until,
        "ext": money.extends,
        "v": money.version,
        "rel": money.released,
    }


def money_from_json(data: dict[str, Any]) -> HeldMoney:
    return HeldMoney(
        command=_command_from_json(data["cmd"]),
        reports=data["reports"],
        tainted=data["w"],
        ack=ack_from_json(data["ack"]),
        returns=[_return_from_json(row) for row in data["ret"]],
        extended_until=data["until"],
        extends=data["ext"],
        version=data["v"],
        released=data["rel"],
    )


def sanction_from_json(data: dict[str, str]) -> Sanction:
    return Sanction(data["authority"], data["reference"], data["issued_at"])


def victim_to_json(v: Victim) -> list[Any]:
    return [v.account.key, v.bank_id, v.amount_lost, v.currency]


def victim_from_json(row: list[Any]) -> Victim:
    key, bank_id, amount_lost, currency = row
    return Victim(Identifier.from_key(key), bank_id, amount_lost, currency)


# ---------------------------------------------------------------------------- money events


def dump_money_event(event: MoneyEvent) -> bytes:
    if isinstance(event, Linked):
        link = event.link
        return orjson.dumps(
            {
                "e": "link",
                "id": link.command_id,
                "reports": list(link.reports),
                "w": link.tainted,
                "cmd": link.command,
                "snd": list(link.sender) if link.sender else None,
                "via": link.via,
            }
        )
    if isinstance(event, Acked):
        return orjson.dumps({"e": "ack", "id": event.command_id, "ack": ack_to_json(event.ack)})
    return orjson.dumps({"e": "derive", "cmd": event.command})


def load_money_event(raw: bytes) -> MoneyEvent:
    data = orjson.loads(raw)
    kind = data["e"]
    if kind == "link":
        sender = data["snd"]
        return Linked(
            CaseLink(
                data["id"],
                tuple(data["reports"]),
                data["w"],
                data["cmd"],
                (sender[0], sender[1]) if sender else None,
                data["via"],
            )
        )
    if kind == "ack":
        ack = ack_from_json(data["ack"])
        assert ack is not None
        return Acked(data["id"], ack)
    if kind == "derive":
        return Derive(data["cmd"])
    raise ValueError(f"unknown money event kind {kind!r}")


def dump_money(money: HeldMoney) -> bytes:
    return orjson.dumps(money_to_json(money))


def load_money(raw: bytes | None) -> HeldMoney:
    return HeldMoney() if raw is None else money_from_json(orjson.loads(raw))


# ---------------------------------------------------------------------------- case events


def dump_case_event(event: CaseEvent) -> bytes:
    data: dict[str, Any]
    if isinstance(event, Opened):
        data = {
            "e": "opened",
            "at": event.reported_at,
            "victims": [victim_to_json(v) for v in event.victims],
        }
    elif isinstance(event, Revoked):
        data = {"e": "revoked"}
    elif isinstance(event, ExtendOrdered):
        data = {"e": "extend", "sanction": event.sanction.as_json(), "until": event.until}
    elif isinstance(event, ReturnOrdered):
        data = {"e": "return", "sanction": event.sanction.as_json()}
    elif isinstance(event, MoneyChanged):
        data = {"e": "money", "id": event.command_id, "money": money_to_json(event.money)}
    else:
        data = {"e": "tick"}
    return orjson.dumps(data)


def load_case_event(raw: bytes) -> CaseEvent:
    data = orjson.loads(raw)
    kind = data["e"]
    if kind == "opened":
        return Opened(data["at"], tuple(victim_from_json(v) for v in data["victims"]))
    if kind == "revoked":
        return Revoked()
    if kind == "extend":
        return ExtendOrdered(sanction_from_json(data["sanction"]), data["until"])
    if kind == "return":
        return ReturnOrdered(sanction_from_json(data["sanction"]))
    if kind == "money":
        return MoneyChanged(data["id"], money_from_json(data["money"]))
    if kind == "tick":
        return Tick()
    raise ValueError(f"unknown case event kind {kind!r}")


# ---------------------------------------------------------------------------- case files


def dump_case(case: CaseFile) -> bytes:
    return orjson.dumps(
        {
            "r": case.report_id,
            "at": case.reported_at,
            "victims": [victim_to_json(v) for v in case.victims],
            "revoked": case.revoked,
            "verdict": case.return_verdict,
            "money": {cid: money_to_json(m) for cid, m in case.money.items()},
            "status": case.status,
            "seen": case.returned_seen,
        }
    )


def load_case(raw: bytes | None, report_id: str) -> CaseFile:
    if raw is None:
        return CaseFile(report_id)
    data = orjson.loads(raw)
    return CaseFile(
        report_id=data["r"],
        reported_at=data["at"],
        victims=[victim_from_json(v) for v in data["victims"]],
        revoked=data["revoked"],
        return_verdict=data["verdict"],
        money={cid: money_from_json(m) for cid, m in data["money"].items()},
        status=data["status"],
        returned_seen=data["seen"],
    )
