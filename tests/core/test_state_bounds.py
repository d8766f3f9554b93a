"""One account's state within the record limit whatever it accumulates: superseded freezes,
followed money, supporting reports, banks (CONTRACT.md, "Robustness promises" 2;
core/state_bounds.py, core/followed.py, core/hold_records.py).

Each bound reached is counted, matching goes on for the account and for others, and no
money command is sent again under a new id for the same action. Each bound's properties
alone: tests/core/test_state_bounds_properties.py.
"""

from __future__ import annotations

from typing import Any

import orjson

from antifraud.core.command_ids import freeze_command_id
from antifraud.core.identifiers import Identifier
from antifraud.core.matching import (
    IdentifierState,
    Revoke,
    SendRevoke,
    SendWatch,
    TransferIn,
    TransferOut,
    Watch,
    apply,
)
from antifraud.core.policy import Policy
from antifraud.core.serde import STATE_ROW_LIMIT_BYTES, dump_state, dump_state_within, load_state
from antifraud.core.state_bounds import BOUNDS, Forgotten
from antifraud.schemas import validator
from tests.core.strategies import T0, iban_id, make_transfer, phone_id, report_watch

POLICY = Policy()
SUSPECT, MULE, WATCHED, OTHER = (phone_id(n) for n in (1_111_111, 2_222_222, 3_333_333, 4_444_444))
VICTIM = iban_id("722", 1)
SUSPECT_BANK, MULE_BANK = "KCJBKZKX", "CASPKZKA"


def tainted(n: int, report_id: str = "R-1") -> Watch:
    """The n-th tainted transfer from the mule reaching the suspect (hop 1): 1,000 + n."""
    return Watch(
        report_id,
        "bank_impersonation",
        T0,
        hop=1,
        bank_id=SUSPECT_BANK,
        via=MULE.key,
        transfer_key=f"{MULE_BANK}/T-{n:05d}",
        amount=1_000 + n,
    )


