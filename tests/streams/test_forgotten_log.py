"""An account whose transfers or holds are forgotten is named in the log, masked, once an hour."""

from __future__ import annotations

import logging

import pytest

from antifraud.agents import matching


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
