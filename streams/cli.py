"""The `antifraud` console command: Faust's own `app.main()`, with our verbs added to it.

A verb is registered where it is defined (`@app.command()` in its module under
`antifraud.tools`); every module there is imported here, so adding a verb needs no edit
in this file.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType


def import_all(package: ModuleType) -> None:
    """Import every module of `package` now, so a broken one fails loudly at once.

    Faust's autodiscovery only logs a warning when a module fails to import and then runs
    without it: a worker that silently matches nothing, or a verb that silently is not there.
    """
    for module in pkgutil.walk_packages(package.__path__, prefix=package.__name__ + "."):
        importlib.import_module(module.name)


def main() -> None:
    import antifraud.agents
    import antifraud.tools
    from antifraud.streams import web  # noqa: F401  (registers /health, /metrics and timers)
    from antifraud.streams.app import app

    import_all(antifraud.tools)
    import_all(antifraud.agents)
    app.main()
