"""The transfers a state remembers: kept as rows, decoded only when a report needs them."""

from __future__ import annotations

import orjson
from hypothesis import given
from hypothesis import strategies as st

from antifraud.core.records import Transfer
from antifraud.core.transfer_rows import TransferRows, transfer_from_json, transfer_to_json
from tests.core.strategies import FAST, T0, iban_id, make_transfer, phone_id

SENDER = iban_id("722", 1)
RECIPIENT = phone_id(1_234_567)


def transfer(transfer_id: str, created_at: float = T0, **kw: object) -> Transfer:
    return make_transfer(transfer_id, SENDER, RECIPIENT, created_at=created_at, **kw)  # type: ignore[arg-type]


def test_a_transfer_survives_its_row() -> None:
    t = transfer("T-1", purpose=None)
    assert transfer_from_json(orjson.loads(orjson.dumps(transfer_to_json(t)))) == t


def test_put_replaces_by_key_and_says_whether_it_was_new() -> None:
    rows = TransferRows()
    assert rows.put(transfer("T-1", amount=5))
    assert not rows.put(transfer("T-1", amount=7))
    assert [t.amount for t in rows.transfers()] == [7]
    assert len(rows) == 1 and "CASPKZKA/T-1" in rows


def test_discard_says_whether_there_was_one() -> None:
    rows = TransferRows([transfer("T-1")])
    assert rows.discard("CASPKZKA/T-1")
    assert not rows.discard("CASPKZKA/T-1")
    assert not rows


def test_prune_forgets_only_what_is_older_than_the_horizon() -> None:
    rows = TransferRows(
        [transfer("T-old", T0 - 10), transfer("T-edge", T0), transfer("T-new", T0 + 1)]
    )
    assert rows.prune(T0) == 1
    assert sorted(rows) == ["CASPKZKA/T-edge", "CASPKZKA/T-new"]


def test_keep_newest_forgets_the_oldest_by_creation_time() -> None:
    rows = TransferRows([transfer(f"T-{i}", T0 + i) for i in (4, 0, 3, 1, 2)])
    assert rows.keep_newest(5) == 0
    assert rows.keep_newest(2) == 3
    assert sorted(rows) == ["CASPKZKA/T-3", "CASPKZKA/T-4"]


def test_transfers_are_decoded_in_key_order_and_banks_read_from_rows() -> None:
    rows = TransferRows(
        [transfer("T-2", recipient_bank="KCJBKZKX"), transfer("T-1", recipient_bank="HSBKKZKX")]
    )
    assert [t.transfer_id for t in rows.transfers()] == ["T-1", "T-2"]
    assert rows.recipient_banks() == {"KCJBKZKX", "HSBKKZKX"}


def test_rows_round_trip_through_json() -> None:
    rows = TransferRows([transfer("T-1"), transfer("T-2", T0 + 5)])
    restored = TransferRows.from_rows(orjson.loads(orjson.dumps(rows.rows())))
    assert restored == rows
    assert restored.transfers() == rows.transfers()


@FAST
@given(
    st.lists(
        st.tuples(st.sampled_from(["put", "discard", "prune", "keep"]), st.integers(0, 20)),
        max_size=40,
    )
)
def test_prune_forgets_exactly_what_a_full_scan_would(ops: list[tuple[str, int]]) -> None:
    # `prune` skips the scan while nothing can be older than the horizon: never wrongly.
    rows = TransferRows()
    model: dict[str, float] = {}
    for op, n in ops:
        key = f"CASPKZKA/T-{n % 7}"
        if op == "put":
            rows.put(transfer(f"T-{n % 7}", T0 + n))
            model[key] = T0 + n
        elif op == "discard":
            rows.discard(key)
            model.pop(key, None)
        elif op == "prune":
            stale = {k for k, at in model.items() if at < T0 + n}
            assert rows.prune(T0 + n) == len(stale)
            model = {k: at for k, at in model.items() if k not in stale}
        else:
            rows.keep_newest(n % 4 + 1)
            model = {k: model[k] for k in rows}
        assert sorted(rows) == sorted(model)
    restored = TransferRows.from_rows(rows.rows())
    assert restored.prune(T0 + 21) == len(model)
