"""Internal formats: every record survives its trip through bytes unchanged, and the bytes
are the ones the worker has always written (records already in a changelog still decode)."""

from __future__ import annotations

import string
from collections.abc import Callable
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from antifraud.core.identifiers import Identifier
from antifraud.core.ledger import (
    AckReceived,
    CommandIssued,
    LedgerEntry,
    LedgerEvent,
    ResendDue,
)
from antifraud.core.matching import (
    ActiveCommand,
    Event,
    IdentifierState,
    Revoke,
    Support,
    TransferIn,
    TransferOut,
    Watch,
    apply,
)
from antifraud.core.policy import Policy
from antifraud.core.records import Ack, Report, ReportedAccount, Transfer
from antifraud.core.reports import ReportEntry
from antifraud.core.serde import (
    dump_bundle,
    dump_bundle_item,
    dump_event,
    dump_ledger_entry,
    dump_ledger_event,
    dump_report_entry,
    dump_report_event,
    dump_state,
    dump_state_within,
    load_bundle,
    load_event,
    load_ledger_entry,
    load_ledger_event,
    load_report_entry,
    load_report_event,
    load_state,
    payload_bytes,
    payload_text,
)
from antifraud.core.transfer_rows import TransferRows
from tests.core.strategies import BICS, FAST, QUICK, T0, json_values, valid_card, valid_iban

banks = st.sampled_from(BICS)
short_text = st.text(alphabet=string.ascii_letters + string.digits + "-_/", min_size=1, max_size=12)
identifiers = st.one_of(
    valid_iban().map(lambda v: Identifier("iban", v)),
    valid_card().map(lambda v: Identifier("card", v)),
    st.text(alphabet=string.digits, min_size=10, max_size=10).map(
        lambda v: Identifier("phone", "+7" + v)
    ),
)
timestamps = st.floats(min_value=0, max_value=4e9, allow_nan=False) | st.just(T0)
amounts = st.integers(min_value=1, max_value=10**15)
transfers = st.builds(
    Transfer,
    bank_id=banks,
    transfer_id=short_text,
    sender=identifiers,
    sender_bank=banks,
    recipient=identifiers,
    recipient_bank=banks,
    amount=amounts,
    currency=st.sampled_from(["KZT", "USD"]),
    status=st.sampled_from(["initiated", "settled", "cancelled"]),
    created_at=timestamps,
    purpose=st.none() | st.sampled_from(["p2p", "salary", "other"]),
)
watches = st.builds(
    Watch,
    report_id=short_text,
    fraud_type=st.sampled_from(["bank_impersonation", "other"]),
    reported_at=timestamps,
    hop=st.integers(min_value=0, max_value=5),
    bank_id=st.none() | banks,
    via=st.none() | identifiers.map(lambda i: i.key),
    transfer_key=st.none() | short_text,
    amount=st.integers(min_value=0, max_value=10**15),
)
events: st.SearchStrategy[Event] = st.one_of(
    transfers.map(TransferIn),
    transfers.map(TransferOut),
    watches,
    short_text.map(Revoke),
)
hex_ids = st.text(alphabet="0123456789abcdef", min_size=32, max_size=32)


@st.composite
def states(draw: st.DrawFn) -> IdentifierState:
    supports = {}
    for report_id in draw(st.lists(short_text, max_size=3, unique=True)):
        supports[report_id] = Support(
            report_id,
            draw(st.sampled_from(["bank_impersonation", "other"])),
            draw(timestamps),
            draw(st.integers(0, 5)),
            draw(st.dictionaries(short_text, amounts, max_size=3)),
        )
    commands = {}
    for command_id in draw(st.lists(hex_ids, max_size=4, unique=True)):
        transfer = draw(
            st.none() | st.fixed_dictionaries({"bank_id": banks, "transfer_id": short_text})
        )
        commands[command_id] = ActiveCommand(
            command_id,
            "freeze_account" if transfer is None else "hold_transfer",
            draw(banks),
            draw(st.integers(0, 5)),
            transfer,
        )
    inflight = TransferRows(draw(st.lists(transfers, max_size=3)))
    outflows = TransferRows(draw(st.lists(transfers, max_size=3)))
    return IdentifierState(
        banks=sorted(draw(st.sets(banks, max_size=3))),
        supports=supports,
        inflight=inflight,
        outflows=outflows,
        commands=commands,
        spread=draw(st.dictionaries(short_text, st.lists(short_text, max_size=3), max_size=2)),
        epoch=draw(st.integers(min_value=0, max_value=1000)),
    )


