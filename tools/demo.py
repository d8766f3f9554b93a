"""`antifraud demo`: the whole platform on one machine, watched from the terminal.

An embedded broker, a real `antifraud worker` child process (the code operators run),
simulated banks and police (streams/simulation.py) and a simulated bank desk that
acknowledges every command. Each command the worker issues is shown as a table row,
with account numbers masked; a summary and a check of the contract's promises end it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from faust.cli import option
from faust.cli.base import AppCommand

from antifraud.core.ledger import MINOR_UNITS_PER_TENGE
from antifraud.harness.embedded_broker import EmbeddedBroker
from antifraud.harness.simulation import SCHEMES, Scenario, Simulator
from antifraud.harness.worker_process import FAST_GROUP, WorkerProcess
from antifraud.streams.app import app, settings
from antifraud.tools.simulate import (
    BankDesk,
    Counts,
    PlainCommand,
    Producer,
    Reader,
    Traffic,
    bootstrap_of,
    stop_on_signals,
)

DEMO_KEYS = {"demo-1": b"demo-signing-key-not-for-production"}
WORKER_START_TIMEOUT = 90.0
QUIET_SECONDS = 1.0  # after the traffic stops: a quiet spell this long, all promises kept: done
DRAIN_LIMIT = 20.0  # ... or this long after the traffic stops, whatever is still missing

COLUMNS = (
    ("time", 8),
    ("command", 14),
    ("bank", 11),
    ("account", 14),
    ("amount KZT", 16),
    ("reason", 16),
    ("hop", 3),
    ("report", 0),
)
RIGHT_ALIGNED = {"amount KZT", "hop"}


def masked(account: dict[str, Any] | None) -> str:
    """`phone ****4567`: the kind and the last four characters, never the whole number."""
    if not account:
        return "-"
    value = str(account.get("value", ""))
    return f"{account.get('kind', '?')} ****{value[-4:]}" if len(value) > 4 else "****"


def tenge(minor_units: int) -> str:
    return f"{minor_units / MINOR_UNITS_PER_TENGE:,.2f}"


class Screen:
    """Plain lines on stdout; colours only on a terminal (and never with NO_COLOR set)."""

    COLOURS = {
        "hold_transfer": "33",
        "freeze_account": "31",
        "release": "32",
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


@dataclass
class Seen:
    """Everything read back from the platform's output topics."""

    records: int = 0
    commands: dict[str, dict[str, Any]] = field(default_factory=dict)  # command_id -> command
    repeats: int = 0
    dead_letters: list[dict[str, Any]] = field(default_factory=list)
    last_at: float = 0.0

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [c for c in self.commands.values() if c.get("type") == kind]


def command_row(command: dict[str, Any], repeat: bool) -> list[str]:
    kind = str(command.get("type", "?"))
    if kind == "hold_transfer":
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
    return [
        time.strftime("%H:%M:%S"),
        kind,
        str(command.get("bank_id", "?")),
        masked(command.get("account")),
        amount,
        str(command.get("reason", "-")),
        str(command.get("hop", "-")),
        report + ("  (repeat of an earlier command id)" if repeat else ""),
    ]


def held_transfers(seen: Seen) -> dict[tuple[str, str], int]:
    """Transfers with a hold still in force: (sending bank, transfer_id) -> amount.

    A transfer held at both its banks counts once; a hold later released does not count.
    """
    released = {str(c.get("releases")) for c in seen.of_type("release")}
    out: dict[tuple[str, str], int] = {}
    for command_id, command in seen.commands.items():
        if command.get("type") != "hold_transfer" or command_id in released:
            continue
        ref = command.get("transfer") or {}
        out[(str(ref.get("bank_id")), str(ref.get("transfer_id")))] = int(command.get("amount", 0))
    return out


