"""Writing what leaves an agent: dead letters, bank commands, audit entries.

Sends are buffered by the producer; Faust flushes the producer before it commits
any offset (at-least-once), so a dead letter or a command is on the broker before
the offset of the record that caused it is committed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import orjson
from aiokafka.errors import KafkaError
from faust.exceptions import PartitionsMismatch

from antifraud.core.dead_letters import Payload, fitted, key_fields, key_of
from antifraud.core.identifiers import mask
from antifraud.core.intake import Rejected
from antifraud.core.ledger import CommandIssued
from antifraud.core.matching import Event
from antifraud.core.names import DeadLetterCode
from antifraud.core.partitioning import by_owner
from antifraud.core.serde import dump_bundle, dump_ledger_event
from antifraud.core.timestamps import format_rfc3339, parse_rfc3339
from antifraud.streams import metrics, topics
from antifraud.streams.app import app, settings
from antifraud.streams.kafka_security import aiokafka_security_options
from antifraud.streams.topic_admin import ensure_topics

log = logging.getLogger("antifraud")

T = TypeVar("T")

# Errors of the infrastructure, retried rather than dead-lettered.
TRANSIENT_ERRORS = (KafkaError, PartitionsMismatch)

# bank_id -> its command topic, created on the broker and declared in Faust once.
_command_topics: dict[str, Any] = {}


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
) -> None:
    """Send the dead letter of a record, its payload truncated when the whole would not fit."""
    payload = raw if isinstance(raw, Payload) else Payload.whole(raw)
    value, _ = fitted(
        source,
        payload,
        code,
        message,
        format_rfc3339(time.time()),
        app.conf.producer_max_request_size,
    )
    await topics.dead_letters.send(key=key_of(source), value=value)
    metrics.DEAD_LETTERS.labels(code).inc()
    if input_topic:
        metrics.RECORDS.labels(input_topic, "dead_lettered").inc()
    log.warning(
        "event=dead_letter code=%s topic=%s partition=%s offset=%s",
        code,
        source["topic"],
        source["partition"],
        source["offset"],
    )
    await audit({"kind": "rejection", "code": code, "source": source})


async def guarded(event: Any, handle: Callable[[Any], Awaitable[None]]) -> None:
    """Run one record through `handle`; whatever goes wrong, the record ends in the dead letters.

    Faust acks a record even when its agent raises, so an exception that escaped
    here would lose the record silently: every failure of the record becomes a dead
    letter, and every failure of the infrastructure is retried until it passes.
    """
    delay = 0.5
    while True:
        try:
            await handle(event)
            return
        except TRANSIENT_ERRORS as exc:
            # The broker or its metadata, not the record: dead-lettering would lose a good
            # record, so wait and try again (the same command ids come out, if any).
            log.warning(
                "event=transient_error topic=%s partition=%s offset=%s error=%s retry_in=%.1f",
                event.message.topic,
                event.message.partition,
                event.message.offset,
                type(exc).__name__,
                delay,
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)
        except Exception as exc:
            await _dead_letter_failure(event, exc)
            return


async def parsed(event: Any, parse: Callable[[Any], T]) -> T | None:
    """`parse(event)`, or None once the record is dead-lettered (for agents working in batches)."""
    try:
        return parse(event)
    except Exception as exc:
        await _dead_letter_failure(event, exc)
        return None


async def _dead_letter_failure(event: Any, exc: Exception) -> None:
    source, topic = source_of(event.message), event.message.topic
    if isinstance(exc, Rejected):
        await dead_letter(source, event.value, exc.code, exc.message, topic)
        return
    # A bug must neither lose the record nor stop the worker.
    log.error("event=internal_error topic=%s", topic, exc_info=exc)
    message = f"{type(exc).__name__}: {exc}"
    await dead_letter(source, event.value, DeadLetterCode.INTERNAL_ERROR, message, topic)


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


Deliveries = list[Awaitable[Any]]


async def delivered(deliveries: Deliveries) -> None:
    """Wait until the broker has every record in `deliveries` (raises if one failed).

    Agents call this before writing the table state that records those sends: state that
    says "command issued" or "suspect followed" must never reach a changelog ahead of the
    command or the follow-up itself, or a crash in between would lose it for good (the
    replayed input would find it already done). The other way round, a crash costs at
    most a repeat with the same command id.
    """
    if deliveries:
        await asyncio.gather(*deliveries)


async def issue_command(command: dict[str, Any], now: float) -> Deliveries:
    """Send a command to its bank and record it in the ledger; returns their deliveries."""
    value = orjson.dumps(command)
    sent = await (await command_topic_for(command["bank_id"])).send(
        key=command["bank_id"].encode(), value=value
    )
    ledgered = await topics.ledger_events.send(
        key=command["command_id"].encode(),
        value=dump_ledger_event(CommandIssued(command, now)),
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
        await topics.identifier_events.send(value=dump_bundle(group), partition=partition)
        for partition, group in by_owner(items, settings.partitions).items()
    ]


async def audit(entry: dict[str, Any]) -> None:
    """Queue an audit entry; the audit agent chains it (agents/audit.py)."""
    entry.setdefault("at", format_rfc3339(time.time()))
    await topics.audit_entries.send(key=None, value=orjson.dumps(entry))
