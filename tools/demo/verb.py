"""`antifraud demo`: the verb, and the run from start to summary (see the package's docstring)."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from faust.cli import option
from faust.cli.base import AppCommand

from antifraud.harness.kafka_io import TopicReader
from antifraud.harness.plain_command import PlainCommand, stop_on_signals
from antifraud.harness.simulation import Simulator
from antifraud.harness.traffic import BankDesk, Counts, Producer, Traffic
from antifraud.streams.app import app, settings
from antifraud.streams.settings import bootstrap_servers
from antifraud.tools.demo.contract import contract_problems
from antifraud.tools.demo.narration import Narrator
from antifraud.tools.demo.processes import DEMO_KEYS, DemoFailed, Processes
from antifraud.tools.demo.screen import Screen
from antifraud.tools.demo.summary import show_summary
from antifraud.tools.demo.watch import Watch
from antifraud.tools.demo.watchlist import WatchlistTimer

QUIET_SECONDS = 1.0  # after the traffic stops: a quiet spell this long, all promises kept: done
DRAIN_LIMIT = 20.0  # ... or this long after the traffic stops, whatever is still missing


class Demo:
    def __init__(
        self, seconds: float, rate: float, fraud_every: int, broker: str | None, workdir: Path
    ) -> None:
        self.seconds = seconds
        self.rate = rate
        self.fraud_every = fraud_every
        self.screen = Screen()
        self.narrator = Narrator(self.screen)
        self.counts = Counts()
        self.stop = asyncio.Event()
        self.processes = Processes(broker, workdir, self.screen, self.stop)
        self.traffic: Traffic | None = None
        self.watch: Watch | None = None
        self.watchlist: WatchlistTimer | None = None
        self.figures: dict[str, float] = {}
        self.worker_died = False

    async def run(self) -> int:
        screen = self.screen
        screen.line("antifraud demo: simulated banks and police against a real worker", "bold")
        try:
            broker_url = await self.processes.start_broker()
            await self.processes.start_worker(broker_url)
            await self.processes.start_console(broker_url)
            await self.watch_traffic(bootstrap_servers(broker_url))
            self.figures = await self.processes.figures()
            self.summary()
        except DemoFailed as exc:
            screen.line(f"demo: {exc}")
            if self.processes.started:
                screen.line("demo: run with --run-dir DIR to keep the worker's and broker's logs")
            return 1
        finally:
            await self.processes.shutdown()
        if self.counts.reports and self.watch is not None and not self.watch.seen.commands:
            screen.line("demo: police reports were sent but the worker issued no command")
            return 1
        return 0

    async def watch_traffic(self, bootstrap: str) -> None:
        topics = settings.topics
        fresh = self.processes.embedded is not None
        reader = TopicReader(
            bootstrap, [topics.bank_commands, topics.dead_letter], from_beginning=fresh
        )
        producer = Producer(bootstrap, self.counts)
        simulator = (
            Simulator(keys=DEMO_KEYS)
            if fresh
            else Simulator(seed=time.time_ns() % 1_000_000, keys=DEMO_KEYS, run_tag=run_tag())
        )
        self.traffic = traffic = Traffic(
            producer,
            topics,
            simulator,
            self.counts,
            self.rate,
            self.fraud_every,
            revoke_every=5,
            bad_every=4,
            return_every=2,
            extend_case=2,
        )
        desk = BankDesk(producer, topics, self.counts)
        self.watch = watch = Watch(topics, self.narrator, desk, traffic.bad_keys.__contains__)
        # A bank's replica of the watchlist, to time each report to its entry there.
        replica_dir = self.processes.workdir / "watchlist-replica"
        self.watchlist = timer = WatchlistTimer(replica_dir, bootstrap, topics.watchlist)

        def on_report(case: Any, record: dict[str, Any]) -> None:
            watch.on_report(case, record)
            timer.on_report(case, record)

        traffic.on_report = on_report
        traffic.on_bad = self.narrator.bad_record
        tasks: list[asyncio.Task[Any]] = []
        try:
            await reader.start()
            await producer.start()
            await timer.start()
            self.narrator.intro(self.seconds, self.rate, self.fraud_every)
            tasks = [
                asyncio.create_task(watch.run(reader)),
                asyncio.create_task(self.progress()),
                asyncio.create_task(self.watchdog()),
                asyncio.create_task(timer.run()),
            ]
            await traffic.run(self.stop, self.seconds)
            await self.drain()
            await desk.flush()
            await producer.client.flush()
            await asyncio.sleep(1.0)  # an ack the platform rejects shows up as a dead letter
        finally:
            for task in tasks:
                task.cancel()
            desk.close()
            timer.close()
            with contextlib.suppress(Exception):
                await reader.stop()
            with contextlib.suppress(Exception):
                await producer.stop()
        if self.worker_died:
            raise self.processes.worker_died()

    async def drain(self) -> None:
        """Let the last cases' commands arrive: until all promised ones are in, or a time limit.

        A case without a problem needs no wait beyond a short quiet spell; on a busy
        machine the worker may take some seconds more, which the limit allows for.
        """
        assert self.traffic is not None and self.watch is not None
        ended = time.monotonic()
        self.narrator.draining()
        cases, seen = self.traffic.cases, self.watch.seen
        while not self.worker_died:
            now = time.monotonic()
            quiet = now - max(seen.last_at, ended) > QUIET_SECONDS
            if now - ended > DRAIN_LIMIT or (quiet and not contract_problems(cases, seen)):
                break
            await asyncio.sleep(0.25)

    async def progress(self) -> None:
        started = time.monotonic()
        while True:
            await asyncio.sleep(10.0)
            commands = len(self.watch.seen.commands) if self.watch is not None else 0
            self.narrator.progress(time.monotonic() - started, self.counts, commands)

    async def watchdog(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            if self.processes.worker is not None and not self.processes.worker_alive():
                self.worker_died = True
                self.stop.set()
                return

    def summary(self) -> None:
        cases = self.traffic.cases if self.traffic is not None else []
        watch = self.watch
        assert watch is not None
        to_entry = self.watchlist.to_entry if self.watchlist is not None else {}
        show_summary(
            self.screen, self.counts, watch.seen, cases, self.figures, watch.first_command, to_entry
        )


def run_tag() -> str:
    return f"D{int(time.time()):x}"


@app.command(
    option(
        "--seconds",
        type=float,
        default=45.0,
        show_default=True,
        help="How long the traffic runs; 0 runs until Ctrl-C.",
    ),
    option("--rate", type=float, default=100.0, show_default=True, help="Transfers per second."),
    option(
        "--fraud-every",
        type=int,
        default=300,
        show_default=True,
        help="A fraud case every K transfers.",
    ),
    option(
        "--broker",
        default=None,
        help="Use this broker (kafka://host:port) instead of starting the embedded one.",
    ),
    option(
        "--run-dir",
        default=None,
        help="Keep the worker's state and the logs here (default: a temporary directory).",
    ),
    base=PlainCommand,
)
async def demo(
    self: AppCommand,
    seconds: float,
    rate: float,
    fraud_every: int,
    broker: str | None,
    run_dir: str | None,
) -> int:
    """Run broker, worker, simulated banks and police; show the commands as they are issued."""
    if rate <= 0 or fraud_every < 1:
        print("demo: --rate must be above 0 and --fraud-every at least 1", file=sys.stderr)
        return 2
    with contextlib.ExitStack() as stack:
        if run_dir:
            path = Path(run_dir).resolve()
            path.mkdir(parents=True, exist_ok=True)
        else:
            path = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="antifraud-demo-")))
        runner = Demo(seconds, rate, fraud_every, broker, path)
        restore = stop_on_signals(
            runner.stop,
            "stopping: finishing the cases under way, then the summary"
            " (Ctrl-C again to quit at once)",
        )
        try:
            return await runner.run()
        finally:
            restore()
