"""The state benchmark's data set: every transfer sits with its recipient and its sender."""

from __future__ import annotations

from collections import Counter

import pytest

from antifraud.core.serde import dump_state, load_state
from antifraud.tools.bench.state import Shape, Transfers, recipient_key, sender_key, states


@pytest.mark.parametrize("inflight,k", [(10, 5), (1_000, 5), (999, 3), (4_096, 4)])
def test_every_transfer_has_exactly_one_sender_and_each_sender_k_transfers(
    inflight: int, k: int
) -> None:
    transfers = Transfers(Shape(0, inflight, k))
    senders = Counter(transfers.sender_of(n) for n in range(transfers.n))
    assert set(senders.values()) == {k}
    for s in senders:
        assert all(transfers.sender_of(n) == s for n in transfers.of_sender(s))


def test_states_hold_each_transfer_on_both_sides() -> None:
    shape = Shape(watched=4, inflight=30, per_identifier=3)
    built = {key: load_state(dump_state(state)) for key, state in states(shape)}
    assert len(built) == 4 + 10 + 10
    watched = [s for s in built.values() if s.watched]
    assert len(watched) == 4
    incoming = {t for r in range(10) for t in built[recipient_key(r)].inflight}
    outgoing = {t for s in range(10) for t in built[sender_key(s)].outflows}
    assert len(incoming) == 30
    assert incoming == outgoing
    for s in range(10):
        for transfer in built[sender_key(s)].outflows.transfers():
            assert transfer.sender.key == sender_key(s)
            assert transfer.key in built[transfer.recipient.key].inflight
