"""JSON Schema (draft 2020-12) files for every record of the contract, and compiled validators.

The schemas use only keywords that draft-07 validators understand the same way, so
they compile with fastjsonschema (fast enough for the hot path) and still validate
as draft 2020-12 documents (checked in tests with the reference `jsonschema`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from importlib import resources
from typing import Any

import fastjsonschema

RECORDS = (
    "transfer",
    "report",
    "ack",
    "command",
    "dead_letter",
    "audit_record",
    "case_status",
    "watchlist_entry",
)

JsonSchemaError = fastjsonschema.JsonSchemaValueException


def load_schema(name: str) -> dict[str, Any]:
    text = resources.files(__name__).joinpath(f"json/{name}.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def validator(name: str) -> Callable[[Any], Any]:
    """A compiled validator that raises `JsonSchemaError` on the first violation."""
    return fastjsonschema.compile(load_schema(name))


def describe(error: JsonSchemaError) -> str:
    """`data.amount must be ...` -> `amount: must be ...`: what an integrator wants to read."""
    path = ".".join(str(p) for p in error.path[1:]) or "record"
    message = error.message
    prefix = str(error.name) + " "
    if message.startswith(prefix):
        message = message[len(prefix) :]
    return f"{path}: {message}"
