"""An account whose transfers, holds or other records are forgotten is named in the log,
masked, once an hour per kind; each kind is counted."""

from __future__ import annotations

import logging
from dataclasses import fields

import pytest

from antifraud.agents import matching
from antifraud.core.state_bounds import Forgotten
from antifraud.streams import metrics


def test_forgetting_is_logged_masked_once_an_hour(caplog: pytest.LogCaptureFixture) -> None:
    key = "iban:KZ86125KZT5004100100"
    matching._forgetting_said_at.clear()
    with caplog.at_level(logging.WARNING, logger="antifraud"):
        matching._say_forgotten("transfers", key, 1_000.0)
        matching._say_forgotten("transfers", key, 1_000.0 + 3_599)
        matching._say_forgotten("commands", key, 1_000.0 + 3_599)  # its own hour
        matching._say_forgotten("transfers", "phone:+77011234567", 1_000.0 + 3_599)
        matching._say_forgotten("transfers", key, 1_000.0 + 3_600)
        matching._say_forgotten("commands", key, 1_000.0 + 3_600)
    lines = [r.getMessage() for r in caplog.records if "_forgotten" in r.getMessage()]
    assert lines == [
        "event=transfers_forgotten identifier=iban:****************0100 bound=1000",
        "event=commands_forgotten identifier=iban:****************0100 bound=2000",
        "event=transfers_forgotten identifier=phone:********4567 bound=1000",
        "event=transfers_forgotten identifier=iban:****************0100 bound=1000",
    ]


def test_each_other_bound_is_logged_with_its_own_bound(caplog: pytest.LogCaptureFixture) -> None:
    key = "phone:+77011234567"
    matching._forgetting_said_at.clear()
    with caplog.at_level(logging.WARNING, logger="antifraud"):
        for kind in [field.name for field in fields(Forgotten)]:
            matching._say_forgotten(kind, key, 1_000.0)
            matching._say_forgotten(kind, key, 1_000.0 + 60)  # the same hour: said once
    lines = [r.getMessage() for r in caplog.records if "_forgotten" in r.getMessage()]
    assert lines == [
        "event=freezes_forgotten identifier=phone:********4567 bound=100",
        "event=reports_forgotten identifier=phone:********4567 bound=500",
        "event=tainted_inflows_forgotten identifier=phone:********4567 bound=1000",
        "event=followed_transfers_forgotten identifier=phone:********4567 bound=1000",
        "event=followed_recipients_forgotten identifier=phone:********4567 bound=500",
        "event=banks_forgotten identifier=phone:********4567 bound=100",
    ]


def test_forgotten_records_are_counted_by_kind() -> None:
    def sample(name: str, **labels: str) -> float:
        return metrics.REGISTRY.get_sample_value(name, labels) or 0.0

    commands, records = (
        "antifraud_commands_forgotten_total",
        "antifraud_watch_records_forgotten_total",
    )
    before = {
        "freeze": sample(commands, type="freeze_account"),
        "hold": sample(commands, type="hold_transfer"),
        "report": sample(records, kind="report"),
        "recipient": sample(records, kind="followed_recipient"),
        "bank": sample(records, kind="bank"),
    }
    matching._count_forgotten(Forgotten(freezes=2, reports=3, followed_recipients=1))
    assert sample(commands, type="freeze_account") == before["freeze"] + 2
    assert sample(commands, type="hold_transfer") == before["hold"]
    assert sample(records, kind="report") == before["report"] + 3
    assert sample(records, kind="followed_recipient") == before["recipient"] + 1
    assert sample(records, kind="bank") == before["bank"]  # a series from 0, unchanged
