"""1. The worker's transport is Faust's, with the fetch wait from the setting."""

from __future__ import annotations

import asyncio

from faust.transport.drivers import aiokafka as faust_aiokafka

from antifraud.streams.app import app, settings
from tests.streams.faust_internals.fakes import fast_consumer


def test_the_app_uses_the_fast_transport_and_faust_s_classes_underneath() -> None:
    transport = app.transport
    assert isinstance(transport, faust_aiokafka.Transport)
    assert issubclass(transport.Consumer, faust_aiokafka.Consumer)
    assert issubclass(transport.Producer, faust_aiokafka.Producer)


def test_consumer_fetch_wait_comes_from_the_setting() -> None:
    async def build() -> int:
        transport, consumer = fast_consumer()
        thread = consumer._new_consumer_thread()
        aiokafka_consumer = thread._create_worker_consumer(transport)
        value = aiokafka_consumer._fetch_max_wait_ms
        await aiokafka_consumer.stop()
        return int(value)

    assert asyncio.run(build()) == 37
    assert settings.fetch_max_wait_ms == 100
