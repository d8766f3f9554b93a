"""Command ids: a hash of what the command is about, so the same action always has the same id."""

from __future__ import annotations

import hashlib
import re
import string

from hypothesis import given
from hypothesis import strategies as st

from antifraud.core.command_ids import (
    derive_command_id,
    extend_command_id,
    freeze_command_id,
    hold_command_id,
    release_command_id,
    return_command_id,
)
from tests.core.strategies import BICS, FAST

HEX32 = re.compile(r"[0-9a-f]{32}")

BIC_CHARS = string.ascii_uppercase + string.digits
banks = (
    st.sampled_from(BICS)
    | st.text(alphabet=BIC_CHARS, min_size=8, max_size=8)
    | st.text(alphabet=BIC_CHARS, min_size=11, max_size=11)
)
transfer_keys = st.builds(
    lambda bank, serial: f"{bank}/T-{serial}",
    st.sampled_from(BICS),
    st.integers(min_value=0, max_value=10**9),
)
identifier_keys = st.sampled_from(
    ["phone:+77011234567", "iban:KZ86125KZT5004100100", "card:4400430000000004"]
) | st.text(alphabet=string.digits, min_size=10, max_size=10).map(lambda d: f"phone:+7{d}")
epochs = st.integers(min_value=0, max_value=1000)
limits = st.none() | st.integers(min_value=1, max_value=10**15)


def test_examples_are_stable() -> None:
    hold = hold_command_id("HSBKKZKX", "CASPKZKA/T-000123", 0)
    assert hold == hold_command_id("HSBKKZKX", "CASPKZKA/T-000123", 0)
    assert HEX32.fullmatch(hold)
    freeze = freeze_command_id("HSBKKZKX", "phone:+77011234567", 0, None)
    assert HEX32.fullmatch(freeze)
    assert hold != freeze
    # Pin the derivation: changing it would re-issue every live command under a new id after a
    # deploy, and banks could no longer deduplicate replays against what they already hold.
    text = "\x1f".join(["hold_transfer", "HSBKKZKX", "CASPKZKA/T-000123", "0"])
    assert hold == hashlib.sha256(text.encode()).hexdigest()[:32]


@FAST
@given(banks, transfer_keys, epochs)
def test_hold_ids_are_deterministic_lower_hex(bank: str, transfer_key: str, epoch: int) -> None:
    first = hold_command_id(bank, transfer_key, epoch)
    assert first == hold_command_id(bank, transfer_key, epoch)
    assert HEX32.fullmatch(first)
    assert HEX32.fullmatch(release_command_id(first))


@FAST
@given(banks, identifier_keys, epochs, limits)
def test_freeze_ids_are_deterministic_lower_hex(
    bank: str, key: str, epoch: int, limit: int | None
) -> None:
    first = freeze_command_id(bank, key, epoch, limit)
    assert first == freeze_command_id(bank, key, epoch, limit)
    assert HEX32.fullmatch(first)


@FAST
@given(st.text(min_size=1, max_size=64))
def test_release_id_differs_from_the_released_id(command_id: str) -> None:
    release = release_command_id(command_id)
    assert release != command_id
    assert release == release_command_id(command_id)
    assert release_command_id(release) != release


@FAST
@given(
    st.sets(st.tuples(banks, transfer_keys, epochs), min_size=2, max_size=40),
    st.sets(st.tuples(banks, identifier_keys, epochs, limits), min_size=2, max_size=40),
)
def test_no_collisions_across_distinct_actions(
    holds: set[tuple[str, str, int]], freezes: set[tuple[str, str, int, int | None]]
) -> None:
    hold_ids = {hold_command_id(*args) for args in holds}
    freeze_ids = {freeze_command_id(*args) for args in freezes}
    assert len(hold_ids) == len(holds)
    assert len(freeze_ids) == len(freezes)
    # A hold and a freeze never share an id, and neither shares one with any release.
    assert not hold_ids & freeze_ids
    releases = {release_command_id(c) for c in hold_ids | freeze_ids}
    assert len(releases) == len(hold_ids | freeze_ids)
    assert not releases & (hold_ids | freeze_ids)


