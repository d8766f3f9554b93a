"""Report events, registry entries, ledger events and ledger entries (antifraud.core.serde):
every record survives its trip through bytes unchanged, and the bytes are the ones the worker
has always written (records already in a changelog or an internal topic still decode)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from antifraud.core.dead_letters import Payload
from antifraud.core.ledger import (
    AckReceived,
    CommandIssued,
    LedgerEntry,
    LedgerEvent,
    ResendDue,
)
from antifraud.core.records import Ack, Report, ReportedAccount
from antifraud.core.reports import ReportEntry
from antifraud.core.serde import (
    dump_ledger_entry,
    dump_ledger_event,
    dump_report_entry,
    dump_report_event,
    load_ledger_entry,
    load_ledger_event,
    load_report_entry,
    load_report_event,
    load_report_origin,
    payload_bytes,
    payload_text,
)
from tests.core.strategies import (
    FAST,
    banks,
    hex_ids,
    identifiers,
    json_values,
    short_text,
    timestamps,
)

# ---------------------------------------------------------------------------- reports

texts = st.text(max_size=20)
fraud_types = st.sampled_from(["bank_impersonation", "fake_online_store", "other"])
reports = st.builds(
    Report,
    report_id=short_text,
    action=st.sampled_from(["report", "revoke"]),
    fraud_type=fraud_types,
    reported_at=timestamps,
    issuer=texts,
    case_number=texts,
    accounts=st.lists(st.builds(ReportedAccount, identifiers, st.none() | banks), max_size=4).map(
        tuple
    ),
)
report_entries = st.builds(
    ReportEntry,
    status=st.sampled_from(["live", "revoked"]),
    fraud_type=fraud_types,
    reported_at=timestamps,
    accounts=st.lists(
        st.tuples(identifiers.map(lambda i: i.key), st.none() | banks).map(list), max_size=4
    ),
)


@FAST
@given(reports)
def test_report_events_round_trip(report: Report) -> None:
    raw = dump_report_event(report)
    assert load_report_event(raw) == report
    assert dump_report_event(load_report_event(raw)) == raw
    assert load_report_origin(raw) is None  # written without its record


@FAST
@given(reports, st.binary(max_size=64) | texts.map(str.encode), st.integers(0, 10**9))
def test_report_events_carry_their_record_for_dead_letters(
    report: Report, payload: bytes, offset: int
) -> None:
    source = {"topic": "antifraud.reports", "partition": 3, "offset": offset, "key": "R-1"}
    raw = dump_report_event(report, (source, payload))
    assert load_report_event(raw) == report
    assert load_report_origin(raw) == (source, payload)


@FAST
@given(report_entries)
def test_registry_entries_round_trip(entry: ReportEntry) -> None:
    raw = dump_report_entry(entry)
    loaded = load_report_entry(raw)
    assert loaded == entry
    assert loaded is not None and dump_report_entry(loaded) == raw


def test_a_missing_registry_entry_is_none() -> None:
    assert load_report_entry(None) is None


# ---------------------------------------------------------------------------- the ledger

commands = st.dictionaries(st.text(max_size=10), json_values, max_size=6)
sources = st.fixed_dictionaries(
    {
        "topic": short_text,
        "partition": st.integers(0, 1_000),
        "offset": st.integers(0, 2**62),
        "key": st.none() | texts,
    }
)
acks = st.builds(
    Ack,
    command_id=hex_ids,
    bank_id=banks,
    status=st.sampled_from(["applied", "too_late", "not_found", "rejected"]),
    amount_held=st.integers(min_value=0, max_value=10**15),
    at=timestamps,
)
ledger_events: st.SearchStrategy[LedgerEvent] = st.one_of(
    st.builds(CommandIssued, commands, timestamps),
    st.builds(AckReceived, acks, sources, st.binary(max_size=64) | texts.map(str.encode)),
    st.just(ResendDue()),
)
ledger_entries = st.builds(
    LedgerEntry,
    command=commands,
    issued_at=timestamps,
    status=st.sampled_from(["pending", "applied", "too_late", "not_found", "rejected"]),
    resent=st.booleans(),
    acked_at=st.none() | timestamps,
)


@FAST
@given(st.binary(max_size=64) | texts.map(str.encode))
def test_payloads_round_trip_as_text_or_base64(raw: bytes) -> None:
    text, encoding = payload_text(raw)
    assert payload_bytes(text, encoding) == raw
    assert encoding == "utf-8" or text.isascii()


@FAST
@given(ledger_events)
def test_ledger_events_round_trip(event: LedgerEvent) -> None:
    raw = dump_ledger_event(event)
    assert load_ledger_event(raw) == event
    assert dump_ledger_event(load_ledger_event(raw)) == raw


@FAST
@given(ledger_entries)
def test_ledger_entries_round_trip(entry: LedgerEntry) -> None:
    raw = dump_ledger_entry(entry)
    loaded = load_ledger_entry(raw)
    assert loaded == entry
    assert loaded is not None and dump_ledger_entry(loaded) == raw


def test_a_missing_ledger_entry_is_none_and_an_unknown_event_an_error() -> None:
    assert load_ledger_entry(None) is None
    with pytest.raises(ValueError):
        load_ledger_event(b'{"e":"teleport"}')


# ---------------------------------------------------------------------------- the bytes as written
# Records as the worker wrote them before the formats moved here, byte for byte: each must
# decode, and encode back to the same bytes.

WRITTEN_BEFORE: dict[str, tuple[bytes, Callable[[bytes], Any], Callable[[Any], bytes]]] = {
    "report event": (
        b'{"report_id":"R-1","action":"report","fraud_type":"bank_impersonation",'
        b'"reported_at":1795942800.0,"issuer":"DEP-ALMATY","case_number":"C-1","accounts":'
        b'[["phone:+77011234567",null],["iban:KZ86125KZT5004100100","HSBKKZKX"]]}',
        load_report_event,
        dump_report_event,
    ),
    "registry entry": (
        b'{"status":"live","fraud_type":"other","reported_at":1795942800.0,'
        b'"accounts":[["phone:+77011234567",null]]}',
        load_report_entry,
        dump_report_entry,
    ),
    "issued": (
        b'{"e":"issued","cmd":{"command_id":"ab","type":"hold_transfer","bank_id":"HSBKKZKX"},'
        b'"at":1795942801.5}',
        load_ledger_event,
        dump_ledger_event,
    ),
    "ack": (
        b'{"e":"ack","ack":{"command_id":"ab","bank_id":"HSBKKZKX","status":"applied",'
        b'"amount_held":0,"at":1795942802.0},"src":{"topic":"antifraud.bank-acks",'
        b'"partition":3,"offset":17,"key":"ab"},"payload":"{\\"x\\":1}",'
        b'"payload_encoding":"utf-8"}',
        load_ledger_event,
        dump_ledger_event,
    ),
    "ack, payload not UTF-8": (
        b'{"e":"ack","ack":{"command_id":"ab","bank_id":"HSBKKZKX","status":"too_late",'
        b'"amount_held":5,"at":1795942802.0},"src":{"topic":"antifraud.bank-acks",'
        b'"partition":0,"offset":0,"key":null},"payload":"/w==","payload_encoding":"base64"}',
        load_ledger_event,
        dump_ledger_event,
    ),
    "due": (b'{"e":"due"}', load_ledger_event, dump_ledger_event),
    "ledger entry": (
        b'{"cmd":{"command_id":"ab","bank_id":"HSBKKZKX"},"issued_at":1795942801.5,'
        b'"status":"pending","resent":false,"acked_at":null}',
        load_ledger_entry,
        dump_ledger_entry,
    ),
}


@pytest.mark.parametrize("name", list(WRITTEN_BEFORE))
def test_records_written_before_decode_and_encode_to_the_same_bytes(name: str) -> None:
    raw, load, dump = WRITTEN_BEFORE[name]
    assert dump(load(raw)) == raw


def test_the_ack_payload_written_before_is_the_original_bytes() -> None:
    utf8 = load_ledger_event(WRITTEN_BEFORE["ack"][0])
    other = load_ledger_event(WRITTEN_BEFORE["ack, payload not UTF-8"][0])
    assert isinstance(utf8, AckReceived) and utf8.payload == b'{"x":1}'
    assert isinstance(other, AckReceived) and other.payload == b"\xff"
    assert utf8.ack == Ack("ab", "HSBKKZKX", "applied", 0, 1795942802.0)


def test_an_ack_beyond_64_kib_carries_what_its_dead_letter_would_hold() -> None:
    raw = b'{"command_id": "ab", "pad": "' + b"y" * 1_040_000 + b'"}'
    carried = Payload.carried(raw)
    event = AckReceived(Ack("ab", "HSBKKZKX", "applied", 0, 1795942802.0), {"key": "ab"}, carried)
    written = dump_ledger_event(event)
    assert len(written) < 70 * 1024  # the ledger event fits, whatever the ack's size
    loaded = load_ledger_event(written)
    assert isinstance(loaded, AckReceived) and loaded.payload == carried
    assert carried.size == len(raw) and carried.held() == raw[: 64 * 1024]


def test_a_report_beyond_64_kib_carries_what_its_dead_letter_would_hold() -> None:
    # A valid report may carry unknown fields up to the record limit, quotes doubling when
    # escaped again: its event must still fit on the internal topic.
    raw = b'{"report_id": "R-1", "pad": "' + b'\\"' * 450_000 + b'"}'
    source = {"topic": "antifraud.reports", "partition": 0, "offset": 3, "key": "R-1"}
    report = Report("R-1", "revoke", "other", 1795942802.0, "ALM-PD", "", ())
    written = dump_report_event(report, (source, raw))
    assert len(written) < 140 * 1024
    assert load_report_event(written) == report
    loaded = load_report_origin(written)
    assert loaded is not None and loaded[0] == source
    assert loaded[1] == Payload.carried(raw) and Payload.carried(raw).size == len(raw)
