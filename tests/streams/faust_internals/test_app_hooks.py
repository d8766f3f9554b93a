"""9. The app builds the tuned transport, and can start its web server before recovery."""

from __future__ import annotations

import asyncio
from unittest.mock import AsyncMock, patch

import faust
from faust.transport.drivers import aiokafka as faust_aiokafka

from antifraud.streams.app import app, settings
from antifraud.streams.faust_internals.app_hooks import TunedApp


def test_the_worker_app_is_tuned_with_the_fetch_wait_setting() -> None:
    assert isinstance(app, TunedApp)
    assert app.fetch_max_wait_ms == settings.fetch_max_wait_ms
    assert isinstance(app.transport, faust_aiokafka.Transport)
    assert type(app.transport).__qualname__.startswith("make_transport")


def test_a_plain_faust_app_keeps_faust_s_transport() -> None:
    plain = faust.App("hooks-unit", store="memory://")
    assert not type(plain.transport).__qualname__.startswith("make_transport")


def test_the_web_server_starts_through_faust_s_own_hook() -> None:
    tuned = TunedApp("hooks-unit-tuned", store="memory://")
    with patch.object(faust.App, "on_started_init_web_server", AsyncMock()) as started:
        asyncio.run(tuned.start_web_server_now())
    started.assert_awaited_once_with()
