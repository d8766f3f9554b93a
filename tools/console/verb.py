"""`antifraud console`: read the platform's topics, serve the case console until Ctrl-C."""

from __future__ import annotations

import asyncio
import sys

from aiohttp import web
from faust.cli import option
from faust.cli.base import AppCommand

from antifraud.harness.plain_command import PlainCommand, stop_on_signals
from antifraud.streams.app import app, settings
from antifraud.streams.kafka_security import kafka_python_security_options
from antifraud.streams.settings import bootstrap_servers
from antifraud.tools.console.feed import ConsoleView, Feed
from antifraud.tools.console.reveal import RevealLog
from antifraud.tools.console.web import Access, Console


@app.command(
    option("--broker", default=None, help="kafka://host:port (default: ANTIFRAUD_BROKER)."),
    option("--port", type=int, default=None, help="HTTP port (default: ANTIFRAUD_CONSOLE_PORT)."),
    option("--host", default=None, help="Address to listen on (default: ANTIFRAUD_CONSOLE_HOST)."),
    base=PlainCommand,
)
async def console(self: AppCommand, broker: str | None, port: int | None, host: str | None) -> int:
    """Serve the case console (read-only; needs ANTIFRAUD_CONSOLE_TOKEN)."""
    if not settings.console_token:
        print(
            "console: set ANTIFRAUD_CONSOLE_TOKEN (the bearer token it asks for)", file=sys.stderr
        )
        return 2
    bootstrap = bootstrap_servers(broker or settings.broker)
    options = kafka_python_security_options(settings.security)
    view = ConsoleView()
    feed = Feed(view, bootstrap, settings.topics, options)
    reveals = (
        RevealLog(bootstrap, settings.topics.audit_entries, options)
        if settings.console_reveal_token
        else None
    )
    access = Access(settings.console_token, settings.console_reveal_token)
    runner = web.AppRunner(Console(view, access, reveals).app(), access_log=None)
    stop = asyncio.Event()
    restore = stop_on_signals(stop)
    feed.start()
    try:
        await runner.setup()
        where = host or settings.console_host
        listening = port or settings.console_port
        await web.TCPSite(runner, where, listening).start()
        print(f"console: http://{where}:{listening}/cases (reading {bootstrap})", flush=True)
        await stop.wait()
    finally:
        restore()
        feed.stop()
        await runner.cleanup()
        if reveals is not None:
            reveals.close()
        await asyncio.to_thread(feed.join, 5)
    return 0
