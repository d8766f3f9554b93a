"""1. The consumer's fetch wait, and the transport that carries 2-4
(tests/streams/faust_internals/test_transport.py).

Faust's aiokafka driver hard-codes `fetch_max_wait_ms=1500`. A broker that answers a fetch
only when that wait ends (the embedded broker does) then adds up to 1.5 s to every hop
through an internal topic, and a report crosses three hops before its first command. We
make the wait a setting. Everything else is Faust's own transport, with our producer buffer
(2.), seek (3.) and hand-off (4.).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiokafka
from faust.transport.drivers import aiokafka as faust_aiokafka

from antifraud.streams.faust_internals.handoff import drain_messages
from antifraud.streams.faust_internals.producer_buffer import DrainingBuffer
from antifraud.streams.faust_internals.seek import BatchGate, never_committed, quiesce


def make_transport(fetch_max_wait_ms: int) -> type[faust_aiokafka.Transport]:
    """Faust's aiokafka transport with our consumer and producer buffer."""

    class ConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
        def _create_worker_consumer(self, transport: Any) -> aiokafka.AIOKafkaConsumer:
            consumer = super()._create_worker_consumer(transport)
            # Read by aiokafka when the consumer starts (it builds its Fetcher then).
            consumer._fetch_max_wait_ms = fetch_max_wait_ms
            return consumer

    class Consumer(faust_aiokafka.Consumer):
        def _new_consumer_thread(self) -> faust_aiokafka.AIOKafkaConsumerThread:
            return ConsumerThread(self, loop=self.loop, beacon=self.beacon)

        _batches: BatchGate | None = None

        @property
        def batches(self) -> BatchGate:
            if self._batches is None:
                self._batches = BatchGate()
            return self._batches

        async def getmany(self, timeout: float) -> AsyncIterator[tuple[Any, Any]]:
            self.batches.opened()
            try:
                async for item in super().getmany(timeout):
                    yield item
            finally:
                self.batches.closed()

        async def perform_seek(self) -> None:  # 3.
            await quiesce(self, self.app, self.batches)
            await super().perform_seek()
            # Faust records "no commit" and "committed 0" alike, as None.
            uncommitted = never_committed(
                self.assignment(), self._committed_offset, self._is_changelog_tp
            )
            if uncommitted:
                await self._thread.seek_to_beginning(
                    *(faust_aiokafka.ensure_aiokafka_TP(tp) for tp in uncommitted)
                )
                for tp in uncommitted:
                    self._read_offset[tp] = None

        async def _drain_messages(self, fetcher: Any) -> None:  # 4.
            await drain_messages(self, fetcher)

    class Producer(faust_aiokafka.Producer):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            buffer = DrainingBuffer(loop=self.loop, beacon=self.beacon)  # 2.
            buffer.app = self.app
            self.buffer = buffer

    class Transport(faust_aiokafka.Transport):
        pass

    Transport.Consumer = Consumer
    Transport.Producer = Producer
    return Transport
