"""The topics every feature shares: the contract's outputs. Inputs live beside their agents."""

from __future__ import annotations

from typing import Any

from antifraud.streams.app import app, settings


def raw_topic(name: str, *, internal: bool = False) -> Any:
    """Bytes in, bytes out: we decode with orjson ourselves, so no Faust metadata is ever added."""
    options: dict[str, Any] = {}
    if internal:
        options = {"internal": True, "partitions": settings.partitions}
    return app.topic(
        name,
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
        **options,
    )


bank_commands = raw_topic(settings.topics.bank_commands)
dead_letters = raw_topic(settings.topics.dead_letter)
audit_entries = raw_topic(settings.topics.audit_entries, internal=True)
identifier_events = raw_topic(settings.topics.identifier_events, internal=True)
report_events = raw_topic(settings.topics.report_events, internal=True)
ledger_events = raw_topic(settings.topics.ledger_events, internal=True)
money_events = raw_topic(settings.topics.money_events, internal=True)
case_events = raw_topic(settings.topics.case_events, internal=True)
case_status = raw_topic(settings.topics.case_status)


def bytes_table(name: str, help: str) -> Any:
    """A table of bytes -> bytes (we encode state ourselves), partitioned like the internal topics.

    Faust writes each change to the changelog partition of the event being
    processed, so a table used by one agent holds exactly that agent's partitions.
    """
    return app.Table(
        name,
        default=None,
        partitions=settings.partitions,
        key_type=bytes,
        value_type=bytes,
        help=help,
    )