def contract_problems(cases: list[Scenario], seen: Seen) -> list[str]:
    """What the contract promised for each case and was not seen (masked, one line each)."""
    holds = {
        (c.get("bank_id"), (c.get("transfer") or {}).get("bank_id"), c["transfer"]["transfer_id"])
        for c in seen.of_type("hold_transfer")
        if c.get("transfer")
    }
    freezes = {
        (c.get("bank_id"), (c.get("account") or {}).get("value"))
        for c in seen.of_type("freeze_account")
    }
    released = {str(c.get("releases")) for c in seen.of_type("release")}
    problems = []
    for case in cases:
        for bank, sender, transfer_id in sorted(case.expected_holds - holds):
            problems.append(
                f"{case.report_id}: no hold_transfer to {bank} for transfer {transfer_id}"
                f" (sent by {sender})"
            )
        for bank, value in sorted(case.expected_freezes - freezes):
            problems.append(f"{case.report_id}: no freeze_account to {bank} for ****{value[-4:]}")
        if case.revoked:
            caused = [
                command_id
                for command_id, c in seen.commands.items()
                if c.get("type") != "release" and case.report_id in (c.get("report_ids") or [])
            ]
            unreleased = [command_id for command_id in caused if command_id not in released]
            if unreleased:
                problems.append(
                    f"{case.report_id} was revoked but {len(unreleased)} of the {len(caused)}"
                    " commands it caused were not released"
                )
    return problems


def worker_figures(text: str) -> dict[str, float]:
    """Sums of a few of the worker's Prometheus counters, over all their labels."""
    wanted = {
        "antifraud_commands_total",
        "antifraud_dead_letters_total",
        "antifraud_acks_total",
        "antifraud_held_amount_tenge_total",
        "antifraud_escaped_amount_tenge_total",
        "antifraud_overdue_commands_total",
    }
    out: dict[str, float] = dict.fromkeys(wanted, 0.0)
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        name = line.split("{", 1)[0].split(" ", 1)[0]
        if name in wanted:
            with contextlib.suppress(ValueError):
                out[name] += float(line.rsplit(" ", 1)[1])
    return out


class DemoWorker(WorkerProcess):
    def wait_healthy(self, timeout: float) -> None:
        """The demo waits for /health itself, without blocking, so Ctrl-C works meanwhile."""


class DemoFailed(Exception):
    pass


