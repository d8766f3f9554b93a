"""Every override of Faust internals lives here, small and tested (tests/streams/test_fastpath.py).

1. The consumer's fetch wait. Faust's aiokafka driver hard-codes `fetch_max_wait_ms=1500`.
   A broker that answers a fetch only when that wait ends (the embedded broker does)
   then adds up to 1.5 s to every hop through an internal topic, and a report crosses
   three hops before its first command. We make the wait a setting.
"""

from __future__ import annotations

from typing import Any

import aiokafka
from faust.transport.drivers import aiokafka as faust_aiokafka


def make_transport(fetch_max_wait_ms: int) -> type[faust_aiokafka.Transport]:
    """Faust's aiokafka transport with our consumer; everything else is Faust's own."""

    class ConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
        def _create_worker_consumer(self, transport: Any) -> aiokafka.AIOKafkaConsumer:
            consumer = super()._create_worker_consumer(transport)
            # Read by aiokafka when the consumer starts (it builds its Fetcher then).
            consumer._fetch_max_wait_ms = fetch_max_wait_ms
            return consumer

    class Consumer(faust_aiokafka.Consumer):
        def _new_consumer_thread(self) -> faust_aiokafka.AIOKafkaConsumerThread:
            return ConsumerThread(self, loop=self.loop, beacon=self.beacon)

    class Transport(faust_aiokafka.Transport):
        pass

    Transport.Consumer = Consumer
    return Transport
