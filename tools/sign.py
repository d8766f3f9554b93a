"""`antifraud sign`: sign a police record file the way the platform verifies it.

Every record on the reports topic is signed the same way, whatever its `action`: `report`,
`revoke`, `extend` and `return` (with its `sanction`, which the signature covers).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click
import orjson
from faust.cli import argument, option

from antifraud.core.signatures import load_key_file, sign_report
from antifraud.streams.app import app


@app.command(
    argument("report_file", type=click.Path(exists=True, dir_okay=False, allow_dash=True)),
    option("--key-id", required=True, help="The key id the platform knows the secret by."),
    option(
        "--key-file",
        type=click.Path(exists=True, dir_okay=False),
        default=None,
        help="Key file (key_id=secret lines); else the secret is read from "
        "ANTIFRAUD_SIGNING_SECRET.",
    ),
)
async def sign(self: Any, report_file: str, key_id: str, key_file: str | None) -> None:
    """Sign a police record (JSON file, or - for stdin): a report, or a revoke, extend or
    return of one; print it with its signature."""
    if key_file:
        keys = load_key_file(key_file)
        if key_id not in keys:
            raise click.UsageError(f"key id {key_id!r} is not in {key_file}")
        secret = keys[key_id]
    else:
        env_secret = os.environ.get("ANTIFRAUD_SIGNING_SECRET", "")
        if not env_secret:
            raise click.UsageError("set ANTIFRAUD_SIGNING_SECRET or pass --key-file")
        secret = env_secret.encode()
    raw = sys.stdin.buffer.read() if report_file == "-" else Path(report_file).read_bytes()
    report = orjson.loads(raw)
    if not isinstance(report, dict):
        raise click.UsageError("a report is a JSON object")
    signed = sign_report(report, key_id, secret)
    sys.stdout.write(orjson.dumps(signed, option=orjson.OPT_INDENT_2).decode() + "\n")