class Demo:
    def __init__(
        self, seconds: float, rate: float, fraud_every: int, broker: str | None, workdir: Path
    ) -> None:
        self.seconds = seconds
        self.rate = rate
        self.fraud_every = fraud_every
        self.broker_url = broker
        self.workdir = workdir
        self.screen = Screen()
        self.counts = Counts()
        self.seen = Seen()
        self.stop = asyncio.Event()
        self.embedded: EmbeddedBroker | None = None
        self.worker: DemoWorker | None = None
        self.traffic: Traffic | None = None
        self.figures: dict[str, float] = {}
        self.report_sent: dict[str, float] = {}  # report id -> when it was sent (monotonic)
        self.first_command: dict[str, float] = {}  # report id -> seconds to its first command
        self.worker_died = False

    # ------------------------------------------------------------------ start and stop

    async def start_broker(self) -> str:
        if self.broker_url:
            self.screen.line(f"  broker   {self.broker_url} (given with --broker)")
            return self.broker_url
        self.embedded = EmbeddedBroker(log_file=self.workdir / "broker.log")
        try:
            await asyncio.to_thread(self.embedded.start)
        except (OSError, TimeoutError) as exc:
            raise DemoFailed(f"the embedded broker did not start: {exc}") from exc
        self.screen.line(f"  broker   embedded (Tansu, memory only) on {self.embedded.bootstrap}")
        return self.embedded.url

    async def start_worker(self, broker_url: str) -> None:
        env = {
            "ANTIFRAUD_STORE": "rocksdb://",
            "ANTIFRAUD_REPORT_KEYS": ",".join(f"{k}={v.decode()}" for k, v in DEMO_KEYS.items()),
            "ANTIFRAUD_PER_BANK_TOPICS": "false",
        }
        if self.embedded is not None:
            env.update(FAST_GROUP)
        else:
            # Its own consumer group and tables on a shared broker: the demo's key is its own.
            env["ANTIFRAUD_APP_ID"] = "antifraud-demo"
        self.worker = DemoWorker(broker_url, self.workdir, env)
        started = time.monotonic()
        await asyncio.to_thread(self.worker.start)
        self.screen.line(f"  worker   `antifraud worker` started; log: {self.worker.log_path}")
        while True:
            if await asyncio.to_thread(self.worker.health) == 200:
                break
            if not self.worker.alive():
                raise DemoFailed(
                    f"the worker exited while starting; last lines of {self.worker.log_path}:\n"
                    + self.worker.log_tail()
                )
            if time.monotonic() - started > WORKER_START_TIMEOUT:
                raise DemoFailed(
                    f"the worker was not healthy after {WORKER_START_TIMEOUT:.0f} s;"
                    f" last lines of {self.worker.log_path}:\n" + self.worker.log_tail()
                )
            if self.stop.is_set():
                raise DemoFailed("stopped before the worker was ready")
            await asyncio.sleep(0.25)
        took = time.monotonic() - started
        self.screen.line(f"           healthy after {took:.1f} s (GET /health answered 200)")

    async def fetch_figures(self) -> None:
        if self.worker is not None and self.worker.alive():
            with contextlib.suppress(Exception):
                self.figures = worker_figures(await asyncio.to_thread(self.worker.metrics))

    async def shutdown(self) -> None:
        started = time.monotonic()
        if self.worker is not None:
            if self.worker.alive():
                # A worker that exits meanwhile has no process group left to signal.
                with contextlib.suppress(ProcessLookupError):
                    await asyncio.to_thread(self.worker.stop)
            self.worker.process = None
        if self.embedded is not None:
            await asyncio.to_thread(self.embedded.stop)
        stopped = " and ".join(
            name
            for name, thing in (("worker", self.worker), ("broker", self.embedded))
            if thing is not None
        )
        if stopped:
            took = time.monotonic() - started
            self.screen.line(f"{stopped} stopped ({took:.1f} s)", "dim")

    # ------------------------------------------------------------------ the run

    async def run(self) -> int:
        screen = self.screen
        screen.line("antifraud demo: simulated banks and police against a real worker", "bold")
        try:
            broker_url = await self.start_broker()
            await self.start_worker(broker_url)
            await self.watch_traffic(bootstrap_of(broker_url))
            await self.fetch_figures()
            self.summary()
        except DemoFailed as exc:
            screen.line(f"demo: {exc}")
            if self.embedded is not None or self.worker is not None:
                screen.line("demo: run with --run-dir DIR to keep the worker's and broker's logs")
            return 1
        finally:
            await self.shutdown()
        if self.counts.reports and not self.seen.commands:
            screen.line("demo: police reports were sent but the worker issued no command")
            return 1
        return 0

    async def watch_traffic(self, bootstrap: str) -> None:
        topics = settings.topics
        fresh = self.embedded is not None
        reader = Reader(bootstrap, [topics.bank_commands, topics.dead_letter], from_beginning=fresh)
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
        )
        traffic.on_report = self.narrate_report
        traffic.on_bad = self.narrate_bad
        desk = BankDesk(producer, topics, self.counts)
        tasks: list[asyncio.Task[Any]] = []
        try:
            await reader.start()
            await producer.start()
            self.intro()
            tasks = [
                asyncio.create_task(self.read(reader, desk)),
                asyncio.create_task(self.progress()),
                asyncio.create_task(self.watchdog()),
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
            with contextlib.suppress(Exception):
                await reader.stop()
            with contextlib.suppress(Exception):
                await producer.stop()
        if self.worker_died:
            assert self.worker is not None
            raise DemoFailed(
                f"the worker stopped during the demo; last lines of {self.worker.log_path}:\n"
                + self.worker.log_tail()
            )

    async def drain(self) -> None:
        """Let the last cases' commands arrive: until all promised ones are in, or a time limit.

        A case without a problem needs no wait beyond a short quiet spell; on a busy
        machine the worker may take some seconds more, which the limit allows for.
        """
        ended = time.monotonic()
        self.screen.line("  .. traffic stopped; waiting for the last cases' commands", "dim")
        cases = self.traffic.cases if self.traffic is not None else []
        while not self.worker_died:
            now = time.monotonic()
            quiet = now - max(self.seen.last_at, ended) > QUIET_SECONDS
            if now - ended > DRAIN_LIMIT or (quiet and not contract_problems(cases, self.seen)):
                break
            await asyncio.sleep(0.25)

    async def read(self, reader: Reader, desk: BankDesk) -> None:
        topics = settings.topics
        while True:
            for topic, value in await reader.read():
                self.seen.records += 1
                self.seen.last_at = time.monotonic()
                if topic == topics.dead_letter:
                    self.show_dead_letter(value)
                    continue
                command_id = str(value.get("command_id"))
                repeat = command_id in self.seen.commands
                if repeat:
                    self.seen.repeats += 1
                else:
                    self.seen.commands[command_id] = value
                if value.get("type") != "release":
                    for report_id in value.get("report_ids") or []:
                        sent = self.report_sent.get(report_id)
                        if sent is not None and report_id not in self.first_command:
                            self.first_command[report_id] = self.seen.last_at - sent
                self.screen.row(command_row(value, repeat), str(value.get("type")))
                desk.on_command(value)

    async def progress(self) -> None:
        started = time.monotonic()
        while True:
            await asyncio.sleep(10.0)
            acks = self.counts.acks
            self.screen.line(
                f"  .. {time.monotonic() - started:.0f} s: {self.counts.transfers} transfers,"
                f" {self.counts.reports} police reports, {len(self.seen.commands)} commands,"
                f" {sum(acks.values())} bank acks ({acks['applied']} applied,"
                f" {acks['too_late']} too late)",
                "dim",
            )

    async def watchdog(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            if self.worker is not None and not self.worker.alive():
                self.worker_died = True
                self.stop.set()
                return

    # ------------------------------------------------------------------ what is shown

    def intro(self) -> None:
        screen = self.screen
        length = f"for {self.seconds:g} s" if self.seconds else "until Ctrl-C"
        every = self.fraud_every / self.rate
        screen.line(
            f"  traffic  {self.rate:g} transfers/s from 5 banks, a fraud case every {every:.1f} s,"
            f" {length} (Ctrl-C ends it early)"
        )
        screen.line()
        screen.line("The fraud schemes of the seed story, in turn:")
        for scheme, story in SCHEMES.items():
            screen.line(f"  {scheme:<20}{story}")
        screen.line(
            "A case: three victims pay the fraud account, the fraudster moves money on to a mule,"
        )
        screen.line(
            "the police report the account (written the way people write it), the mule sends"
        )
        screen.line(
            "money on again and one more victim pays. Every 5th report is withdrawn by the police."
        )
        screen.line(
            "Banks acknowledge each command (most holds applied, some too late). Accounts are"
        )
        screen.line("shown masked to their last four characters.")
        screen.line()
        self.screen.row([name for name, _ in COLUMNS], "bold")

    def narrate_report(self, case: Scenario, record: dict[str, Any]) -> None:
        self.report_sent.setdefault(case.report_id, time.monotonic())
        if record.get("action") == "revoke":
            text = (
                f"police withdraw report {case.report_id} (made in error):"
                " what it alone caused must be released"
            )
        else:
            text = (
                f"police report {case.report_id} ({case.scheme}): {masked(case.account)},"
                " paid by 3 victims, part already sent on to a mule"
            )
        self.screen.line(f"  {time.strftime('%H:%M:%S')}  >> {text}", "note")

    def narrate_bad(self, kind: str, code: str) -> None:
        what = (
            "a bank sends a transfer to a mistyped IBAN (fails the mod-97 check)"
            if kind == "transfer"
            else "a report arrives signed with a key the police never issued"
        )
        self.screen.line(
            f"  {time.strftime('%H:%M:%S')}  >> {what}: expect a dead letter ({code})", "note"
        )

    def show_dead_letter(self, value: dict[str, Any]) -> None:
        source = value.get("source") or {}
        code = str((value.get("error") or {}).get("code", "?"))
        key = str(source.get("key"))
        planted = self.traffic is not None and key in self.traffic.bad_keys
        value["_planted"] = planted
        self.seen.dead_letters.append(value)
        where = f"{source.get('topic')} p{source.get('partition')} @{source.get('offset')}"
        note = "as expected" if planted else "UNEXPECTED"
        self.screen.line(
            f"  {time.strftime('%H:%M:%S')}  dead letter     {code} from {where} ({note})", "dead"
        )

    def summary(self) -> None:
        screen, counts, seen = self.screen, self.counts, self.seen
        cases = self.traffic.cases if self.traffic is not None else []
        held = held_transfers(seen)
        acks = counts.acks
        planted = sum(1 for d in seen.dead_letters if d.get("_planted"))
        revoked = sum(1 for c in cases if c.revoked)
        by_scheme = Counter(c.scheme for c in cases)
        screen.line()
        screen.line("summary", "bold")
        lines = [
            ("transfers sent", f"{counts.transfers}"),
            ("reports sent", f"{counts.reports} ({counts.revocations} withdrawn later)"),
            ("bad records sent", f"{counts.bad_records} (on purpose: each must be dead-lettered)"),
            (
                "fraud cases",
                f"{len(cases)} ("
                + ", ".join(f"{by_scheme[s]} {s}" for s in SCHEMES)
                + f"; {revoked} revoked)",
            ),
            ("holds", f"{len(seen.of_type('hold_transfer'))}"),
            ("freezes", f"{len(seen.of_type('freeze_account'))}"),
            ("releases", f"{len(seen.of_type('release'))}"),
            (
                "tenge held",
                f"{tenge(sum(held.values()))} KZT on {len(held)} transfers"
                " (a transfer held at both its banks counts once; released holds excluded)",
            ),
            (
                "distinct command ids",
                f"{len(seen.commands)} (in {len(seen.commands) + seen.repeats} command records)",
            ),
            (
                "bank acks sent",
                f"{sum(acks.values())} ({acks['applied']} applied, {acks['too_late']} too late)",
            ),
            (
                "dead letters seen",
                f"{len(seen.dead_letters)} ({planted} for the bad records the demo sent,"
                f" {len(seen.dead_letters) - planted} unexpected)",
            ),
        ]
        if counts.failed_sends:
            lost = f"{counts.failed_sends} records never reached the broker"
            lines.append(("FAILED sends", lost))
        if self.figures:
            f = self.figures
            lines.append(
                (
                    "worker /metrics",
                    f"{f['antifraud_commands_total']:.0f} commands,"
                    f" {f['antifraud_acks_total']:.0f} acks recorded,"
                    f" {f['antifraud_held_amount_tenge_total']:,.2f} KZT held per bank acks,"
                    f" {f['antifraud_escaped_amount_tenge_total']:,.2f} KZT escaped,"
                    f" {f['antifraud_dead_letters_total']:.0f} dead letters",
                )
            )
        if self.first_command:
            waits = sorted(self.first_command.values())
            lines.append(
                (
                    "report -> 1st command",
                    f"median {waits[len(waits) // 2]:.1f} s, slowest {waits[-1]:.1f} s"
                    " (from sending the report to seeing its first command)",
                )
            )
        for label, text in lines:
            screen.line(f"  {label:<22}{text}")
        problems = contract_problems(cases, seen)
        if not cases:
            verdict = "no fraud case ran"
        elif problems:
            verdict = f"{len(problems)} promised commands NOT seen:"
        else:
            verdict = (
                f"every case got each hold and freeze the contract promises"
                f"{'; revoked cases fully released' if revoked else ''}"
            )
        screen.line(f"  {'contract check':<22}{verdict}", "bold" if problems else "")
        for problem in problems[:20]:
            screen.line(f"    {problem}")
        if len(problems) > 20:
            screen.line(f"    ... and {len(problems) - 20} more")


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
