"""The Faust overrides in streams/fastpath.py change only what they say they change.

Delivery, acks and rebalances under the overrides are exercised end to end by the
whole integration suite (every worker there runs with them) and by the fault tests.
"""

from __future__ import annotations

import asyncio

from faust.transport.drivers import aiokafka as faust_aiokafka

from streams.app import app, settings
from streams.fastpath import make_transport


def test_the_app_uses_the_fast_transport_and_faust_s_classes_underneath() -> None:
    transport = app.transport
    assert isinstance(transport, faust_aiokafka.Transport)
    assert issubclass(transport.Consumer, faust_aiokafka.Consumer)
    assert transport.Producer is faust_aiokafka.Producer


def test_consumer_fetch_wait_comes_from_the_setting() -> None:
    async def build() -> int:
        transport = make_transport(fetch_max_wait_ms=37)(app.conf.broker_consumer, app)
        consumer = transport.create_consumer(
            callback=app.topics.on_message,
            on_partitions_revoked=app._on_partitions_revoked,
            on_partitions_assigned=app._on_partitions_assigned,
        )
        thread = consumer._new_consumer_thread()
        aiokafka_consumer = thread._create_worker_consumer(transport)
        value = aiokafka_consumer._fetch_max_wait_ms
        await aiokafka_consumer.stop()
        return int(value)

    assert asyncio.run(build()) == 37
    assert settings.fetch_max_wait_ms == 100
