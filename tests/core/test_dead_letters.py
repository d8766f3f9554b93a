"""Dead letters always fit (antifraud.core.dead_letters): truncated to 64 KiB with size and hash
when the whole would not, never a UTF-8 character cut in two, keys kept byte for byte."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import orjson
from hypothesis import given
from hypothesis import strategies as st

from antifraud.core.dead_letters import (
    KEY_PREFIX_BYTES,
    MESSAGE_MAX_CHARS,
    PAYLOAD_PREFIX_BYTES,
    RECORD_OVERHEAD_BYTES,
    Payload,
    fitted,
    key_fields,
    key_of,
    prefix_as_text,
)
from antifraud.schemas import validator
from tests.core.strategies import FAST

PRODUCER_LIMIT = 1_000_000  # Faust's producer_max_request_size by default
SOURCE = {"topic": "antifraud.transfers", "partition": 3, "offset": 1207, "key": "T-9"}
AT = "2026-11-29T09:05:00Z"
conforms = validator("dead_letter")


def letter(raw: bytes, source: dict[str, Any] = SOURCE, limit: int = PRODUCER_LIMIT) -> Any:
    value, truncated = fitted(source, Payload.whole(raw), "invalid_json", "bad", AT, limit)
    room = limit - RECORD_OVERHEAD_BYTES - len(key_of(source) or b"")
    assert len(value) <= room, "the dead letter does not fit"
    record = orjson.loads(value)
    conforms(record)
    assert record.get("payload_truncated", False) is truncated
    return record


def held(record: dict[str, Any]) -> bytes:
    text = record["payload"]
    return base64.b64decode(text) if record["payload_encoding"] == "base64" else text.encode()


def test_a_record_that_fits_is_copied_whole() -> None:
    raw = b'{"transfer_id": "T-9", "amount": -1}'
    record = letter(raw)
    assert held(record) == raw and record["payload_encoding"] == "utf-8"
    assert "payload_bytes" not in record and "payload_sha256" not in record


def test_a_record_near_the_broker_limit_is_truncated_with_its_size_and_hash() -> None:
    # The poison record: under the 1 MiB record limit, over the producer's request size.
    raw = b'{"transfer_id": "POISON-TR", "pad": "' + b"y" * 1_040_000
    record = letter(raw)
    assert record["payload_truncated"] is True
    assert record["payload_bytes"] == len(raw)
    assert record["payload_sha256"] == hashlib.sha256(raw).hexdigest()
    assert held(record) == raw[:PAYLOAD_PREFIX_BYTES]
    assert record["payload_encoding"] == "utf-8"


def test_escaping_is_counted_a_600_kb_body_of_quotes_is_truncated() -> None:
    raw = b'{"report_id": "' + b'\\"' * 300_000  # 600 KB that doubles when escaped again
    assert len(raw) < PRODUCER_LIMIT // 1.5
    record = letter(raw)
    assert record["payload_truncated"] is True
    assert held(record) == raw[:PAYLOAD_PREFIX_BYTES]


def test_a_large_record_that_still_fits_is_not_truncated() -> None:
    raw = b"a" * 900_000
    assert held(letter(raw)) == raw


def test_a_record_not_utf_8_is_truncated_as_base64() -> None:
    raw = b"\xff\xfe" * 600_000
    record = letter(raw)
    assert record["payload_encoding"] == "base64"
    assert held(record) == raw[:PAYLOAD_PREFIX_BYTES]
    assert record["payload_bytes"] == len(raw)


def test_a_prefix_that_is_utf_8_is_text_even_when_the_rest_is_not() -> None:
    raw = b"x" * 1_100_000 + b"\xff"
    record = letter(raw)
    assert record["payload_encoding"] == "utf-8"
    assert held(record) == raw[:PAYLOAD_PREFIX_BYTES]


@FAST
@given(
    st.text(min_size=1, max_size=40).filter(lambda t: len(t.encode()) > 1),
    st.integers(min_value=0, max_value=3),
)
def test_the_cut_never_splits_a_character(text: str, shift: int) -> None:
    raw = text.encode() * 4
    limit = max(1, len(raw) // 2 - shift)
    prefix, encoding = prefix_as_text(raw, limit)
    assert encoding == "utf-8"
    cut = prefix.encode()
    assert raw.startswith(cut) and limit - 3 <= len(cut) <= limit


def test_a_multi_byte_character_across_the_64_kib_line_moves_the_cut_back() -> None:
    raw = b"a" * (PAYLOAD_PREFIX_BYTES - 1) + "Ж".encode() * 600_000
    record = letter(raw)
    assert record["payload_encoding"] == "utf-8"
    assert held(record) == b"a" * (PAYLOAD_PREFIX_BYTES - 1)


@FAST
@given(st.binary(max_size=200))
def test_payload_fields_round_trip(raw: bytes) -> None:
    for payload in (Payload.whole(raw), Payload.prefix(raw, 50), Payload.carried(raw)):
        assert Payload.from_fields(payload.fields()) == payload
    assert Payload.whole(raw).held() == raw


def test_what_an_internal_record_carries_is_whole_up_to_64_kib_then_its_prefix() -> None:
    small, large = b"s" * PAYLOAD_PREFIX_BYTES, b"L" * (PAYLOAD_PREFIX_BYTES + 1)
    assert Payload.carried(small) == Payload.whole(small)
    carried = Payload.carried(large)
    assert carried.truncated and carried.size == len(large) and carried.held() == large[:-1]
    # a dead letter made from what was carried says the same of the original
    value, truncated = fitted(SOURCE, carried, "unknown_command", "m", AT, PRODUCER_LIMIT)
    record = orjson.loads(value)
    assert truncated and record["payload_sha256"] == hashlib.sha256(large).hexdigest()


def test_a_key_not_utf_8_is_kept_as_base64_not_rewritten() -> None:
    fields = key_fields(b"T-\xff\xfe")
    assert fields == {"key": base64.b64encode(b"T-\xff\xfe").decode(), "key_encoding": "base64"}
    source = {**SOURCE, **fields}
    assert key_of(source) == b"T-\xff\xfe"
    assert "\ufffd" not in letter(b"{}", source)["source"]["key"]


def test_a_utf_8_key_is_text_and_none_stays_none() -> None:
    assert key_fields(b"T-9") == {"key": "T-9"}
    assert key_fields(None) == {"key": None}
    assert key_of({**SOURCE, "key": None}) is None


def test_a_key_over_4_kib_is_cut_with_its_size_and_hash() -> None:
    key = b"k" * 900_000
    fields = key_fields(key)
    assert fields["key"] == "k" * KEY_PREFIX_BYTES and fields["key_truncated"] is True
    assert fields["key_bytes"] == len(key)
    assert fields["key_sha256"] == hashlib.sha256(key).hexdigest()
    letter(b"x" * 990_000, {**SOURCE, **fields})


def test_a_long_error_message_is_shortened() -> None:
    value, _ = fitted(SOURCE, Payload.whole(b"{}"), "schema_violation", "m" * 10**6, AT, 10**6)
    assert len(orjson.loads(value)["error"]["message"]) == MESSAGE_MAX_CHARS


def test_every_new_code_is_in_the_schema() -> None:
    for code in ("internal_error", "unknown_report", "duplicate_report", "invalid_ack"):
        value, _ = fitted(SOURCE, Payload.whole(b"{}"), code, "m", AT, PRODUCER_LIMIT)
        conforms(orjson.loads(value))
