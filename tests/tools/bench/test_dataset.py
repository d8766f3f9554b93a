"""The bench's data set: how many transfers hit a reported account, and the holds they owe."""

from __future__ import annotations

import time

import orjson

from antifraud.core.intake import parse_transfer
from antifraud.tools.bench.dataset import build_dataset


def test_hits_pay_reported_accounts_and_owe_one_hold_per_bank() -> None:
    data = build_dataset(events=400, reported=60, hit_fraction=0.1, tag="t1")
    assert len(data.transfers) == 400 and data.hits == 40
    assert len(data.reports) == 2  # 50 accounts a report
    assert len(data.watched) == 60
    owed = 0
    hits = 0
    for _, raw in data.transfers:
        transfer = parse_transfer(raw, now=time.time())
        if transfer.recipient.key in data.watched:
            hits += 1
            owed += 1 if transfer.bank_id == transfer.recipient_bank else 2
    assert hits == data.hits
    assert owed == data.expected_holds
    first = orjson.loads(data.transfers[0][1])
    assert first["transfer_id"] == "T-t1-000000000" and "device_id" in first