def of_type(commands: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [c for c in commands if c["type"] == kind]


def released(commands: list[dict[str, Any]], kind: str) -> set[str]:
    return {c["releases"] for c in commands if c["released_type"] == kind}


def holds_as_usual(
    state: IdentifierState, identifier: Identifier, now: float, bank_id: str = "HSBKKZKX"
) -> list[Any]:
    """A transfer arriving for the account at `bank_id` is held at both banks, in the
    contract's shape."""
    transfer = make_transfer("T-NEW", VICTIM, identifier, recipient_bank=bank_id, created_at=now)
    incoming = TransferIn(transfer)
    holds = of_type(apply(state, identifier.key, incoming, now, POLICY).commands, "hold_transfer")
    assert len(holds) == 2
    for hold in holds:
        validator("command")(hold)
    return holds


def another_account_matches(now: float) -> None:
    other = IdentifierState()
    freeze = apply(other, OTHER.key, report_watch("R-OTHER", bank_id="IRTYKZKA"), now, POLICY)
    assert [c["type"] for c in freeze.commands] == ["freeze_account"]
    holds_as_usual(other, OTHER, now, "IRTYKZKA")


def fits(state: IdentifierState, now: float, below: int) -> bytes:
    """The state's row: below `below`, whole (nothing more to forget), and read back equal."""
    row = dump_state(state)
    assert len(row) < below, len(row)
    assert dump_state_within(state, now).raw == row
    assert load_state(row) == state
    return row


# ---------------------------------------------------------------------------- superseded freezes


def test_a_suspect_receiving_20000_tainted_inflows_stays_within_the_record_limit() -> None:
    # Measured before: 5,000 inflows made a 560,105-byte row; near 8,500 it passed 900 KB.
    state = IdentifierState()
    freezes: dict[str, int] = {}  # command id -> amount_limit, of every freeze sent
    forgotten = Forgotten()
    total = largest = 0
    for n in range(20_000):
        outcome = apply(state, SUSPECT.key, tainted(n), T0 + n, POLICY)
        total += 1_000 + n
        # Still a freeze for every new tainted inflow, up to all the money that reached it
        # (beyond the newest 1,000 inflows kept as a sum), each under an id never used before.
        sent = of_type(outcome.commands, "freeze_account")
        assert [c["amount_limit"] for c in sent] == [total]
        assert sent[0]["command_id"] not in freezes
        freezes[sent[0]["command_id"]] = total
        forgotten.add(outcome.records_forgotten)
        if n % 2_500 == 2_499:
            largest = max(largest, len(dump_state(state)))
    row = fits(state, T0 + 20_000, 60_000)
    assert largest <= len(row)
    # Every bound reached is counted: the current freeze and 100 superseded ones are kept.
    kept = {c.command_id for c in state.commands.values() if c.type == "freeze_account"}
    assert len(kept) == 1 + BOUNDS.superseded_freezes
    assert forgotten == Forgotten(
        freezes=20_000 - len(kept), tainted_inflows=20_000 - BOUNDS.tainted_inflows
    )
    # The newest freezes are the ones kept, the current one among them, read back as well.
    assert kept == set(sorted(freezes, key=freezes.__getitem__)[-len(kept) :])
    assert freeze_command_id(SUSPECT_BANK, SUSPECT.key, 0, total) in load_state(row).commands
    # An event that does not change the limit (the newest inflow again) sends nothing.
    assert apply(state, SUSPECT.key, tainted(19_999), T0 + 20_000, POLICY).commands == []
    holds_as_usual(state, SUSPECT, T0 + 20_000, SUSPECT_BANK)
    another_account_matches(T0 + 20_000)
    # A revocation releases the freezes kept; the forgotten ones lapse by their expires_at.
    revoked = apply(state, SUSPECT.key, Revoke("R-1"), T0 + 20_001, POLICY).commands
    assert released(revoked, "freeze_account") == kept


def test_lapsed_superseded_freezes_are_dropped_uncounted_by_the_next_freeze() -> None:
    state = IdentifierState()
    for n in range(3):
        apply(state, SUSPECT.key, tainted(n), T0 + n, POLICY)
    assert [c.type for c in state.commands.values()] == ["freeze_account"] * 3
    lapsed = max(c.expires_at or 0 for c in state.commands.values()) + 1
    outcome = apply(state, SUSPECT.key, tainted(3), lapsed, POLICY)
    assert outcome.records_forgotten == Forgotten()
    # Only the freeze just sent is left: the three it superseded lapsed, none to release.
    limit = 1_000 + 1_001 + 1_002 + 1_003
    assert [c["amount_limit"] for c in outcome.commands] == [limit]
    assert list(state.commands) == [freeze_command_id(SUSPECT_BANK, SUSPECT.key, 0, limit)]


# ---------------------------------------------------------------------------- followed money


def test_an_account_sending_20000_followed_transfers_stays_within_the_record_limit() -> None:
    # Measured before: 5,000 followed transfers made a 375,197-byte row; about 12,000 would
    # have passed the limit.
    state = IdentifierState()
    apply(state, WATCHED.key, report_watch(bank_id="HSBKKZKX"), T0, POLICY)
    forgotten = Forgotten()
    recipients: list[str] = []
    for n in range(20_000):
        recipient = iban_id("125", n + 1)
        recipients.append(recipient.key)
        transfer = make_transfer(f"T-{n:05d}", WATCHED, recipient, created_at=T0 + n)
        outcome = apply(state, WATCHED.key, TransferOut(transfer), T0 + n, POLICY)
        # Each one followed, once, to its recipient, one hop further.
        assert [
            (f.identifier_key, f.watch.hop, f.watch.transfer_key)
            for f in outcome.forwards
            if isinstance(f, SendWatch)
        ] == [(recipient.key, 1, transfer.key)]
        forgotten.add(outcome.records_forgotten)
    fits(state, T0 + 20_000, 250_000)
    # Markers beyond 1,000 are forgotten, their recipients kept for the cascade; beyond 500
    # such recipients, the oldest are lost to it. Each counted.
    markers, bare = BOUNDS.followed_transfers, BOUNDS.followed_recipients
    assert forgotten == Forgotten(
        followed_transfers=20_000 - markers, followed_recipients=20_000 - markers - bare
    )
    # A transfer followed again (a later status of it) is not sent again.
    again = make_transfer(
        "T-19999", WATCHED, iban_id("125", 20_000), created_at=T0 + 19_999, status="settled"
    )
    assert apply(state, WATCHED.key, TransferOut(again), T0 + 20_000, POLICY).forwards == []
    another_account_matches(T0 + 20_000)
    holds_as_usual(state, WATCHED, T0 + 20_000)
    # A revocation reaches the newest 1,500 recipients: 1,000 by marker, 500 kept bare.
    revoked = apply(state, WATCHED.key, Revoke("R-1"), T0 + 20_001, POLICY)
    cascade = {f.identifier_key for f in revoked.forwards if isinstance(f, SendRevoke)}
    assert cascade == set(recipients[-(markers + bare) :])


def test_a_revocation_still_reaches_a_recipient_of_3000_followed_transfers() -> None:
    state = IdentifierState()
    apply(state, WATCHED.key, report_watch(bank_id="HSBKKZKX"), T0, POLICY)
    forgotten = Forgotten()
    for n in range(3_000):
        transfer = make_transfer(f"T-{n:05d}", WATCHED, MULE, created_at=T0 + n)
        forgotten.add(
            apply(state, WATCHED.key, TransferOut(transfer), T0 + n, POLICY).records_forgotten
        )
    fits(state, T0 + 3_000, 250_000)
    assert forgotten == Forgotten(followed_transfers=3_000 - BOUNDS.followed_transfers)
    revoked = apply(state, WATCHED.key, Revoke("R-1"), T0 + 3_001, POLICY)
    assert [f for f in revoked.forwards if isinstance(f, SendRevoke)] == [
        SendRevoke(MULE.key, "R-1")
    ]


# ---------------------------------------------------------------------------- reports


def test_an_account_named_in_5000_reports_stays_within_the_record_limit() -> None:
    # Measured before: 5,000 reports made a 255,144-byte row, and each command named all 5,000.
    state = IdentifierState()
    issued: list[dict[str, Any]] = []
    forgotten = Forgotten()
    for n in range(5_000):
        outcome = apply(
            state, WATCHED.key, report_watch(f"R-{n:05d}", bank_id="HSBKKZKX"), T0 + n, POLICY
        )
        issued += outcome.commands
        forgotten.add(outcome.records_forgotten)
    # The account is frozen whole once: the same action whatever the number of reports.
    assert [c["type"] for c in issued] == ["freeze_account"]
    # The newest 500 reports are remembered (all name it: the earliest go first); counted.
    newest = [f"R-{n:05d}" for n in range(5_000 - BOUNDS.reports, 5_000)]
    assert list(state.supports) == newest
    assert forgotten == Forgotten(reports=5_000 - BOUNDS.reports)
    fits(state, T0 + 5_000, 60_000)
    assert all(hold["report_ids"] == newest for hold in holds_as_usual(state, WATCHED, T0 + 5_000))
    another_account_matches(T0 + 5_000)
    # A forgotten report's revocation releases nothing; the last remembered one's releases all.
    assert apply(state, WATCHED.key, Revoke("R-00000"), T0 + 5_001, POLICY).commands == []
    for report_id in newest[:-1]:
        assert apply(state, WATCHED.key, Revoke(report_id), T0 + 5_001, POLICY).commands == []
    last = apply(state, WATCHED.key, Revoke(newest[-1]), T0 + 5_001, POLICY).commands
    assert sorted(c["released_type"] for c in last) == [
        "freeze_account",
        "hold_transfer",
        "hold_transfer",
    ]


def test_a_forgotten_reports_revocation_still_cascades_to_what_it_followed() -> None:
    state = IdentifierState()
    apply(state, WATCHED.key, report_watch("R-FIRST"), T0, POLICY)
    outflow = TransferOut(make_transfer("T-1", WATCHED, MULE, created_at=T0))
    apply(state, WATCHED.key, outflow, T0, POLICY)
    for n in range(BOUNDS.reports):  # pushes R-FIRST out
        apply(state, WATCHED.key, report_watch(f"R-{n:05d}"), T0 + 1, POLICY)
    assert "R-FIRST" not in state.supports
    revoked = apply(state, WATCHED.key, Revoke("R-FIRST"), T0 + 2, POLICY)
    assert revoked.forwards == [SendRevoke(MULE.key, "R-FIRST")] and revoked.commands == []


# ---------------------------------------------------------------------------- banks


def test_a_watched_phone_is_frozen_at_no_more_than_100_banks() -> None:
    state = IdentifierState()
    apply(state, WATCHED.key, report_watch(), T0, POLICY)
    frozen_at: list[str] = []
    forgotten = Forgotten()
    for n in range(150):
        transfer = make_transfer(f"T-{n}", VICTIM, WATCHED, recipient_bank=f"BANK{n:04d}")
        outcome = apply(state, WATCHED.key, TransferIn(transfer), T0, POLICY)
        frozen_at += [c["bank_id"] for c in of_type(outcome.commands, "freeze_account")]
        # Every transfer is still held at its banks.
        assert len(of_type(outcome.commands, "hold_transfer")) == 2
        forgotten.add(outcome.records_forgotten)
    assert frozen_at == [f"BANK{n:04d}" for n in range(BOUNDS.banks)]
    assert forgotten == Forgotten(banks=150 - BOUNDS.banks)
    assert len(state.banks) == BOUNDS.banks


# ---------------------------------------------------------------------------- rows written before


def test_a_row_written_before_these_bounds_loads_and_is_bounded_by_its_next_event() -> None:
    # As an earlier version wrote it: 3,000 freezes of a suspect, its 3,000 inflows, and
    # 3,000 followed markers as "recipient|transfer key|hop", no sums.
    inflows = {f"{MULE_BANK}/T-{n:05d}": 1_000 + n for n in range(3_000)}
    freezes = [
        [f"{n:032x}", "freeze_account", SUSPECT_BANK, 1, None, T0 + 86_400.0] for n in range(3_000)
    ]
    markers = [f"{iban_id('125', n + 1).key}|{SUSPECT_BANK}/T-{n}|2" for n in range(3_000)]
    old = {
        "b": [SUSPECT_BANK],
        "s": {"R-1": ["bank_impersonation", T0, 1, inflows]},
        "i": [],
        "o": [],
        "c": freezes,
        "sp": {"R-1": markers},
        "ep": 0,
    }
    raw = orjson.dumps(old)
    state = load_state(raw)
    assert dump_state(state) == raw  # read as written
    outcome = apply(state, SUSPECT.key, tainted(3_000), T0 + 60, POLICY)
    total = sum(inflows.values()) + 1_000 + 3_000
    assert [c["amount_limit"] for c in of_type(outcome.commands, "freeze_account")] == [total]
    assert outcome.records_forgotten == Forgotten(
        freezes=3_000 - BOUNDS.superseded_freezes,
        tainted_inflows=3_001 - BOUNDS.tainted_inflows,
        followed_transfers=3_000 - BOUNDS.followed_transfers,
        followed_recipients=3_000 - BOUNDS.followed_transfers - BOUNDS.followed_recipients,
    )
    fits(state, T0 + 60, 150_000)


def test_a_row_of_pathological_report_ids_is_trimmed_to_fit_and_counted() -> None:
    # 500 reports with ids of 128 characters JSON escapes: about 800 bytes each, each time.
    state = IdentifierState()
    for n in range(BOUNDS.reports):
        report_id = f"{n:05d}" + "\u0001" * 123
        apply(state, WATCHED.key, report_watch(report_id), T0, POLICY)
    assert len(dump_state(state)) > 300_000
    row = dump_state_within(state, T0, limit=300_000)
    assert len(row.raw) <= 300_000
    assert row.records_forgotten.reports == BOUNDS.reports - len(state.supports) > 0
    assert load_state(row.raw) == state and state.watched
    assert STATE_ROW_LIMIT_BYTES == 900_000
