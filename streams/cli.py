"""The `antifraud` console command: Faust's own `app.main()`, with our verbs added to it."""

from __future__ import annotations

import importlib
import pkgutil


def import_agents() -> None:
    """Import every agent module now, so a broken one stops the worker at once.

    Faust's autodiscovery only logs a warning when a module fails to import and
    then runs without that agent: a worker that silently matches nothing.
    """
    import agents

    for module in pkgutil.iter_modules(agents.__path__):
        importlib.import_module(f"agents.{module.name}")


def main() -> None:
    # Importing these registers their verbs, web pages and timers on the app.
    from streams import (  # noqa: F401
        audit_tool,
        bench,
        busy_bench,
        commands,
        demo,
        simulate,
        state_bench,
        web,
    )
    from streams.app import app

    import_agents()
    app.main()
