"""Commands as banks receive them: every field, in the order the worker has always written it.

Command ids are pinned by tests/core/test_names.py; here the whole record is, byte for byte,
for a hold at both banks, a freeze, their releases and a suspect's bounded freeze.
"""

from __future__ import annotations

import orjson
import pytest

from antifraud.core.business_days import BusinessCalendar
from antifraud.core.matching import IdentifierState, Revoke, TransferIn, Watch, apply
from antifraud.core.policy import Policy
from antifraud.core.timestamps import format_rfc3339, parse_rfc3339
from antifraud.schemas import validator
from tests.core.strategies import T0, iban_id, make_transfer, phone_id

WRITTEN_BEFORE = [
    b'{"command_id":"612fa63974a429861b49afeed79bbb86","type":"hold_transfer","bank_id":"HSBKKZKX","transfer":{"bank_id":"CASPKZKA","transfer_id":"T-1"},"amount":25000000,"currency":"KZT","account":{"kind":"phone","value":"+77010000001"},"report_ids":["R-1"],"fraud_type":"bank_impersonation","reason":"reported_account","hop":0,"issued_at":"2026-11-29T09:00:01.000Z","expires_at":"2026-12-04T09:00:01.000Z","reported_at":"2026-11-29T09:00:00.000Z","transfer_created_at":"2026-11-29T08:59:00.000Z"}',
    b'{"command_id":"38d09702c490695a186922de97676cc3","type":"hold_transfer","bank_id":"CASPKZKA","transfer":{"bank_id":"CASPKZKA","transfer_id":"T-1"},"amount":25000000,"currency":"KZT","account":{"kind":"phone","value":"+77010000001"},"report_ids":["R-1"],"fraud_type":"bank_impersonation","reason":"reported_account","hop":0,"issued_at":"2026-11-29T09:00:01.000Z","expires_at":"2026-12-04T09:00:01.000Z","reported_at":"2026-11-29T09:00:00.000Z","transfer_created_at":"2026-11-29T08:59:00.000Z"}',
    b'{"command_id":"fe366935c310715de74784bae577207f","type":"freeze_account","bank_id":"HSBKKZKX","account":{"kind":"phone","value":"+77010000001"},"report_ids":["R-1"],"fraud_type":"bank_impersonation","reason":"reported_account","hop":0,"issued_at":"2026-11-29T09:00:01.000Z","expires_at":"2026-12-04T09:00:01.000Z","reported_at":"2026-11-29T09:00:00.000Z"}',
    b'{"command_id":"dd617bab93c3c8443836ec60b578df5d","type":"release","bank_id":"CASPKZKA","account":{"kind":"phone","value":"+77010000001"},"releases":"38d09702c490695a186922de97676cc3","released_type":"hold_transfer","report_ids":["R-1"],"reason":"report_revoked","hop":0,"issued_at":"2026-11-29T09:00:02.000Z","transfer":{"bank_id":"CASPKZKA","transfer_id":"T-1"}}',
    b'{"command_id":"f7defdd6e5436c7c589ad754aeddfeef","type":"release","bank_id":"HSBKKZKX","account":{"kind":"phone","value":"+77010000001"},"releases":"612fa63974a429861b49afeed79bbb86","released_type":"hold_transfer","report_ids":["R-1"],"reason":"report_revoked","hop":0,"issued_at":"2026-11-29T09:00:02.000Z","transfer":{"bank_id":"CASPKZKA","transfer_id":"T-1"}}',
    b'{"command_id":"7d952f1be82eed1ff9237d02c7973619","type":"release","bank_id":"HSBKKZKX","account":{"kind":"phone","value":"+77010000001"},"releases":"fe366935c310715de74784bae577207f","released_type":"freeze_account","report_ids":["R-1"],"reason":"report_revoked","hop":0,"issued_at":"2026-11-29T09:00:02.000Z"}',
    b'{"command_id":"6b1d452595c7d0b4cebbb85061981ba4","type":"freeze_account","bank_id":"CASPKZKA","account":{"kind":"phone","value":"+77010000002"},"report_ids":["R-2"],"fraud_type":"other","reason":"mule_chain","hop":1,"issued_at":"2026-11-29T09:00:03.000Z","expires_at":"2026-12-04T09:00:03.000Z","reported_at":"2026-11-29T09:00:00.000Z","amount_limit":700}',
]


def test_commands_are_written_as_before() -> None:
    policy = Policy()
    reported, suspect = "phone:+77010000001", "phone:+77010000002"
    victim_to_reported = make_transfer("T-1", iban_id("125", 1), phone_id(1), created_at=T0 - 60)
    state, suspect_state = IdentifierState(), IdentifierState()
    commands = [
        *apply(state, reported, TransferIn(victim_to_reported), T0, policy).commands,
        *apply(
            state, reported, Watch("R-1", "bank_impersonation", T0, 0, "HSBKKZKX"), T0 + 1, policy
        ).commands,
        *apply(state, reported, Revoke("R-1"), T0 + 2, policy).commands,
        *apply(
            suspect_state,
            suspect,
            Watch("R-2", "other", T0, 1, "CASPKZKA", reported, "CASPKZKA/T-9", 700),
            T0 + 3,
            policy,
        ).commands,
    ]
    for command in commands:
        validator("command")(command)
    assert [orjson.dumps(command) for command in commands] == WRITTEN_BEFORE


def test_holds_and_freezes_lapse_after_business_days_not_hours() -> None:
    # The contract's example: issued Friday 2026-12-11 15:00 in Almaty, five business days
    # later is Monday the 21st, because Wednesday the 16th is Independence Day (240 hours on).
    issued = parse_rfc3339("2026-12-11T15:00:00+05:00")
    state, key = IdentifierState(), "phone:+77010000001"
    to_it = make_transfer("T-1", iban_id("125", 1), phone_id(1), created_at=issued - 60)
    apply(state, key, TransferIn(to_it), issued, Policy())
    watch = Watch("R-1", "bank_impersonation", issued, 0, "HSBKKZKX")
    commands = apply(state, key, watch, issued, Policy()).commands
    assert {c["type"] for c in commands} == {"hold_transfer", "freeze_account"}
    assert {c["expires_at"] for c in commands} == {"2026-12-21T10:00:00.000Z"}
    # Three business days in a calendar without that holiday: Wednesday the 16th.
    german = Policy(calendar=BusinessCalendar("DE"), lifetime_business_days=3)
    assert format_rfc3339(german.expires_at(issued)) == "2026-12-16T10:00:00.000Z"


def test_a_lifetime_is_at_least_one_business_day() -> None:
    with pytest.raises(ValueError, match="lifetime_business_days"):
        Policy(lifetime_business_days=0)
