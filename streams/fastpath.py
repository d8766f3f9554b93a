"""Every override of Faust internals lives here, small and tested (tests/streams/test_fastpath.py).

1. The consumer's fetch wait. Faust's aiokafka driver hard-codes `fetch_max_wait_ms=1500`.
   A broker that answers a fetch only when that wait ends (the embedded broker does)
   then adds up to 1.5 s to every hop through an internal topic, and a report crosses
   three hops before its first command. We make the wait a setting.

2. The producer's flush. Faust flushes the producer before committing offsets, which is
   what makes at-least-once hold. But its buffer of pending table-changelog records
   (`ProducerBuffer.flush`) returns as soon as 0.1 s pass without a record leaving, with
   records still queued; the commit then goes ahead, and a crash loses table writes whose
   input will never be replayed (the kill -9 fault test lost hundreds of commands this
   way). Our flush drains the buffer completely first.
"""

from __future__ import annotations

from typing import Any, Protocol

import aiokafka
from faust.transport.drivers import aiokafka as faust_aiokafka


class Buffer(Protocol):
    @property
    def size(self) -> int: ...

    async def flush(self) -> None: ...


async def drain(buffer: Buffer) -> None:
    """Flush until nothing is left queued (Faust's own flush may give up early)."""
    while buffer.size:
        await buffer.flush()


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

    class Producer(faust_aiokafka.Producer):
        async def flush(self) -> None:
            await drain(self.buffer)
            await super().flush()

    class Transport(faust_aiokafka.Transport):
        pass

    Transport.Consumer = Consumer
    Transport.Producer = Producer
    return Transport