@FAST
@given(banks, banks, transfer_keys, transfer_keys, epochs, epochs)
def test_every_part_of_a_hold_id_matters(
    bank_a: str, bank_b: str, key_a: str, key_b: str, epoch_a: int, epoch_b: int
) -> None:
    base = hold_command_id(bank_a, key_a, epoch_a)
    if bank_a != bank_b:
        assert hold_command_id(bank_b, key_a, epoch_a) != base
    if key_a != key_b:
        assert hold_command_id(bank_a, key_b, epoch_a) != base
    if epoch_a != epoch_b:
        assert hold_command_id(bank_a, key_a, epoch_b) != base


@FAST
@given(banks, banks, identifier_keys, identifier_keys, epochs, epochs, limits, limits)
def test_every_part_of_a_freeze_id_matters(
    bank_a: str,
    bank_b: str,
    key_a: str,
    key_b: str,
    epoch_a: int,
    epoch_b: int,
    limit_a: int | None,
    limit_b: int | None,
) -> None:
    base = freeze_command_id(bank_a, key_a, epoch_a, limit_a)
    if bank_a != bank_b:
        assert freeze_command_id(bank_b, key_a, epoch_a, limit_a) != base
    if key_a != key_b:
        assert freeze_command_id(bank_a, key_b, epoch_a, limit_a) != base
    if epoch_a != epoch_b:
        assert freeze_command_id(bank_a, key_a, epoch_b, limit_a) != base
    if limit_a != limit_b:
        assert freeze_command_id(bank_a, key_a, epoch_a, limit_b) != base


def test_parts_never_run_together() -> None:
    # Without a separator ("AB", "C") and ("A", "BC") would hash the same text.
    assert derive_command_id("AB", "C") != derive_command_id("A", "BC")
    assert hold_command_id("HSBKKZKX", "CASPKZKA/T-1", 1) != hold_command_id(
        "HSBKKZKX", "CASPKZKA/T-11", 0
    )


hex_ids = st.text(alphabet="0123456789abcdef", min_size=32, max_size=32)
attempts = st.integers(min_value=0, max_value=5)
stamps = st.sampled_from(["2026-12-31T13:00:00.000Z", "2027-01-15T13:00:00.000Z"])


def test_return_and_extend_examples_are_stable() -> None:
    held = hold_command_id("HSBKKZKX", "CASPKZKA/T-000123", 0)
    returned = return_command_id(held, "iban:KZ86125KZT5004100100")
    text = "\x1f".join(["return_funds", held, "iban:KZ86125KZT5004100100", "0"])
    assert returned == hashlib.sha256(text.encode()).hexdigest()[:32]
    extended = extend_command_id(held, "2026-12-31T13:00:00.000Z")
    text = "\x1f".join(["extend", held, "2026-12-31T13:00:00.000Z"])
    assert extended == hashlib.sha256(text.encode()).hexdigest()[:32]


@FAST
@given(
    st.sets(st.tuples(hex_ids, identifier_keys, attempts), min_size=2, max_size=40),
    st.sets(st.tuples(hex_ids, stamps), min_size=2, max_size=40),
)
def test_one_return_id_per_money_beneficiary_and_attempt_one_extend_id_per_lifetime(
    returns: set[tuple[str, str, int]], extends: set[tuple[str, str]]
) -> None:
    return_ids = {return_command_id(*args) for args in returns}
    extend_ids = {extend_command_id(*args) for args in extends}
    assert len(return_ids) == len(returns)
    assert len(extend_ids) == len(extends)
    assert not return_ids & extend_ids
    assert all(HEX32.fullmatch(i) for i in return_ids | extend_ids)
