"""A CLI verb on a plain asyncio loop, and Ctrl-C handling for it (`demo`, `simulate`)."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable, Coroutine
from typing import Any, ClassVar, NoReturn

from faust.cli.base import AppCommand


class PlainCommand(AppCommand):
    """A verb run on a plain asyncio loop; the coroutine's int result is the exit code.

    Faust runs `async def` verbs inside a mode Worker, which prints a banner per signal and
    turns any failure into a traceback; these verbs handle Ctrl-C themselves (finish, print
    the summary, stop their child processes) and exit with a code that means something.
    """

    abstract: ClassVar[bool] = True  # a base for verbs, not a verb of its own

    def __call__(self, *args: Any, **kwargs: Any) -> NoReturn:
        run: Callable[..., Coroutine[Any, Any, int | None]] = self.run
        code: int | None
        try:
            code = asyncio.run(run(*(self.args + args), **{**self.kwargs, **kwargs}))
        except (KeyboardInterrupt, asyncio.CancelledError):  # a second Ctrl-C: quit at once
            code = 130
        raise SystemExit(code or 0)


def stop_on_signals(stop: asyncio.Event, notice: str = "") -> Callable[[], None]:
    """First Ctrl-C (or SIGTERM) asks to finish (printing `notice`); a second one ends at once."""
    loop = asyncio.get_running_loop()
    main = asyncio.current_task()

    def on_signal() -> None:
        if stop.is_set():
            if main is not None:
                main.cancel()
            return
        if notice:
            print(f"\n{notice}", flush=True)
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, on_signal)

    def restore() -> None:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)

    return restore
