"""The simulated police and banks: reports with their victims, sanctioned orders, bank acks,
each as the worker's own intake and ledger read them."""

from __future__ import annotations

import random

import orjson

from antifraud.core.bank_directory import BankDirectory
from antifraud.core.intake import parse_ack, parse_report
from antifraud.core.ledger import contradiction
from antifraud.core.records import Report
from antifraud.harness.simulation import RETURN_AT, Simulator, bank_ack

KEYS = {"demo-1": b"a-test-key"}
DIRECTORY = BankDirectory.load()
NOW = 1_796_000_000.0  # 2026-11-29


def read(record: dict[str, object], now: float) -> Report:
    """The record as the worker's intake reads it (signature checked with KEYS)."""
    return parse_report(orjson.dumps(record), KEYS, DIRECTORY, now=now)


def test_a_report_names_the_victims_who_paid_before_it_with_what_each_lost() -> None:
    case = Simulator(seed=4, keys=KEYS).fraud_case("fake_investment", NOW)
    filed = next(r for kind, r in case.records if kind == "report")
    paid = [
        r
        for kind, r in case.records
        if kind == "transfer" and r["recipient"]["value"] == case.account["value"]
    ]
    assert case.victim_accounts == {t["sender"]["value"] for t in paid} and len(paid) == 4
    paid_before = paid[:3]  # the fourth victim pays after the report: the police cannot know it
    report = read(filed, NOW + 2.0)
    assert [(v.account.value, v.bank_id, v.amount_lost) for v in report.victims] == [
        (t["sender"]["value"], t["bank_id"], t["amount"]) for t in paid_before
    ]
    assert not case.return_ordered and not case.extended


def test_a_return_and_an_extend_are_signed_sanctioned_orders_of_the_same_unit() -> None:
    simulator = Simulator(seed=4, keys=KEYS)
    returned = simulator.fraud_case("bank_impersonation", NOW, give_back=True)
    extended = simulator.fraud_case("fake_online_store", NOW, extend=True)
    assert returned.return_ordered and extended.extended
    for case, action in ((returned, "return"), (extended, "extend")):
        filed, follow_up = (r for kind, r in case.records if kind == "report")
        order = read(follow_up, NOW + RETURN_AT + 1.0)
        assert (order.action, order.report_id) == (action, case.report_id)
        assert order.sanction is not None and order.sanction.reference.startswith("SK-")
        assert order.issuer == read(filed, NOW + 2.0).issuer  # only the filing unit may order
        if action == "extend":
            assert order.until is not None and order.until >= NOW + 29 * 86_400  # past 5 days


def test_a_revoked_case_gets_no_return() -> None:
    case = Simulator(seed=4, keys=KEYS).fraud_case("fake_investment", NOW, True, True, True)
    actions = [r["action"] for kind, r in case.records if kind == "report"]
    assert actions == ["report", "revoke"] and case.revoked and not case.return_ordered


def test_a_bank_carries_out_a_return_in_full_and_the_ledger_takes_the_ack() -> None:
    command = {
        "command_id": "r-1",
        "type": "return_funds",
        "bank_id": "CASPKZKA",
        "amount": 123_45,
        "returns": "h-1",
    }
    ack = bank_ack(command, random.Random(1), NOW)
    assert (ack["status"], ack["amount_returned"]) == ("returned", 123_45)
    parsed = parse_ack(orjson.dumps(ack))
    assert contradiction(command, parsed.amount_held, parsed.status, parsed.amount_returned) is None