@FAST
@given(events)
def test_events_round_trip(event: Event) -> None:
    assert load_event(dump_event(event)) == event


@QUICK
@given(states())
def test_states_round_trip(state: IdentifierState) -> None:
    raw = dump_state(state)
    assert load_state(raw) == state
    assert dump_state(load_state(raw)) == raw


def test_missing_state_is_a_fresh_state() -> None:
    assert load_state(None) == IdentifierState()
    assert load_state(b"") == IdentifierState()
    assert load_state(dump_state(IdentifierState())) == IdentifierState()


def test_unknown_event_kind_is_an_error() -> None:
    with pytest.raises(ValueError):
        load_event(orjson.dumps({"e": "teleport"}))


@QUICK
@given(st.lists(st.tuples(st.sampled_from(["key-a", "key-b"]), events), max_size=12), events)
def test_a_reloaded_state_behaves_like_the_original(
    history: list[tuple[str, Event]], next_event: Event
) -> None:
    """What the changelog restores after a rebalance must decide exactly as before it."""
    policy = Policy(hop_limit=3)
    key = "phone:+77011234567"
    state = IdentifierState()
    for _, event in history:
        apply(state, key, event, T0, policy)
    restored = load_state(dump_state(state))
    assert restored == state
    original_outcome = apply(state, key, next_event, T0, policy)
    restored_outcome = apply(restored, key, next_event, T0, policy)
    assert restored_outcome == original_outcome
    assert restored == state


def test_a_state_row_too_large_for_the_changelog_forgets_its_oldest_transfers() -> None:
    # Transfer ids of 128 characters that JSON must escape: about 1 KB a transfer.
    escaped_id = "\u0001" * 120
    state = IdentifierState(
        outflows=TransferRows(
            Transfer(
                bank_id="CASPKZKA",
                transfer_id=f"{escaped_id}{n:08d}",
                sender=Identifier("iban", "KZ86125KZT5004100100"),
                sender_bank="CASPKZKA",
                recipient=Identifier("phone", "+77011234567"),
                recipient_bank="HSBKKZKX",
                amount=1_000,
                currency="KZT",
                status="initiated",
                created_at=T0 + n,
            )
            for n in range(2_000)
        )
    )
    assert len(dump_state(state)) > 1_500_000

    row, forgotten = dump_state_within(state, 900_000)

    assert 800_000 < len(row) <= 900_000
    assert forgotten == 2_000 - len(state.outflows) > 0
    assert load_state(row) == state
    newest = sorted(state.outflows, key=lambda k: k[-8:])
    assert newest[0].endswith(f"{2_000 - len(state.outflows):08d}")  # the oldest went first


def test_a_state_row_that_fits_is_written_whole() -> None:
    state = IdentifierState(banks=["HSBKKZKX"], epoch=3)
    assert dump_state_within(state, 900_000) == (dump_state(state), 0)


# ---------------------------------------------------------------------------- bundles


@FAST
@given(st.lists(st.tuples(identifiers.map(lambda i: i.key), events), max_size=5))
def test_bundles_round_trip(items: list[tuple[str, Event]]) -> None:
    assert load_bundle(dump_bundle(items)) == items


@FAST
@given(identifiers.map(lambda i: i.key), events)
def test_a_bundle_item_alone_is_one_element_of_its_bundle(key: str, event: Event) -> None:
    assert (
        orjson.loads(dump_bundle_item(key, event)) == orjson.loads(dump_bundle([(key, event)]))[0]
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
