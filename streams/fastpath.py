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
   way). Our buffer's flush waits until every queued record has left, counting the one
   being handed to the Kafka client at that moment (Faust counts only the queue, so that
   record could miss the client's own flush that follows). It waits with one wake-up per
   record sent rather than Faust's `asyncio.wait_for` task per record; the bench showed
   no measurable CPU difference either way.

3. The seek after a rebalance. When table recovery ends, Faust resumes the stream
   partitions while records are still flowing, seeks them to their committed offsets,
   and only then resumes flow control, which empties every agent's queue. Records that
   reached a queue during the seek are thrown away, while the consumer's read offset
   has already moved past them, so their re-fetched copies are dropped as "already
   read": they are never processed and never acked (the early-kill fault test lost up
   to 250 of 400 reports this way). Our seek first stops the flow, as Faust does when
   partitions are revoked, and waits until the fetcher has finished handing out the
   batch it was in; nothing is delivered between the seek and the queue clearing then,
   and everything after the committed offset is fetched and processed again.
   One more hole in the same place: aiokafka's `seek_to_committed` seeks only partitions
   whose committed offset is above 0, so a partition never committed (a worker killed
   before its first commit) kept the position past the records thrown away, and Faust's
   commit check is skipped when nothing was committed: those records were skipped for
   good (the restart-after-kill test saw it once in CI). We seek such stream partitions
   to their beginning, which is what "earliest" means for a partition with no commit.

