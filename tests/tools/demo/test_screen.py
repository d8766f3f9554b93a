"""The demo's rows: amounts in tenge, releases named by what they release, accounts masked."""

from __future__ import annotations

import re

from antifraud.tools.demo.screen import COLUMNS, command_row, masked, tenge


def test_accounts_show_their_kind_and_last_four_characters_only() -> None:
    assert masked({"kind": "phone", "value": "+77011234567"}) == "phone:********4567"
    assert masked({"kind": "iban", "value": "KZ86125KZT5004100100"}).endswith("0100")
    assert "KZ86125KZT5004100100" not in masked({"kind": "iban", "value": "KZ86125KZT5004100100"})
    assert masked(None) == "-"


def test_the_longest_masked_account_fits_its_column() -> None:
    width = dict(COLUMNS)["account"]
    assert len(masked({"kind": "iban", "value": "KZ86125KZT5004100100"})) <= width


def test_a_hold_row() -> None:
    row = command_row(
        {
            "type": "hold_transfer",
            "bank_id": "CASPKZKA",
            "account": {"kind": "card", "value": "4400430000001234"},
            "amount": 123_456_78,
            "reason": "reported_account",
            "hop": 0,
            "report_ids": ["R-1", "R-2", "R-3"],
        },
        repeat=True,
    )
    assert re.fullmatch(r"\d\d:\d\d:\d\d", row[0])
    assert row[1:] == [
        "hold_transfer",
        "CASPKZKA",
        "card:************1234",
        "123,456.78",
        "reported_account",
        "0",
        "R-1 +2  (repeat of an earlier command id)",
    ]


def test_a_freeze_shows_its_limit_and_a_release_what_it_releases() -> None:
    freeze = command_row({"type": "freeze_account", "amount_limit": 5_000_00}, repeat=False)
    assert freeze[1] == "freeze_account" and freeze[4] == "<= 5,000.00" and freeze[7] == "-"
    release = command_row({"type": "release", "released_type": "hold_transfer"}, repeat=False)
    assert release[1] == "release hold" and release[4] == "-"
    assert tenge(1) == "0.01"


def test_a_return_row_shows_the_amount_and_whom_it_goes_to_masked() -> None:
    row = command_row(
        {
            "type": "return_funds",
            "bank_id": "CASPKZKA",
            "account": {"kind": "phone", "value": "+77011234567"},
            "amount": 250_000_00,
            "beneficiary": {
                "account": {"kind": "iban", "value": "KZ86125KZT5004100100"},
                "bank_id": "CASPKZKA",
            },
            "reason": "return_sanctioned",
            "hop": 0,
            "report_ids": ["R-1"],
        },
        repeat=False,
    )
    assert row[1:] == [
        "return_funds",
        "CASPKZKA",
        "phone:********4567",
        "250,000.00",
        "return_sanctioned",
        "0",
        "R-1 to iban:****************0100",
    ]
    assert len(row[5]) <= dict(COLUMNS)["reason"]
