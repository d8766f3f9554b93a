"""Who may act on a report: keys bound to issuers, and who may revoke, extend or return."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from antifraud.core.authority import (
    bindings_without_key,
    may_act,
    parse_issuers,
    parse_key_issuers,
    signer_mismatch,
    unbound_keys,
)
from antifraud.core.bank_directory import BankDirectory
from antifraud.core.intake import Rejected, parse_report
from antifraud.core.signatures import sign_report
from antifraud.core.timestamps import parse_rfc3339
from tests.core.strategies import FAST

KEYS = {"almaty-1": b"first secret", "astana-1": b"second secret", "spare": b"third secret"}
BOUND = {"almaty-1": "ALM-PD-CYBER", "astana-1": "AST-PD-CYBER"}
REVOKE: dict[str, Any] = {
    "report_id": "R-1",
    "action": "revoke",
    "reported_at": "2026-11-29T10:00:00Z",
    "issuer": "ALM-PD-CYBER",
}

issuers = st.sampled_from(["ALM-PD-CYBER", "AST-PD-CYBER", "GP-RK", "", "alm-pd-cyber"])


def parse(record: dict[str, Any], key_id: str | None, bound: dict[str, str] = BOUND) -> str:
    """The report's issuer once accepted, or the dead-letter code it is rejected with."""
    raw = orjson.dumps(record if key_id is None else sign_report(record, key_id, KEYS[key_id]))
    keys = {} if key_id is None else KEYS
    try:
        now = parse_rfc3339(record["reported_at"]) + 60
        return parse_report(raw, keys, BankDirectory.load(), now=now, key_issuers=bound).issuer
    except Rejected as rejected:
        return rejected.code


def test_a_bound_key_signs_only_for_its_issuer() -> None:
    assert parse(REVOKE, "almaty-1") == "ALM-PD-CYBER"
    # Astana's key on a record that says it comes from Almaty: a forged issuer.
    assert parse(REVOKE, "astana-1") == "bad_signature"
    assert parse({**REVOKE, "issuer": "AST-PD-CYBER"}, "astana-1") == "AST-PD-CYBER"
    # No issuer written is the issuer "", which no bound key speaks for.
    without = {k: v for k, v in REVOKE.items() if k != "issuer"}
    assert parse(without, "almaty-1") == "bad_signature"


def test_an_unbound_key_signs_for_any_issuer() -> None:
    assert parse(REVOKE, "spare") == "ALM-PD-CYBER"
    assert parse({**REVOKE, "issuer": "GP-RK"}, "spare") == "GP-RK"


def test_without_keys_the_issuer_is_taken_as_written() -> None:
    assert parse({**REVOKE, "issuer": "ANYONE"}, None) == "ANYONE"


@FAST
@given(key_id=st.sampled_from(sorted(KEYS)), issuer=issuers)
def test_a_signature_speaks_for_its_bound_issuer_or_any(key_id: str, issuer: str) -> None:
    refused = signer_mismatch(key_id, issuer, BOUND) is not None
    assert refused == (key_id in BOUND and BOUND[key_id] != issuer)


def test_key_issuer_bindings_are_parsed_strictly() -> None:
    assert parse_key_issuers(" almaty-1 = ALM-PD-CYBER ,astana-1=AST-PD-CYBER,") == BOUND
    assert parse_key_issuers("") == {}
    for bad in ("almaty-1", "=ALM", "almaty-1=", "a=X,a=Y"):
        with pytest.raises(ValueError, match="item"):
            parse_key_issuers(bad)
    assert parse_issuers(" GP-RK, ALM-PROSECUTOR ,,") == {"GP-RK", "ALM-PROSECUTOR"}


def test_unbound_keys_and_bindings_without_a_key_are_named() -> None:
    assert unbound_keys(KEYS, BOUND) == ["spare"]
    assert bindings_without_key(KEYS, {**BOUND, "almaty-2": "ALM-PD-CYBER"}) == ["almaty-2"]


@FAST
@given(filed_by=issuers | st.none(), acting=issuers, supervisory=st.frozensets(issuers))
def test_only_the_filing_unit_or_a_supervisor_may_act(
    filed_by: str | None, acting: str, supervisory: frozenset[str]
) -> None:
    allowed = may_act(filed_by, acting, supervisory)
    assert allowed == (acting in supervisory or acting == filed_by)


def test_a_report_recorded_without_its_issuer_is_left_to_supervisors() -> None:
    assert not may_act(None, "ALM-PD-CYBER", frozenset({"GP-RK"}))
    assert may_act(None, "GP-RK", frozenset({"GP-RK"}))
    assert not may_act("ALM-PD-CYBER", "alm-pd-cyber", frozenset())  # as written
