"""The names in core/names.py are the contract's: each group is exactly its schema's enum."""

from __future__ import annotations

from typing import Any

import pytest

from antifraud.core.command_ids import freeze_command_id, hold_command_id, release_command_id
from antifraud.core.names import (
    AckStatus,
    CommandType,
    DeadLetterCode,
    Reason,
    ReportAction,
    TransferStatus,
    WatchlistMarker,
)
from antifraud.schemas import load_schema


def enum(schema: str, *path: str) -> tuple[str, ...]:
    node: Any = load_schema(schema)["properties"]
    for step in path:
        node = node[step]
    return tuple(node["enum"])


@pytest.mark.parametrize(
    ("names", "schema", "path"),
    [
        (CommandType.ALL, "command", ("type",)),
        (Reason.ALL, "command", ("reason",)),
        (AckStatus.ALL, "ack", ("status",)),
        (ReportAction.ALL, "report", ("action",)),
        (TransferStatus.ALL, "transfer", ("status",)),
        (WatchlistMarker.ALL, "watchlist_entry", ("marker",)),
    ],
)
def test_each_group_is_its_schema_s_enum(
    names: tuple[str, ...], schema: str, path: tuple[str, ...]
) -> None:
    assert names == enum(schema, *path)


def test_dead_letter_codes_are_the_schema_s() -> None:
    # `internal_error` included: a bug met a good record, which is kept rather than lost.
    codes = enum("dead_letter", "error", "properties", "code")
    assert codes == DeadLetterCode.ALL


def test_command_ids_hash_the_same_type_names_as_before() -> None:
    """The names go into command ids: changing one would mint new ids for old actions."""
    assert hold_command_id("HSBKKZKX", "CASPKZKA/T-1", 0) == "612fa63974a429861b49afeed79bbb86"
    assert freeze_command_id("HSBKKZKX", "phone:+77011234567", 0, None) == (
        "a187ebe9acca317ecf6bd9d97c6974a7"
    )
    assert release_command_id("ab" * 16) == "077a83f7994e48310715541f8d45a9a6"
