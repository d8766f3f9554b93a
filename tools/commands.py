"""Small verbs beside Faust's own `worker`: the embedded broker and report signing."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

import click
import orjson
from faust.cli import argument, option

from antifraud.core.signatures import load_key_file, sign_report
from antifraud.harness.embedded_broker import EmbeddedBroker
from antifraud.streams.app import app


@app.command(
    option("--port", type=int, default=9092, show_default=True, help="Port to listen on."),
)
async def broker(self: Any, port: int) -> None:
    """Run the embedded Kafka-compatible broker (Tansu, memory only) in the foreground."""
    with EmbeddedBroker(port) as embedded:
        print(f"embedded broker listening on {embedded.url}", flush=True)
        while embedded.process is not None and embedded.process.poll() is None:
            await asyncio.sleep(0.5)


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
    """Sign a police report (JSON file, or - for stdin) and print it with its signature."""
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
