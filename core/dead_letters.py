"""The contract's dead letters: what one says of the rejected record, and how it always fits.

A dead letter copies the rejected record's bytes (`payload`, as text when they are UTF-8,
else base64) and its key (`source.key`). When that would make the dead letter too large to
write (the contract's "Robustness promises", 1.), `payload` holds only the record's first
64 KiB and the dead letter adds `payload_truncated`, `payload_bytes` and `payload_sha256` (of
the whole original). "Too large" is measured on the dead letter as serialised, escaping
included: a 600 KB body of quotes becomes 1.2 MB once escaped again.

Keys: the contract's ids are at most 128 characters, so a key over 4 KiB is cut the same way
(`key_truncated`, `key_bytes`, `key_sha256`), which keeps every `source` small: in a dead
letter, an audit record, or an ack on its way to the ledger. A key that is not UTF-8 is
kept as base64 with `key_encoding: "base64"`, never rewritten with U+FFFD.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Any, Final

import orjson

PAYLOAD_PREFIX_BYTES: Final = 64 * 1024
KEY_PREFIX_BYTES: Final = 4 * 1024
# An error message names a field or an exception, never needs more; some quote the input.
MESSAGE_MAX_CHARS: Final = 4096
# What a Kafka record adds around its key and value (batch and record headers, varints):
# aiokafka counts about 70 bytes; the rest is margin.
RECORD_OVERHEAD_BYTES: Final = 1024

UTF8: Final = "utf-8"
BASE64: Final = "base64"


def _sha256(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def as_text(raw: bytes) -> tuple[str, str]:
    """The bytes as text when they are UTF-8, else base64, and which one it is."""
    try:
        return raw.decode(UTF8), UTF8
    except UnicodeDecodeError:
        return base64.b64encode(raw).decode("ascii"), BASE64


def from_text(text: str, encoding: str) -> bytes:
    """The inverse of `as_text`."""
    return base64.b64decode(text) if encoding == BASE64 else text.encode(UTF8)


def prefix_as_text(raw: bytes, limit: int) -> tuple[str, str]:
    """`raw`'s first `limit` bytes as text when they are UTF-8, else base64.

    A cut through a multi-byte character moves back to that character's first byte, so a
    UTF-8 record keeps a UTF-8 prefix (a few bytes shorter than `limit`).
    """
    prefix = raw[:limit]
    try:
        return prefix.decode(UTF8), UTF8
    except UnicodeDecodeError as exc:
        # "unexpected end of data": only the last character is incomplete.
        if exc.end == len(prefix) and len(prefix) - exc.start < 4:
            try:
                return prefix[: exc.start].decode(UTF8), UTF8
            except UnicodeDecodeError:
                pass
    return base64.b64encode(prefix).decode("ascii"), BASE64


@dataclass(frozen=True, slots=True)
class Payload:
    """The `payload` fields of a dead letter: the whole record, or its first 64 KiB.

    `size` and `sha256` describe the whole original and are written only when truncated.
    """

    text: str
    encoding: str
    truncated: bool = False
    size: int = 0
    sha256: str = ""

    @classmethod
    def whole(cls, raw: bytes | None) -> Payload:
        if raw is None:
            return cls("", UTF8)
        text, encoding = as_text(raw)
        return cls(text, encoding)

    @classmethod
    def prefix(cls, raw: bytes, limit: int = PAYLOAD_PREFIX_BYTES) -> Payload:
        text, encoding = prefix_as_text(raw, limit)
        return cls(text, encoding, True, len(raw), _sha256(raw))

    @classmethod
    def carried(cls, raw: bytes | None) -> Payload:
        """What an internal record carries so a later dead letter still fits: the whole record
        up to 64 KiB, its prefix beyond."""
        if raw is not None and len(raw) > PAYLOAD_PREFIX_BYTES:
            return cls.prefix(raw)
        return cls.whole(raw)

    def held(self) -> bytes:
        """The bytes this payload holds (the prefix, when truncated)."""
        return from_text(self.text, self.encoding)

    def shortened(self) -> Payload:
        """Truncated to its first 64 KiB (itself when it already is, or is no longer)."""
        if self.truncated:
            return self
        raw = self.held()
        return self.prefix(raw) if len(raw) > PAYLOAD_PREFIX_BYTES else self

    def fields(self) -> dict[str, Any]:
        out: dict[str, Any] = {"payload": self.text, "payload_encoding": self.encoding}
        if self.truncated:
            out["payload_truncated"] = True
            out["payload_bytes"] = self.size
            out["payload_sha256"] = self.sha256
        return out

    @classmethod
    def from_fields(cls, data: dict[str, Any]) -> Payload:
        if data.get("payload_truncated"):
            return cls(
                data["payload"],
                data["payload_encoding"],
                True,
                data["payload_bytes"],
                data["payload_sha256"],
            )
        return cls(data["payload"], data["payload_encoding"])


def key_fields(key: bytes | str | None) -> dict[str, Any]:
    """`source.key` of a record's key, with `key_encoding` when it is not UTF-8 and the
    `key_truncated` fields when it is over 4 KiB."""
    if key is None:
        return {"key": None}
    raw = key.encode(UTF8) if isinstance(key, str) else key
    if len(raw) <= KEY_PREFIX_BYTES:
        text, encoding = as_text(raw)
        out: dict[str, Any] = {"key": text}
    else:
        text, encoding = prefix_as_text(raw, KEY_PREFIX_BYTES)
        out = {"key": text, "key_truncated": True, "key_bytes": len(raw)}
        out["key_sha256"] = _sha256(raw)
    if encoding == BASE64:
        out["key_encoding"] = BASE64
    return out


def key_of(source: dict[str, Any]) -> bytes | None:
    """The Kafka key a dead letter is written with: the rejected record's (as `source` has it)."""
    key = source.get("key")
    if key is None:
        return None
    return from_text(key, source.get("key_encoding", UTF8))


def short_message(message: str) -> str:
    if len(message) <= MESSAGE_MAX_CHARS:
        return message
    return message[: MESSAGE_MAX_CHARS - 1] + "…"


def dead_letter_record(
    source: dict[str, Any], payload: Payload, code: str, message: str, rejected_at: str
) -> dict[str, Any]:
    return {
        "error": {"code": code, "message": short_message(message)},
        "source": source,
        **payload.fields(),
        "rejected_at": rejected_at,
    }


def fitted(
    source: dict[str, Any],
    payload: Payload,
    code: str,
    message: str,
    rejected_at: str,
    max_request_bytes: int,
) -> tuple[bytes, bool]:
    """The dead letter's value as written, and whether its payload is truncated.

    The whole payload when the record (key, value and overhead) fits in the producer's
    `max_request_bytes`, its first 64 KiB otherwise. A request limit too small even for
    that still gets the truncated dead letter: its write then fails, visibly.
    """
    room = max_request_bytes - RECORD_OVERHEAD_BYTES - len(key_of(source) or b"")
    if not payload.truncated:
        value = orjson.dumps(dead_letter_record(source, payload, code, message, rejected_at))
        if len(value) <= room:
            return value, False
    short = payload.shortened()
    value = orjson.dumps(dead_letter_record(source, short, code, message, rejected_at))
    return value, short.truncated