4. Handing a record to its agents. Faust's fetcher awaits every record's hand-off
   together with the "flow suspended" event (`wait_first`), so that a rebalance can
   interrupt a hand-off that waits on flow control, a full agent queue or a full producer
   buffer; that creates three tasks per record (22 % of a worker's CPU while it recovers
   tables, 4-8 % while it processes transfers). When none of those waits can happen (flow
   running, the record's agent queues and the producer buffer below their limits), the
   hand-off runs to its end without yielding, so nothing can interrupt it: we await it
   directly. Otherwise Faust's way is kept. The loop is Faust 0.15.3's, with that change.

5. Table writes. Faust writes a table key to RocksDB, then queues its changelog record
   for the producer buffer (a `FutureMessage`, a `PendingMessage`, sensor calls), and
   writes a persisted offset to RocksDB when each record is acknowledged: every transfer
   writes two identifiers' state, so this was the largest cost left in the worker's
   profile. `DirectTable` writes the partition's RocksDB file and hands the changelog
   record straight to the Kafka client, in order, so compaction keeps the last value as
   Faust's would. The persisted offset is written once per partition when the agent asks
   (after each bundle) for records acknowledged so far: behind is safe, the restart
   replays a few changelog records, which is idempotent. At-least-once is unchanged:
   Faust's commit flushes the Kafka client, so these records are acknowledged before the
   offsets of the input that caused them are committed. Every write of such a table must
   go through it (a mix with Faust's buffered path could reorder a key's records).
   Stores other than RocksDB keep Faust's path.

6. Recovery of partitions taken over. After a rebalance Faust replays each assigned table
   partition from its file's persisted offset, record by record (about 6,000 records/s).
   A partition taken over from a worker that died is behind by all that worker wrote since:
   minutes for a busy hour, during which that partition's holds wait. Our recovery first
   loads every active partition at least `BULK_RECOVERY_MIN_RECORDS` behind in bulk
   (streams/table_preload.py), into the files Faust has open and with the persisted offset
   after the data, and moves Faust's start offset along with each write; then Faust's own
   step runs from there. Nothing else changes: Faust still computes the highwaters, seeks,
   replays what is left and resumes the streams; if the bulk load fails or is cut short (a
   new rebalance, Faust's step timeout), Faust replays from wherever it got.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any, Protocol

import aiokafka
from faust.stores.rocksdb import Store as RocksDBStore
from faust.streams import current_event
from faust.tables import TableManager
from faust.tables.recovery import Recovery
from faust.transport.consumer import CONSUMER_FETCHING
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.transport.producer import ProducerBuffer
from faust.types import TP

from antifraud.streams.table_preload import recover_in_bulk

log = logging.getLogger("antifraud")


class DrainingBuffer(ProducerBuffer):
    """Faust's producer buffer, whose flush returns only when every record has left (2.)."""

    _sending = 0  # records taken from the queue and not yet handed to the Kafka client

    @property
    def size(self) -> int:
        # Faust's reads app.conf.producer_threaded each time (a settings lookup, asked for
        # every record handed to an agent); the worker never uses the threaded producer.
        return self.pending.qsize()

    @property
    def outstanding(self) -> int:
        return self.size + self._sending

    async def _send_pending(self, fut: Any) -> None:
        self._sending += 1
        try:
            await super()._send_pending(fut)
        finally:
            self._sending -= 1

    async def settle(self, at_most: int) -> None:
        """Until no more than `at_most` records are outstanding; one wake-up per record sent."""
        while True:
            # Cleared before the check: a record sent between the check and the wait
            # sets it again, so the wait cannot miss the last one.
            self.message_sent.clear()
            if self.outstanding <= at_most:
                return
            await self.message_sent.wait()

    async def flush(self) -> None:
        await self.settle(0)

    async def on_stop(self) -> None:
        # Stopping gives up on records the broker does not take, as Faust's flush does: their
        # input offsets were not committed (a commit needs a flush), so they are replayed.
        await self.flush_atmost(None)

    async def wait_until_ebb(self) -> None:
        if self.size > self.max_messages:
            await self.settle(self.max_messages)


# A fetched batch ends within one fetch wait once the flow stops; this only bounds a bug.
BATCH_END_TIMEOUT = 30.0


class BatchGate:
    """Knows whether the fetcher is between fetching a batch and handing out its last record.

    The fetcher sets a record's read offset after handing it to the agents; a seek that
    lands while a batch is still being handed out has its read offsets overwritten by
    the stale batch (see 3. above).
    """

    def __init__(self) -> None:
        self._open = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def opened(self) -> None:
        self._open += 1
        self._idle.clear()

    def closed(self) -> None:
        self._open -= 1
        if self._open == 0:
            self._idle.set()

    async def wait_idle(self, timeout: float = BATCH_END_TIMEOUT) -> bool:
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
            return True
        except TimeoutError:
            return False


class FlowControlled(Protocol):
    flow_active: bool

    def stop_flow(self) -> None: ...


async def quiesce(consumer: FlowControlled, app: Any, batches: BatchGate) -> None:
    """Stop delivering records to agents before a seek (see 3. above).

    Whoever asked for the seek resumes flow control (which clears the agents' queues)
    and the flow afterwards, as Faust's recovery does. When the flow is already stopped
    (a rebalance, or the fetcher itself seeking back while stopped) nothing is being
    delivered and there is nothing to do; waiting would also deadlock the fetcher.
    """
    if not consumer.flow_active:
        return
    consumer.stop_flow()
    app.flow_control.suspend()
    if not await batches.wait_idle():
        log.warning("event=seek_while_fetching waited_s=%s", BATCH_END_TIMEOUT)


def never_committed(
    assignment: Iterable[Any], committed: Mapping[Any, int | None], is_changelog: Any
) -> list[Any]:
    """The assigned stream partitions with no commit above offset 0 (see 3.)."""
    return sorted(tp for tp in assignment if not is_changelog(tp) and committed.get(tp) is None)


def can_hand_over_at_once(consumer: Any, app: Any, tp: Any) -> bool:
    """Whether handing a record of `tp` to its agents cannot wait on anything (see 4.)."""
    if consumer.suspend_flow.is_set() or not app.flow_control.is_active():
        return False
    buffer = app.producer.buffer
    if buffer.size > buffer.max_messages:  # the conductor would wait for it to ebb
        return False
    conductor = app.topics
    if conductor._tp_to_callback_lock.locked():
        return False
    return not any(channel.queue.full() for channel in conductor._tp_index.get(tp, ()))


class DirectTable:
    """A Faust table's rows in the partition being processed, written past Faust's layers (5.)."""

    def __init__(self, table: Any) -> None:
        self.table = table
        self._acked: dict[int, int] = {}  # partition -> last changelog offset acknowledged
        self._persisted: dict[int, int] = {}

    @property
    def direct(self) -> bool:
        return isinstance(self.table.data, RocksDBStore)

    def _partition(self) -> int:
        event = current_event()
        if event is None:
            raise TypeError("table rows are read and written while processing an event")
        return int(event.message.partition)

    def get(self, key: bytes) -> bytes | None:
        if not self.direct:
            return self.table.get(key)
        return self.table.data._db_for_partition(self._partition()).get(key)

    async def set(self, key: bytes, value: bytes | None) -> None:
        """Write `value` (None deletes) locally and to the changelog; returns once queued."""
        if not self.direct:
            if value is not None:
                self.table[key] = value
            elif key in self.table:
                del self.table[key]
            return
        partition = self._partition()
        db = self.table.data._db_for_partition(partition)
        if value is not None:
            db.put(key, value)
        elif db.get(key) is None:
            return  # nothing to delete: no tombstone either
        else:
            db.delete(key)
        client = self.table.app.producer._producer  # the aiokafka producer
        topic = self.table.changelog_topic.get_topic_name()
        sent = await client.send(topic, value=value, key=key, partition=partition)
        sent.add_done_callback(lambda fut: self._on_sent(partition, fut))

    def _on_sent(self, partition: int, fut: asyncio.Future[Any]) -> None:
        if fut.cancelled():
            return
        exc = fut.exception()
        if exc is not None:
            # As Faust's own changelog callback: the write is lost to the changelog, and
            # the input that caused it was not committed if the worker stops before its
            # next commit. Say it loudly.
            log.error("event=changelog_write_failed partition=%d", partition, exc_info=exc)
            return
        offset = fut.result().offset
        if offset > self._acked.get(partition, -1):
            self._acked[partition] = offset

    def persist_offsets(self) -> None:
        """Record the changelog offsets acknowledged so far in each partition's file."""
        if not self.direct:
            return
        store = self.table.data
        topic = self.table.changelog_topic.get_topic_name()
        for partition, offset in list(self._acked.items()):
            if partition not in store._dbs:  # revoked since: its file is closed, not ours
                del self._acked[partition]
                self._persisted.pop(partition, None)
            elif self._persisted.get(partition) != offset:
                store.set_persisted_offset(TP(topic, partition), offset)
                self._persisted[partition] = offset


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

        async def perform_seek(self) -> None:
            await quiesce(self, self.app, self.batches)
            await super().perform_seek()
            # See 3.: Faust records "no commit" and "committed 0" alike, as None.
            uncommitted = never_committed(
                self.assignment(), self._committed_offset, self._is_changelog_tp
            )
            if uncommitted:
                await self._thread.seek_to_beginning(
                    *(faust_aiokafka.ensure_aiokafka_TP(tp) for tp in uncommitted)
                )
                for tp in uncommitted:
                    self._read_offset[tp] = None

        async def _drain_messages(self, fetcher: Any) -> None:  # Faust's, but for 4.
            callback = self.callback
            consumer_should_stop = self._stopped.is_set
            fetcher_should_stop = fetcher._stopped.is_set
            get_read_offset = self._read_offset.__getitem__
            set_read_offset = self._read_offset.__setitem__
            commit_every = self._commit_every
            acks_enabled_for = self.app.topics.acks_enabled_for
            app = self.app
            yield_every = 100
            num_since_yield = 0
            try:
                while not (consumer_should_stop() or fetcher_should_stop()):
                    self.diag.set_flag(CONSUMER_FETCHING)
                    batch = self.getmany(timeout=1.0)
                    # Faust: getmany may return at once in a loop, never yielding otherwise.
                    await self.sleep(0)
                    if self.should_stop:
                        continue
                    async for tp, message in batch:
                        num_since_yield += 1
                        if num_since_yield > yield_every:
                            await asyncio.sleep(0)
                            num_since_yield = 0
                        offset = message.offset
                        r_offset = get_read_offset(tp)
                        if r_offset is not None and offset < r_offset:
                            self.log.dev("DROPPED MESSAGE ROFF %r", offset)
                            continue
                        gap = offset - (r_offset or 0)
                        if gap > 1 and r_offset and acks_enabled_for(message.topic):
                            await self._add_gap(tp, r_offset + 1, offset)
                        if commit_every is not None and self._n_acked >= commit_every:
                            self._n_acked = 0
                            await self.commit()
                        if can_hand_over_at_once(self, app, tp):
                            await callback(message)
                        else:
                            await self.wait_first(callback(message), self.suspend_flow.wait())
                        set_read_offset(tp, offset)
                    self.diag.unset_flag(CONSUMER_FETCHING)
            except self.consumer_stopped_errors:
                if self.transport.app.should_stop:
                    self.log.info("Broker stopped consumer, shutting down...")
                    return
                raise
            except asyncio.CancelledError:
                if self.transport.app.should_stop:
                    self.log.info("Consumer shutting down for user cancel.")
                    return
                raise
            except Exception as exc:
                self.log.exception("Drain messages raised: %r", exc)
                raise
            finally:
                self.diag.unset_flag(CONSUMER_FETCHING)

    class Producer(faust_aiokafka.Producer):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            buffer = DrainingBuffer(loop=self.loop, beacon=self.beacon)
            buffer.app = self.app
            self.buffer = buffer

    class Transport(faust_aiokafka.Transport):
        pass

    Transport.Consumer = Consumer
    Transport.Producer = Producer
    return Transport


def make_table_manager(
    bootstrap: str, client_options: dict[str, Any], enabled: bool = True
) -> type[TableManager]:
    """Faust's table manager, with a recovery that loads far-behind partitions in bulk (6.)
    when `enabled` (ANTIFRAUD_PRELOAD_TABLES)."""

    class BulkRecovery(Recovery):
        async def _build_offsets(
            self, consumer: Any, tps: Any, destination: Any, title: str
        ) -> None:
            if enabled and title == "active" and tps:
                try:
                    await recover_in_bulk(
                        {tp: self.tp_to_table[tp] for tp in tps},
                        destination,
                        self.active_highwaters,
                        bootstrap,
                        client_options,
                    )
                except Exception as exc:  # Faust replays from wherever the load got
                    log.warning(
                        "event=table_bulk_recovery_failed action=left_to_faust_recovery",
                        exc_info=exc,
                    )
            await super()._build_offsets(consumer, tps, destination, title)

    class BulkRecoveryTableManager(TableManager):
        @property
        def recovery(self) -> Recovery:
            if self._recovery is None:
                self._recovery = BulkRecovery(self.app, self, beacon=self.beacon, loop=self.loop)
            return self._recovery

    return BulkRecoveryTableManager
