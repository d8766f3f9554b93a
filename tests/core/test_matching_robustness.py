"""Matching under odd or hostile input: CONTRACT.md, "Robustness promises" 2 and 4.

- Forward holds apply to every `initiated` transfer that arrives while its recipient is
  watched, whatever its `created_at`; the look-back window limits only what arrived before.
- No stored value (a `created_at` in UTC year 10000 kept by an earlier version) can make the
  events of an account fail.
- One account's state stays within the changelog's record limit however many transfers it
  receives, counted, and matching goes on for it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from hypothesis import given
from hypothesis import strategies as st

from antifraud.core.command_ids import hold_command_id
from antifraud.core.matching import (
    ActiveCommand,
    IdentifierState,
    Revoke,
    TransferIn,
    apply,
)
from antifraud.core.policy import Policy
from antifraud.core.serde import (
    STATE_ROW_LIMIT_BYTES,
    dump_state,
    dump_state_within,
    load_state,
)
from antifraud.core.transfer_rows import TransferRows
from antifraud.schemas import validator
from tests.core.strategies import FAST, HOUR, T0, iban_id, make_transfer, phone_id, report_watch

POLICY = Policy()
FRAUD = phone_id(1_234_567)
OTHER = phone_id(7_654_321)
VICTIM = iban_id("722", 1)
FRAUD_BANK, SENDING_BANK = "HSBKKZKX", "CASPKZKA"
DAY = 24 * HOUR
# What an earlier intake let by: `9999-12-31T23:59:59-01:00`, in UTC year 10000.
YEAR_10000_UTC = datetime.fromisoformat("9999-12-31T23:59:59-01:00").timestamp()


def transfer_in(tid: str, *, created_at: float = T0, **kw: Any) -> TransferIn:
    return TransferIn(make_transfer(tid, VICTIM, FRAUD, created_at=created_at, **kw))


def holds(commands: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [c for c in commands if c["type"] == "hold_transfer"]


def checked(commands: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for command in commands:
        validator("command")(command)
    return commands


# ---------------------------------------------------------------------------- promise 4: forward


@FAST
@given(created_ago=st.floats(min_value=-300, max_value=30 * DAY), reported_ago=st.just(0.0))
def test_every_transfer_arriving_while_watched_is_held_whatever_its_created_at(
    created_ago: float, reported_ago: float
) -> None:
    state = IdentifierState()
    now = T0 + 10 * DAY
    apply(state, FRAUD.key, report_watch(reported_at=now - reported_ago), now, POLICY)
    outcome = apply(state, FRAUD.key, transfer_in("T-1", created_at=now - created_ago), now, POLICY)
    assert len(holds(checked(outcome.commands))) == 2


def test_a_report_dated_ahead_does_not_turn_off_holds() -> None:
    # Stored by an earlier version (intake now refuses it): a report dated 100 h ahead.
    ahead = T0 + 100 * HOUR
    state = IdentifierState()
    apply(state, FRAUD.key, transfer_in("T-before", created_at=T0 - HOUR), T0, POLICY)
    looked_back = apply(state, FRAUD.key, report_watch(reported_at=ahead), T0, POLICY)
    assert [h["transfer"]["transfer_id"] for h in holds(looked_back.commands)] == ["T-before"] * 2
    forward = apply(state, FRAUD.key, transfer_in("T-after", created_at=T0 + 60), T0 + 60, POLICY)
    assert [h["transfer"]["transfer_id"] for h in holds(forward.commands)] == ["T-after"] * 2


def test_the_look_back_window_still_limits_transfers_that_arrived_before() -> None:
    state = IdentifierState()
    old = T0 - POLICY.lookback_seconds - 1
    apply(state, FRAUD.key, transfer_in("T-old", created_at=old), T0 - 2 * DAY, POLICY)
    apply(state, FRAUD.key, transfer_in("T-new", created_at=T0 - HOUR), T0 - HOUR, POLICY)
    outcome = apply(state, FRAUD.key, report_watch(reported_at=T0), T0, POLICY)
    assert {h["transfer"]["transfer_id"] for h in holds(outcome.commands)} == {"T-new"}


# ---------------------------------------------------------------------------- promise 4: stored values


def test_a_stored_transfer_dated_utc_year_10000_cannot_break_its_account() -> None:
    # The reproduction: every report on P died with "year 10000 is out of range".
    state = IdentifierState()
    state.inflight.put(make_transfer("T-10000", VICTIM, FRAUD, created_at=YEAR_10000_UTC))
    state = load_state(dump_state(state))  # as it sits in the changelog
    outcome = apply(state, FRAUD.key, report_watch(bank_id=FRAUD_BANK), T0, POLICY)
    kinds = sorted(c["type"] for c in checked(outcome.commands))
    assert kinds == ["freeze_account", "hold_transfer", "hold_transfer"]
    assert {h["transfer_created_at"] for h in holds(outcome.commands)} == {
        "9999-12-31T23:59:59.999Z"
    }
    later = apply(state, FRAUD.key, transfer_in("T-next"), T0 + 60, POLICY)
    assert len(holds(checked(later.commands))) == 2


def test_a_stored_report_time_beyond_year_9999_cannot_break_its_account() -> None:
    state = IdentifierState()
    watch = report_watch(reported_at=YEAR_10000_UTC, bank_id=FRAUD_BANK)
    assert checked(apply(state, FRAUD.key, watch, T0, POLICY).commands)
    assert len(holds(checked(apply(state, FRAUD.key, transfer_in("T-1"), T0, POLICY).commands)))


# ---------------------------------------------------------------------------- promise 2: bounded state


def test_an_account_receiving_20000_transfers_stays_within_the_record_limit() -> None:
    # The reproduction: near 4,330 held transfers the row passed 1,000,000 bytes.
    state = IdentifierState()
    apply(state, FRAUD.key, report_watch(bank_id=FRAUD_BANK), T0, POLICY)
    issued: set[str] = set()
    forgotten = largest = 0
    for n in range(20_000):
        now = T0 + n  # one a second: 5.6 hours, none of the holds has lapsed
        outcome = apply(state, FRAUD.key, transfer_in(f"T-{n:05d}", created_at=now), now, POLICY)
        new_holds = holds(outcome.commands)
        # Still holds every new transfer, at both banks, each under an id never used before.
        assert {h["transfer"]["transfer_id"] for h in new_holds} == {f"T-{n:05d}"}
        assert {h["bank_id"] for h in new_holds} == {FRAUD_BANK, SENDING_BANK}
        assert not issued & {h["command_id"] for h in new_holds}
        issued.update(h["command_id"] for h in new_holds)
        forgotten += outcome.commands_forgotten
        if n % 2_500 == 2_499:
            largest = max(largest, len(dump_state(state)))
    row = dump_state(state)
    assert len(row) == max(largest, len(row)) < 600_000, len(row)
    assert dump_state_within(state, T0 + 20_000).raw == row  # fits without forgetting more
    remembered = [c for c in state.commands.values() if c.type == "hold_transfer"]
    assert len(state.commands) == POLICY.max_commands_per_identifier  # with the freeze
    assert forgotten == 40_000 - len(remembered)  # every one counted
    # The newest holds are the ones remembered, and a revocation releases exactly those.
    released = apply(state, FRAUD.key, Revoke("R-1"), T0 + 20_000, POLICY).commands
    assert {r["releases"] for r in released} == {c.command_id for c in remembered} | {
        c.command_id for c in load_state(row).commands.values() if c.type == "freeze_account"
    }


def test_other_accounts_match_as_usual_next_to_a_busy_one() -> None:
    busy = IdentifierState()
    apply(busy, FRAUD.key, report_watch(bank_id=FRAUD_BANK), T0, POLICY)
    for n in range(5_000):
        apply(busy, FRAUD.key, transfer_in(f"T-{n}"), T0, POLICY)
    other = IdentifierState()
    outcome = apply(other, OTHER.key, report_watch("R-2", bank_id="IRTYKZKA"), T0, POLICY)
    assert [c["type"] for c in outcome.commands] == ["freeze_account"]
    incoming = TransferIn(make_transfer("T-1", VICTIM, OTHER, recipient_bank="IRTYKZKA"))
    assert len(holds(apply(other, OTHER.key, incoming, T0, POLICY).commands)) == 2
    assert other.commands.keys().isdisjoint(busy.commands.keys())


def test_a_forgotten_hold_is_never_issued_under_a_new_id() -> None:
    policy = Policy(max_transfers_per_identifier=2)  # at most 4 command records
    state = IdentifierState()
    apply(state, FRAUD.key, report_watch(bank_id=FRAUD_BANK), T0, policy)
    first = holds(apply(state, FRAUD.key, transfer_in("T-0"), T0, policy).commands)
    for n in range(1, 5):
        apply(state, FRAUD.key, transfer_in(f"T-{n}"), T0 + n, policy)
    assert not {h["command_id"] for h in first} & set(state.commands)  # forgotten
    # A later report on the account does not send T-0's holds again...
    assert holds(apply(state, FRAUD.key, report_watch("R-2"), T0 + 10, policy).commands) == []
    # ...and the bank sending T-0 again gets the very ids it already has, no new ones.
    again = holds(apply(state, FRAUD.key, transfer_in("T-0"), T0 + 11, policy).commands)
    assert {h["command_id"] for h in again} == {h["command_id"] for h in first}
    assert {h["command_id"] for h in again} == {
        hold_command_id(bank, f"{SENDING_BANK}/T-0", 0) for bank in (FRAUD_BANK, SENDING_BANK)
    }


def test_expired_holds_are_dropped_uncounted_and_freezes_kept() -> None:
    state = IdentifierState()
    apply(state, FRAUD.key, report_watch(bank_id=FRAUD_BANK), T0, POLICY)
    apply(state, FRAUD.key, transfer_in("T-1"), T0, POLICY)
    assert len(state.commands) == 3
    lapsed = POLICY.expires_at(T0) + 1
    outcome = apply(state, FRAUD.key, transfer_in("T-2", created_at=lapsed), lapsed, POLICY)
    assert outcome.commands_forgotten == 0
    kept = {(c.type, (c.transfer or {}).get("transfer_id")) for c in state.commands.values()}
    assert kept == {("freeze_account", None), ("hold_transfer", "T-2")}
    # A revocation releases what is live; a lapsed hold needs no release.
    released = apply(state, FRAUD.key, Revoke("R-1"), lapsed, POLICY).commands
    assert sorted(r["released_type"] for r in released) == [
        "freeze_account",
        "hold_transfer",
        "hold_transfer",
    ]
    assert {r.get("transfer", {}).get("transfer_id") for r in released} == {None, "T-2"}


def test_a_state_stored_before_holds_were_bounded_is_bounded_by_its_next_event() -> None:
    # 4,330 hold records without `expires_at`, as an earlier version wrote them.
    state = IdentifierState()
    apply(state, FRAUD.key, report_watch(bank_id=FRAUD_BANK), T0, POLICY)
    for n in range(4_330):
        command_id = f"{n:032x}"
        reference = {"bank_id": SENDING_BANK, "transfer_id": f"T-{n}"}
        state.commands[command_id] = ActiveCommand(
            command_id, "hold_transfer", FRAUD_BANK, 0, reference
        )
    rows = orjson.loads(dump_state(state))
    rows["c"] = [row[:5] for row in rows["c"]]  # no `expires_at`
    state = load_state(orjson.dumps(rows))
    assert len(state.commands) == 4_331
    outcome = apply(state, FRAUD.key, transfer_in("T-next"), T0 + 60, POLICY)
    assert len(holds(outcome.commands)) == 2
    assert outcome.commands_forgotten == 4_331 + 2 - POLICY.max_commands_per_identifier
    assert len(state.commands) == POLICY.max_commands_per_identifier  # the freeze kept
    assert any(c.type == "freeze_account" for c in state.commands.values())


def test_a_row_with_pathological_holds_is_trimmed_to_fit_and_counted() -> None:
    # 128-character transfer ids of escaped characters: the count bound alone is not enough.
    state = IdentifierState()
    apply(state, FRAUD.key, report_watch(bank_id=FRAUD_BANK), T0, POLICY)
    for n in range(POLICY.max_commands_per_identifier // 2):
        transfer_id = f"{n:06d}" + '"' * 122
        apply(state, FRAUD.key, transfer_in(transfer_id), T0, POLICY)
    state.inflight = TransferRows()
    assert len(dump_state(state)) > 500_000
    row = dump_state_within(state, T0, limit=500_000)
    assert len(row.raw) <= 500_000
    assert row.transfers_forgotten == 0 and row.commands_forgotten > 0
    assert len(load_state(row.raw).commands) == len(state.commands)
    assert any(c.type == "freeze_account" for c in state.commands.values())
    assert STATE_ROW_LIMIT_BYTES == 900_000
