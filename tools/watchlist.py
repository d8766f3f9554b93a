"""`antifraud watchlist check ACCOUNT` and `antifraud watchlist stats`: the bank's replica,
from the command line.

Both read the watchlist topic into a local replica (`antifraud.clients.WatchlistReplica`,
kept in `--replica-dir` between runs, so a second run reads only what is new) and answer
from it: `check` exits 0 when the account is listed (and prints its entry), 1 when it is
not, 2 when the account is no valid phone, IBAN or card.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
import orjson
from faust.cli import argument, option

from antifraud.clients import InvalidIdentifier, WatchlistReplica
from antifraud.core.identifiers import KINDS
from antifraud.streams.app import app, settings
from antifraud.streams.kafka_security import kafka_python_security_options


def _print(value: dict[str, Any]) -> None:
    sys.stdout.write(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode() + "\n")


@app.command(
    argument("action", type=click.Choice(["check", "stats"])),
    argument("account", required=False),
    option("--kind", type=click.Choice(KINDS), default=None, help="Else guessed from ACCOUNT."),
    option("--topic", default=None, help="Watchlist topic (default: the configured one)."),
    option(
        "--replica-dir",
        type=click.Path(file_okay=False),
        default=None,
        help="Where the local replica is kept (default: <ANTIFRAUD_DATA_DIR>/watchlist-cli).",
    ),
    option("--timeout", type=float, default=600.0, show_default=True, help="Seconds to catch up."),
)
async def watchlist(
    self: Any,
    action: str,
    account: str | None,
    kind: str | None,
    topic: str | None,
    replica_dir: str | None,
    timeout: float,
) -> None:
    """Check an account against the watchlist (exit 0 listed, 1 not), or count its entries."""
    if action == "check" and not account:
        raise click.UsageError("watchlist check needs an ACCOUNT (a phone, IBAN or card)")
    replica = WatchlistReplica(
        replica_dir or Path(settings.data_dir) / "watchlist-cli",
        settings.bootstrap_servers,
        topic=topic or settings.topics.watchlist,
        consumer_options=kafka_python_security_options(settings.security),
        poll_timeout_seconds=0.2,
    )
    try:
        replica.sync(timeout=timeout)
        if action == "stats":
            _print(replica.stats().as_json())
            return
        try:
            answer = replica.check(account or "", kind)
        except InvalidIdentifier as exc:
            sys.stderr.write(f"not an account: {exc}\n")
            code = 2
        else:
            _print(answer.as_json())
            code = 0 if answer.listed else 1
    finally:
        replica.close()
    sys.exit(code)
