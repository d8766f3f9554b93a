"""The demo's processes: the embedded broker (unless one is given), a real worker and the
case console beside it."""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

from antifraud.harness.console_process import ConsoleProcess, console_port
from antifraud.harness.embedded_broker import EmbeddedBroker
from antifraud.harness.worker_process import FAST_GROUP, WorkerProcess
from antifraud.streams.app import settings
from antifraud.tools.demo.screen import Screen
from antifraud.tools.demo.summary import worker_figures

# The worker verifies reports with this key; the simulated police sign with it.
DEMO_KEYS = {"demo-1": b"demo-signing-key-not-for-production"}
WORKER_START_TIMEOUT = 90.0


class DemoWorker(WorkerProcess):
    def wait_healthy(self, timeout: float) -> None:
        """The demo waits for /health itself, without blocking, so Ctrl-C works meanwhile."""


class DemoFailed(Exception):
    pass


class Processes:
    """Started in order (broker, worker, console), stopped together; each start is narrated."""

    def __init__(
        self, broker_url: str | None, workdir: Path, screen: Screen, stop: asyncio.Event
    ) -> None:
        self.broker_url = broker_url
        self.workdir = workdir
        self.screen = screen
        self.stop = stop
        self.embedded: EmbeddedBroker | None = None
        self.worker: DemoWorker | None = None
        self.console: ConsoleProcess | None = None
        self.worker_env: dict[str, str] = {}

    @property
    def started(self) -> bool:
        return self.embedded is not None or self.worker is not None

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
        self.worker_env = env
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

    async def start_console(self, broker_url: str) -> None:
        """The case console beside the worker; the demo goes on without it if it cannot start.

        Its token is ANTIFRAUD_CONSOLE_TOKEN when set, else a fresh one for this run."""
        console = ConsoleProcess(
            broker_url,
            self.workdir,
            env={"ANTIFRAUD_APP_ID": self.worker_env.get("ANTIFRAUD_APP_ID", settings.app_id)},
            token=settings.console_token or None,
            port=console_port(settings.console_port),
        )
        try:
            await asyncio.to_thread(console.start)
        except (OSError, RuntimeError, TimeoutError) as exc:
            self.screen.line(f"  console  did not start ({exc}); the demo goes on without it")
            await asyncio.to_thread(console.stop)
            return
        self.console = console
        self.screen.line(f"  console  {console.url}/cases  token {console.token}")
        self.screen.line(
            "           (a browser asks for a user name and password: any name, the token as"
            " the password; curl -H 'Authorization: Bearer <token>')",
            "dim",
        )

    def worker_alive(self) -> bool:
        return self.worker is not None and self.worker.alive()

    def worker_died(self) -> DemoFailed:
        assert self.worker is not None
        return DemoFailed(
            f"the worker stopped during the demo; last lines of {self.worker.log_path}:\n"
            + self.worker.log_tail()
        )

    async def figures(self) -> dict[str, float]:
        """The worker's own counters (its /metrics); empty when it cannot answer."""
        if self.worker is not None and self.worker.alive():
            with contextlib.suppress(Exception):
                return worker_figures(await asyncio.to_thread(self.worker.metrics))
        return {}

    async def shutdown(self) -> None:
        started = time.monotonic()
        if self.console is not None:
            await asyncio.to_thread(self.console.stop)
        if self.worker is not None:
            if self.worker.alive():
                # A worker that exits meanwhile has no process group left to signal.
                with contextlib.suppress(ProcessLookupError):
                    await asyncio.to_thread(self.worker.stop)
            self.worker.process = None
        if self.embedded is not None:
            await asyncio.to_thread(self.embedded.stop)
        names = [
            name
            for name, thing in (
                ("console", self.console),
                ("worker", self.worker),
                ("broker", self.embedded),
            )
            if thing is not None
        ]
        stopped = " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)
        if stopped:
            took = time.monotonic() - started
            self.screen.line(f"{stopped} stopped ({took:.1f} s)", "dim")
