"""Writing what leaves an agent (dead letters, bank commands, audit entries), and the rule
that a record is done only once all of it is written.

Every send made while an agent handles a record is tracked, and `guarded` returns only when
the broker has every one of them: the agent acks the record after that (streams/handling.py),
so an offset is committed only after the record's effects or its dead letter are written
(the contract's "Robustness promises", 1.). What goes wrong on the way is classified
(streams/write_errors.py): the broker's passing trouble is retried, a record that cannot be
written is dead-lettered (its payload truncated when the dead letter would not fit), and a
record whose dead letter cannot be written either stops its agent there, reported by /health
(streams/progress.py), and is tried again until it can be.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from functools import partial
from typing import Any, TypeVar

import orjson

from antifraud.core.dead_letters import Payload, fitted, key_fields, key_of
from antifraud.core.identifiers import mask
from antifraud.core.intake import Rejected
from antifraud.core.ledger import CommandIssued
from antifraud.core.matching import Event
from antifraud.core.names import DeadLetterCode
from antifraud.core.partitioning import by_owner
from antifraud.core.serde import dump_bundle, dump_ledger_event
from antifraud.core.timestamps import format_rfc3339, parse_rfc3339
from antifraud.streams import metrics, progress, topics
from antifraud.streams.app import app, settings
from antifraud.streams.kafka_security import aiokafka_security_options
from antifraud.streams.topic_admin import ensure_topics
from antifraud.streams.write_errors import Failure, classify, describe

log = logging.getLogger("antifraud")

T = TypeVar("T")

# bank_id -> its command topic, created on the broker and declared in Faust once.
_command_topics: dict[str, Any] = {}

Deliveries = list[Awaitable[Any]]

# The sends of the record being handled, awaited before it counts as done (None: not in one).
_record_writes: ContextVar[Deliveries | None] = ContextVar("record_writes", default=None)

# Back-off between attempts of a record (seconds): retries of the broker's passing trouble
# start fast; a worker stopped by a permanent error tries again every 30 s at most.
FIRST_RETRY = 0.5
LAST_RETRY = 30.0


async def write(
    topic: Any, key: bytes | None, value: bytes | None, partition: int | None = None
) -> Any:
    """Send (`value` None: a tombstone); the record being handled is done only once this is
    delivered. Returns the delivery (a future)."""
    # A send can wait itself (for metadata of a topic the broker does not serve): a wait too.
    wait = progress.writes.wait_started(time.time())
    try:
        delivery = await topic.send(key=key, value=value, partition=partition)
    finally:
        progress.writes.wait_ended(wait)
    writes = _record_writes.get()
    if writes is not None:
        writes.append(delivery)
    return delivery


def source_of(message: Any) -> dict[str, Any]:
    return {
        "topic": message.topic,
        "partition": message.partition,
        "offset": message.offset,
        **key_fields(message.key),
    }


async def dead_letter(
    source: dict[str, Any],
    raw: bytes | Payload | None,
    code: str,
    message: str,
    input_topic: str = "",
    *,
    shortened: bool = False,
) -> None:
    """Send the dead letter of a record (its payload truncated when the whole would not fit,
    or when `shortened`: the broker refused the whole)."""
    payload = raw if isinstance(raw, Payload) else Payload.whole(raw)
    if shortened:
        payload = payload.shortened()
    value, truncated = fitted(
        source,
        payload,
        code,
        message,
        format_rfc3339(time.time()),
        app.conf.producer_max_request_size,
    )
    delivery = await write(topics.dead_letters, key_of(source), value)
    delivery.add_done_callback(lambda done: _count_dead_letter(done, code, input_topic))
    log.warning(
        "event=dead_letter code=%s topic=%s partition=%s offset=%s truncated=%s",
        code,
        source["topic"],
        source["partition"],
        source["offset"],
        truncated,
    )
    await audit({"kind": "rejection", "code": code, "source": source})


def _count_dead_letter(delivery: asyncio.Future[Any], code: str, input_topic: str) -> None:
    # Counted once written: a dead letter sent again after a failure is counted once.
    if delivery.cancelled() or delivery.exception() is not None:
        return
    metrics.DEAD_LETTERS.labels(code).inc()
    if input_topic:
        metrics.RECORDS.labels(input_topic, "dead_lettered").inc()


class _Attempts:
    """The retries of one record (or batch): their back-off, their logs and their metrics."""

    def __init__(self, message: Any) -> None:
        self.message = message
        self.delay = FIRST_RETRY
        self.failures = 0

    def passed(self) -> None:
        # Writes that failed for this record now pass (even a retry that wrote nothing).
        if self.failures:
            progress.writes.succeeded()

    async def failed(self, exc: BaseException, failure: Failure, writing: str) -> None:
        self.failures += 1
        metrics.WRITE_FAILURES.labels(failure.value).inc()
        if failure in (Failure.TRANSIENT, Failure.INFRASTRUCTURE):
            progress.writes.failed(time.time())
        say = log.warning if failure is Failure.TRANSIENT else log.error
        say(
            "event=write_failed kind=%s writing=%s topic=%s partition=%s offset=%s "
            "error=%r retry_in=%.1f",
            failure.value,
            writing,
            self.message.topic,
            self.message.partition,
            self.message.offset,
            describe(exc),
            self.delay,
        )
        await asyncio.sleep(self.delay)
        self.delay = min(self.delay * 2, LAST_RETRY)


async def _attempt(handle: Callable[[T], Awaitable[None]], arg: T) -> None:
    """`handle(arg)`, then wait until the broker has every write it made."""
    writes: Deliveries = []
    token = _record_writes.set(writes)
    try:
        await handle(arg)
    except BaseException:
        _forget(writes)
        raise
    finally:
        _record_writes.reset(token)
    await delivered(writes)


def _forget(writes: Deliveries) -> None:
    """The writes of a failed attempt are not waited for: keep their errors out of the log."""
    for write in writes:
        if isinstance(write, asyncio.Future):
            write.add_done_callback(lambda done: done.cancelled() or done.exception())


def _retried(failure: Failure) -> bool:
    return failure in (Failure.TRANSIENT, Failure.INFRASTRUCTURE)


async def guarded(event: Any, handle: Callable[[Any], Awaitable[None]]) -> None:
    """Run one record through `handle`; return once its effects or its dead letter are written.

    It never raises (but for cancellation): Faust would ack a record whose agent raised.
    """
    attempts = _Attempts(event.message)
    while True:
        try:
            await _attempt(handle, event)
            attempts.passed()
            return
        except Exception as exc:
            failure = classify(exc)
            if not _retried(failure):
                error = exc
                break
            # The broker, not the record: dead-lettering would lose a good record, so wait
            # and try again (the same command ids come out, if any).
            await attempts.failed(exc, failure, "effects")
    await _dead_letter_until_written(event, error, attempts)


async def guarded_batch(
    events: Sequence[Any], handle: Callable[[list[Any]], Awaitable[None]]
) -> None:
    """`guarded` for a batch handled at once: when the batch fails because of a record (or a
    bug), its records are handled again one by one, so only the culprit is dead-lettered."""
    if not events:
        return
    attempts = _Attempts(events[0].message)
    while True:
        try:
            await _attempt(handle, list(events))
            attempts.passed()
            return
        except Exception as exc:
            failure = classify(exc)
            if not _retried(failure):
                log.warning(
                    "event=batch_failed topic=%s records=%d error=%r then=one_by_one",
                    events[0].message.topic,
                    len(events),
                    describe(exc),
                )
                break
            await attempts.failed(exc, failure, "effects")
    for event in events:
        await guarded(event, lambda one: handle([one]))


async def parsed(event: Any, parse: Callable[[Any], T]) -> T | None:
    """`parse(event)`, or None once the record's dead letter is sent (for batches; the batch
    waits for it with its other writes)."""
    try:
        return parse(event)
    except Exception as exc:
        await _dead_letter_failure(event, exc, shortened=False)
        return None


async def _dead_letter_until_written(event: Any, error: Exception, attempts: _Attempts) -> None:
    message = event.message
    shortened = False
    while True:
        try:
            await _attempt(partial(_dead_letter_failure, exc=error, shortened=shortened), event)
            progress.unstuck(message.topic, message.partition)
            attempts.passed()
            return
        except Exception as exc:
            failure = classify(exc)
            if failure is Failure.RECORD and not shortened:
                shortened = True  # the broker refused the whole payload: send its prefix
                continue
            if not _retried(failure):
                # Neither its effects nor its dead letter can be written: the record stays,
                # its agent stops here, /health says so, and it is tried again.
                progress.stuck(message.topic, message.partition, message.offset)
            await attempts.failed(exc, failure, "dead_letter")


async def _dead_letter_failure(event: Any, exc: Exception, *, shortened: bool) -> None:
    source, topic = source_of(event.message), event.message.topic
    if isinstance(exc, Rejected):
        code, message = exc.code, exc.message
    elif classify(exc) is Failure.RECORD:
        code = DeadLetterCode.TOO_LARGE
        message = f"what the record becomes cannot be written: {describe(exc)}"
    else:
        # A bug must neither lose the record nor stop the worker.
        log.error("event=internal_error topic=%s", topic, exc_info=exc)
        code, message = DeadLetterCode.INTERNAL_ERROR, describe(exc)
    await dead_letter(source, event.value, code, message, topic, shortened=shortened)


async def command_topic_for(bank_id: str) -> Any:
    """One shared topic, or one per bank so Kafka ACLs can give each bank only its own."""
    if not settings.per_bank_topics:
        return topics.bank_commands
    topic = _command_topics.get(bank_id)
    if topic is None:
        name = f"{settings.topics.bank_commands}.{bank_id}"
        # The worker creates what it writes to (operators may pre-create them with ACLs).
        await ensure_topics(
            settings.bootstrap_servers,
            [name],
            settings.partitions,
            settings.replication_factor,
            aiokafka_security_options(settings.security),
        )
        topic = _command_topics[bank_id] = topics.raw_topic(name)
    return topic


async def delivered(deliveries: Deliveries) -> None:
    """Wait until the broker has every record in `deliveries` (raises if one failed).

    Agents call this before writing the table state that records those sends: state that
    says "command issued" or "suspect followed" must never reach a changelog ahead of the
    command or the follow-up itself, or a crash in between would lose it for good (the
    replayed input would find it already done). The other way round, a crash costs at
    most a repeat with the same command id. A wait counts for /health while it lasts.
    """
    if not deliveries:
        return
    wait = progress.writes.wait_started(time.time())
    try:
        await asyncio.gather(*deliveries)
    finally:
        progress.writes.wait_ended(wait)
    progress.writes.succeeded()


async def issue_command(command: dict[str, Any], now: float) -> Deliveries:
    """Send a command to its bank and record it in the ledger; returns their deliveries."""
    value = orjson.dumps(command)
    sent = await write(
        await command_topic_for(command["bank_id"]), command["bank_id"].encode(), value
    )
    ledgered = await write(
        topics.ledger_events,
        command["command_id"].encode(),
        dump_ledger_event(CommandIssued(command, now)),
    )
    kind = command["type"]
    metrics.COMMANDS.labels(kind, command["reason"], command.get("fraud_type", "other")).inc()
    if "reported_at" in command:
        metrics.REPORT_TO_COMMAND.labels(kind).observe(now - parse_rfc3339(command["reported_at"]))
    if "transfer_created_at" in command:
        metrics.TRANSFER_TO_COMMAND.observe(now - parse_rfc3339(command["transfer_created_at"]))
    log.info(
        "event=command type=%s command_id=%s bank=%s account=%s reason=%s hop=%s",
        kind,
        command["command_id"],
        command["bank_id"],
        mask(command["account"]["value"]),
        command["reason"],
        command["hop"],
    )
    await audit({"kind": "command", "command": command})
    return [sent, ledgered]


async def send_identifier_events(items: list[tuple[str, Event]]) -> Deliveries:
    """Send identifier events to their owner partitions, one bundle record per partition.

    Bundling is what keeps Faust's per-record cost off the hot path: a batch of 500
    transfers becomes at most `partitions` records on the internal stream, not 1,000.
    """
    return [
        await write(topics.identifier_events, None, dump_bundle(group), partition)
        for partition, group in by_owner(items, settings.partitions).items()
    ]


async def audit(entry: dict[str, Any]) -> None:
    """Queue an audit entry; the audit agent chains it (agents/audit.py). Among the writes
    the record waits for: an acked record's entry is on the broker."""
    entry.setdefault("at", format_rfc3339(time.time()))
    await write(topics.audit_entries, None, orjson.dumps(entry))
