"""How the demo prints: plain lines, colours only on a terminal, commands as table rows."""

from __future__ import annotations

import os
import sys
import time
from typing import Any

from antifraud.core.identifiers import mask_key
from antifraud.core.ledger import MINOR_UNITS_PER_TENGE

COLUMNS = (
    ("time", 8),
    ("command", 14),
    ("bank", 11),
    ("account", 25),
    ("amount KZT", 16),
    ("reason", 17),
    ("hop", 3),
    ("report", 0),
)
RIGHT_ALIGNED = {"amount KZT", "hop"}


def masked(account: dict[str, Any] | None) -> str:
    """`phone:********4567`: the kind and the last four characters, never the whole number."""
    if not account:
        return "-"
    return mask_key(f"{account.get('kind', '?')}:{account.get('value', '')}")


def tenge(minor_units: int) -> str:
    return f"{minor_units / MINOR_UNITS_PER_TENGE:,.2f}"


def clock() -> str:
    return time.strftime("%H:%M:%S")


class Screen:
    """Plain lines on stdout; colours only on a terminal (and never with NO_COLOR set)."""

    COLOURS = {
        "hold_transfer": "33",
        "freeze_account": "31",
        "release": "32",
        "extend": "34",
        "return_funds": "1;32",
        "dead": "35",
        "note": "36",
        "dim": "2",
        "bold": "1",
    }

    def __init__(self) -> None:
        self.colour = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
        self.closed = False

    def paint(self, text: str, style: str) -> str:
        code = self.COLOURS.get(style)
        return f"\033[{code}m{text}\033[0m" if self.colour and code else text

    def line(self, text: str = "", style: str = "") -> None:
        if self.closed:
            return
        try:
            print(self.paint(text, style), flush=True)
        except BrokenPipeError:
            # `antifraud demo | head`: stop printing, keep running to a clean shutdown.
            self.closed = True
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())

    def row(self, cells: list[str], style: str = "") -> None:
        parts = []
        for (name, width), cell in zip(COLUMNS, cells, strict=True):
            if name in RIGHT_ALIGNED:
                parts.append(cell.rjust(width))
            else:
                parts.append(cell.ljust(width))
        self.line("  " + "  ".join(parts).rstrip(), style)


def command_row(command: dict[str, Any], repeat: bool) -> list[str]:
    kind = str(command.get("type", "?"))
    if kind in ("hold_transfer", "return_funds"):
        amount = tenge(int(command.get("amount", 0)))
    elif command.get("amount_limit"):
        amount = "<= " + tenge(int(command["amount_limit"]))
    else:
        amount = "-"
    reports = [str(r) for r in command.get("report_ids") or []]
    report = reports[0] + (f" +{len(reports) - 1}" if len(reports) > 1 else "") if reports else "-"
    if kind == "release":
        kind = {"hold_transfer": "release hold", "freeze_account": "release freeze"}.get(
            str(command.get("released_type")), kind
        )
    elif kind == "return_funds":
        # Where the money goes: the held transfer's sender, or a victim of the frozen account.
        report += f" to {masked((command.get('beneficiary') or {}).get('account'))}"
    return [
        clock(),
        kind,
        str(command.get("bank_id", "?")),
        masked(command.get("account")),
        amount,
        str(command.get("reason", "-")),
        str(command.get("hop", "-")),
        report + ("  (repeat of an earlier command id)" if repeat else ""),
    ]
