"""Report signatures: the contract's canonical bytes, HMAC verdicts and key parsing."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from antifraud.core.signatures import (
    SignatureVerdict,
    canonical_bytes,
    load_key_file,
    parse_report_keys,
    sign_report,
    verify_report,
)

# Fewer examples than hypothesis' default 100 keep both core suites under ~5 s on a busy CI
# runner; no deadline because timing on shared runners is noise, not a property.
FAST = settings(max_examples=60, deadline=None)

KEYS = {"almaty-1": b"first secret", "astana-1": "екінші құпия".encode()}

# JSON values as a police system could send them. No NaN/Infinity: they are not JSON.
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**15), max_value=10**15)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.sampled_from(["Алматы қаласы", "Шымкент", "ҚазАқпарат", "€", "🏦"])
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=8,
)
field_names = st.text(min_size=1, max_size=12).filter(lambda k: k != "signature")
reports = st.fixed_dictionaries(
    {
        "report_id": st.text(min_size=1, max_size=16),
        "action": st.sampled_from(["report", "revoke"]),
        "issuer": st.sampled_from(["ALM-PD-CYBER", "Алматы қаласы ПД"]),
    },
    optional={"accounts": st.lists(json_values, max_size=3)},
).flatmap(
    lambda base: st.dictionaries(field_names, json_values, max_size=3).map(
        lambda extra: {**extra, **base}
    )
)
key_ids = st.sampled_from(sorted(KEYS))


def _canon(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


# --- the contract's bytes, computed independently ------------------------------------------

CONTRACT_EXAMPLE: dict[str, Any] = {
    "report_id": "R-2026-000042",
    "case_number": "261000131000042",
    "action": "report",
    "fraud_type": "bank_impersonation",
    "reported_at": "2026-11-29T09:05:00Z",
    "issuer": "ALM-PD-CYBER",
    "accounts": [
        {"kind": "phone", "value": "87011234567"},
        {"kind": "iban", "value": "kz86 125k zt50 0410 0100", "bank_id": "HSBKKZKX"},
    ],
    # An unknown extra field is still signed; Kazakh text must be written as itself.
    "unit": "Алматы қаласы",
    "signature": {"key_id": "almaty-1", "hmac_sha256": "0" * 64},
}
# Written out by hand: sorted keys at every level ("report_id" < "reported_at" because
# '_' < 'e'), no spaces, raw UTF-8, no signature field.
CONTRACT_EXAMPLE_BYTES = (
    '{"accounts":[{"kind":"phone","value":"87011234567"},'
    '{"bank_id":"HSBKKZKX","kind":"iban","value":"kz86 125k zt50 0410 0100"}],'
    '"action":"report","case_number":"261000131000042","fraud_type":"bank_impersonation",'
    '"issuer":"ALM-PD-CYBER","report_id":"R-2026-000042","reported_at":"2026-11-29T09:05:00Z",'
    '"unit":"Алматы қаласы"}'
).encode()
VECTOR_SECRET = "test-secret=almaty"  # contains '=' like real secrets may
# A fixed vector police integrators can check their signer against.
VECTOR_HMAC = "53925f91aec87ee6985ed27ebb1833855567ed74455139002fab3f54faf162ab"


def test_canonical_bytes_match_the_contract_byte_for_byte() -> None:
    assert canonical_bytes(CONTRACT_EXAMPLE) == CONTRACT_EXAMPLE_BYTES


def test_known_vector() -> None:
    independent = hmac.new(
        VECTOR_SECRET.encode("utf-8"), CONTRACT_EXAMPLE_BYTES, hashlib.sha256
    ).hexdigest()
    assert independent == VECTOR_HMAC
    signed = sign_report(CONTRACT_EXAMPLE, "almaty-1", VECTOR_SECRET.encode("utf-8"))
    assert signed["signature"] == {"key_id": "almaty-1", "hmac_sha256": VECTOR_HMAC}
    keys = {"almaty-1": VECTOR_SECRET.encode("utf-8")}
    assert verify_report(signed, keys) == SignatureVerdict(True, "ok", "almaty-1")


def test_an_ascii_escaped_signer_does_not_verify() -> None:
    # Guards ensure_ascii=False: a signer escaping "қ" as \u049b signs different bytes.
    secret = b"s"
    escaped = json.dumps(
        {k: v for k, v in CONTRACT_EXAMPLE.items() if k != "signature"},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
    ).encode()
    report = {
        **CONTRACT_EXAMPLE,
        "signature": {
            "key_id": "k",
            "hmac_sha256": hmac.new(secret, escaped, hashlib.sha256).hexdigest(),
        },
    }
    assert verify_report(report, {"k": secret}).reason == "mismatch"


def test_only_the_top_level_signature_is_left_out() -> None:
    nested = {"a": {"signature": 1}, "signature": {"key_id": "x"}}
    assert canonical_bytes(nested) == b'{"a":{"signature":1}}'


# --- round trip and tampering --------------------------------------------------------------


@FAST
@given(report=reports, key_id=key_ids)
def test_sign_then_verify_round_trips(report: dict[str, Any], key_id: str) -> None:
    signed = sign_report(report, key_id, KEYS[key_id])
    assert verify_report(signed, KEYS) == SignatureVerdict(True, "ok", key_id)
    # What a consumer sees after the record crossed Kafka as JSON, keys in another order.
    wire = json.loads(json.dumps(dict(reversed(list(signed.items()))), ensure_ascii=False))
    assert verify_report(wire, KEYS).ok


@FAST
@given(report=reports, key_id=key_ids, data=st.data())
def test_any_single_field_change_breaks_verification(
    report: dict[str, Any], key_id: str, data: st.DataObject
) -> None:
    signed = sign_report(report, key_id, KEYS[key_id])
    field = data.draw(st.sampled_from(sorted(k for k in signed if k != "signature")))
    new_value = data.draw(json_values.filter(lambda v: _canon(v) != _canon(signed[field])))
    tampered = {**signed, field: new_value}
    assert verify_report(tampered, KEYS) == SignatureVerdict(False, "mismatch", key_id)


@FAST
@given(report=reports, key_id=key_ids, data=st.data())
def test_adding_or_removing_a_field_breaks_verification(
    report: dict[str, Any], key_id: str, data: st.DataObject
) -> None:
    signed = sign_report(report, key_id, KEYS[key_id])
    removed_field = data.draw(st.sampled_from(sorted(k for k in signed if k != "signature")))
    removed = {k: v for k, v in signed.items() if k != removed_field}
    assert verify_report(removed, KEYS).reason == "mismatch"
    new_field = data.draw(field_names.filter(lambda k: k not in signed))
    added = {**signed, new_field: data.draw(json_values)}
    assert verify_report(added, KEYS).reason == "mismatch"


def test_nested_change_breaks_verification() -> None:
    signed = sign_report(CONTRACT_EXAMPLE, "almaty-1", KEYS["almaty-1"])
    tampered = json.loads(json.dumps(signed))
    tampered["accounts"][0]["value"] = "87011234568"
    assert verify_report(tampered, KEYS).reason == "mismatch"


def test_sign_report_copies_and_replaces_an_old_signature() -> None:
    original = json.loads(json.dumps(CONTRACT_EXAMPLE))
    signed = sign_report(original, "almaty-1", KEYS["almaty-1"])
    assert original == CONTRACT_EXAMPLE  # input untouched
    original["accounts"][0]["value"] = "changed"  # later edits to the input do not leak in
    assert verify_report(signed, KEYS).ok


# --- keys: rotation, unknown, missing, malformed -------------------------------------------


@FAST
@given(report=reports)
def test_rotation_either_configured_key_verifies(report: dict[str, Any]) -> None:
    old = sign_report(report, "almaty-1", KEYS["almaty-1"])
    new = sign_report(report, "astana-1", KEYS["astana-1"])
    assert verify_report(old, KEYS).ok
    assert verify_report(new, KEYS).ok
    # After the old key is removed, only the new signature verifies.
    assert verify_report(old, {"astana-1": KEYS["astana-1"]}).reason == "unknown_key"
    # The key_id must name the key that actually signed.
    relabelled = {**old, "signature": {**old["signature"], "key_id": "astana-1"}}
    assert verify_report(relabelled, KEYS).reason == "mismatch"


def test_unknown_key() -> None:
    signed = sign_report(CONTRACT_EXAMPLE, "rogue", b"whatever")
    assert verify_report(signed, KEYS) == SignatureVerdict(False, "unknown_key", "rogue")


def test_missing_signature() -> None:
    unsigned = {k: v for k, v in CONTRACT_EXAMPLE.items() if k != "signature"}
    assert verify_report(unsigned, KEYS) == SignatureVerdict(False, "missing")
    assert verify_report({**unsigned, "signature": None}, KEYS).reason == "missing"


@pytest.mark.parametrize(
    "signature",
    [
        "almaty-1:abc",
        ["almaty-1", "0" * 64],
        {},
        {"hmac_sha256": "0" * 64},
        {"key_id": "", "hmac_sha256": "0" * 64},
        {"key_id": 7, "hmac_sha256": "0" * 64},
        {"key_id": "almaty-1"},
        {"key_id": "almaty-1", "hmac_sha256": "0" * 63},
        {"key_id": "almaty-1", "hmac_sha256": "0" * 65},
        {"key_id": "almaty-1", "hmac_sha256": "A" * 64},  # upper case is not the contract
        {"key_id": "almaty-1", "hmac_sha256": "g" * 64},
        {"key_id": "almaty-1", "hmac_sha256": "0" * 64 + "\n"},
        {"key_id": "almaty-1", "hmac_sha256": 0},
    ],
)
def test_malformed_signature(signature: Any) -> None:
    report = {**CONTRACT_EXAMPLE, "signature": signature}
    verdict = verify_report(report, KEYS)
    assert not verdict.ok
    assert verdict.reason == "malformed"


def test_upper_case_copy_of_a_valid_hmac_is_malformed() -> None:
    signed = sign_report(CONTRACT_EXAMPLE, "almaty-1", KEYS["almaty-1"])
    upper = {**signed, "signature": {**signed["signature"]}}
    upper["signature"]["hmac_sha256"] = upper["signature"]["hmac_sha256"].upper()
    assert verify_report(upper, KEYS).reason == "malformed"


def test_unserialisable_report_is_malformed_not_a_crash() -> None:
    report = {**sign_report({"a": 1}, "almaty-1", KEYS["almaty-1"]), "bad": "\ud800"}
    assert verify_report(report, KEYS).reason == "malformed"


def test_extra_fields_inside_the_signature_object_are_ignored() -> None:
    signed = sign_report(CONTRACT_EXAMPLE, "almaty-1", KEYS["almaty-1"])
    signed["signature"]["alg"] = "HS256"
    assert verify_report(signed, KEYS).ok


@FAST
@given(report=reports, signature=json_values)
def test_no_keys_configured_means_unsigned_allowed(report: dict[str, Any], signature: Any) -> None:
    assert verify_report(report, {}) == SignatureVerdict(True, "unsigned_allowed")
    assert verify_report({**report, "signature": signature}, {}).reason == "unsigned_allowed"


# --- ANTIFRAUD_REPORT_KEYS parsing ----------------------------------------------------------


def test_parse_report_keys() -> None:
    assert parse_report_keys("") == {}
    assert parse_report_keys("   ") == {}
    assert parse_report_keys("a=x") == {"a": b"x"}
    assert parse_report_keys(" almaty-1 = s3=cr=t , astana-1=құпия ,") == {
        "almaty-1": b"s3=cr=t",
        "astana-1": "құпия".encode(),
    }


secrets = st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters=","),
    min_size=1,
    max_size=30,
)
ids = st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters=",="),
    min_size=1,
    max_size=12,
)


@FAST
@given(keys=st.dictionaries(ids, secrets, max_size=5))
def test_parse_report_keys_round_trips(keys: dict[str, str]) -> None:
    spec = ", ".join(f"{k}={v}" for k, v in keys.items())
    assert parse_report_keys(spec) == {k: v.encode() for k, v in keys.items()}


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("a=x,b", "item 2"),
        ("=x", "empty key_id"),
        ("a=", "empty secret"),
        ("a=x,a=y", "duplicate key_id 'a'"),
    ],
)
def test_parse_report_keys_rejects_malformed_items(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_report_keys(spec)


@FAST
@given(secret=st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=16))
def test_parse_errors_never_include_the_secret(secret: str) -> None:
    for spec in (secret, f"ok=fine,{secret}", f"k=v,k={secret}"):
        with pytest.raises(ValueError) as excinfo:
            parse_report_keys(spec)
        assert secret not in str(excinfo.value)


def test_load_key_file(tmp_path: Path) -> None:
    path = tmp_path / "report-keys"
    path.write_text(
        "\ufeff# police signing keys\n"
        "\n"
        "almaty-1=a,b=c#d\r\n"
        "   # indented comment\n"
        "  astana-1 = құпия  \n",
        encoding="utf-8",
    )
    assert load_key_file(path) == {"almaty-1": b"a,b=c#d", "astana-1": "құпия".encode()}
    assert load_key_file(str(path)) == load_key_file(path)


def test_load_key_file_errors_name_the_line_not_the_secret(tmp_path: Path) -> None:
    path = tmp_path / "report-keys"
    path.write_text("a=x\n# c\nTopSecretWithoutKeyId\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"report-keys:3") as excinfo:
        load_key_file(path)
    assert "TopSecretWithoutKeyId" not in str(excinfo.value)


def test_empty_key_file_means_no_keys(tmp_path: Path) -> None:
    path = tmp_path / "report-keys"
    path.write_text("# none yet\n\n", encoding="utf-8")
    assert load_key_file(path) == {}
