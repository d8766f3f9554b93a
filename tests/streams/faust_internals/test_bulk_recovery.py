"""6. The bulk load runs before Faust's own recovery step, only for active partitions, and
whatever it does, Faust's step still runs after it (from wherever the load got).

End to end: tests/integration/test_recovery.py and test_table_preload.py.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from unittest.mock import patch

import faust
import pytest
from faust.tables.recovery import Recovery
from faust.types import TP

from antifraud.streams.faust_internals import bulk_recovery
from antifraud.streams.faust_internals.bulk_recovery import make_table_manager

TPS = {TP("bulk-unit-state-changelog", 0), TP("bulk-unit-state-changelog", 1)}


def run_step(title: str, enabled: bool = True, load_fails: bool = False) -> list[str]:
    """What happens, in order, when Faust's recovery builds its offsets for `title`."""
    calls: list[str] = []

    async def load(tables: Any, offsets: Any, highwaters: Any, *args: Any) -> list[Any]:
        assert set(tables) == TPS and args == ("broker:9092", {"security_protocol": "SSL"})
        calls.append("bulk load")
        if load_fails:
            raise OSError("broker gone")
        offsets[TP("bulk-unit-state-changelog", 0)] = 1_500  # as far as the load got
        return []

    async def faust_step(self: Any, consumer: Any, tps: Any, destination: Any, title: str) -> None:
        calls.append(f"faust {title} from {destination.get(TP('bulk-unit-state-changelog', 0))}")

    async def scenario() -> None:
        app = faust.App(
            "bulk-unit",
            store="memory://",
            TableManager=make_table_manager(
                "broker:9092", {"security_protocol": "SSL"}, enabled=enabled
            ),
        )
        table = app.Table("state", partitions=2)
        recovery = app.tables.recovery
        recovery.tp_to_table.update({tp: table for tp in TPS})
        destination: dict[TP, int] = {}
        with (
            patch.object(bulk_recovery, "recover_in_bulk", load),
            patch.object(Recovery, "_build_offsets", faust_step),
        ):
            await recovery._build_offsets(None, set(TPS), destination, title)

    asyncio.run(scenario())
    return calls


def test_active_partitions_are_loaded_in_bulk_then_recovered_by_faust() -> None:
    assert run_step("active") == ["bulk load", "faust active from 1500"]


def test_standby_partitions_and_a_disabled_load_are_left_to_faust() -> None:
    assert run_step("standby") == ["faust standby from None"]
    assert run_step("active", enabled=False) == ["faust active from None"]


def test_a_failed_load_leaves_the_recovery_to_faust(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="antifraud"):
        assert run_step("active", load_fails=True) == ["bulk load", "faust active from None"]
    assert "event=table_bulk_recovery_failed action=left_to_faust_recovery" in caplog.text
