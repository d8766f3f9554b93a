"""Each bound on an identifier's state alone, over random inputs with small bounds: what is
kept, what is counted, and what a suspect's freeze says (core/state_bounds.py,
core/followed.py, core/hold_records.py). The scenarios at the real bounds:
tests/core/test_state_bounds.py."""

from __future__ import annotations

from unittest.mock import patch

from hypothesis import given
from hypothesis import strategies as st

from antifraud.core import state_bounds
from antifraud.core.command_ids import freeze_command_id
from antifraud.core.followed import Followed, forget_followed
from antifraud.core.hold_records import forget_superseded_freezes
from antifraud.core.matching import ActiveCommand, IdentifierState, Revoke, Support, Watch, apply
from antifraud.core.policy import Policy
from antifraud.core.state_bounds import StateBounds, forget_supports
from tests.core.strategies import FAST, QUICK, T0, phone_id

SUSPECT, MULE = phone_id(1_111_111), phone_id(2_222_222)
BANK = "KCJBKZKX"
REPORTS = ("R-1", "R-2", "R-3")


def amount_of(transfer: int) -> int:
    """One transfer, one amount, whichever report it is tainted for."""
    return 100 + 7 * transfer


# ---------------------------------------------------------------------------- tainted inflows

operations = st.lists(
    st.tuples(
        st.sampled_from(["watch"] * 5 + ["revoke"]), st.sampled_from(REPORTS), st.integers(0, 9)
    ),
    max_size=40,
)


@QUICK
@given(operations, st.integers(0, 4))
def test_a_suspects_freeze_covers_all_the_tainted_money_whatever_is_kept_as_a_sum(
    ops: list[tuple[str, str, int]], keep: int
) -> None:
    """Exact while no transfer folded into the sum arrives again; never below the truth."""
    state = IdentifierState()
    tainted_for: dict[int, set[str]] = {}  # transfer -> the live reports it is tainted for
    folded: set[int] = set()  # transfers kept only in the sum
    exact = True
    with patch.object(state_bounds, "BOUNDS", StateBounds(tainted_inflows=keep)):
        for n, (kind, report_id, transfer) in enumerate(ops):
            if kind == "revoke":
                outcome = apply(state, SUSPECT.key, Revoke(report_id), T0 + n, Policy())
                for reports in tainted_for.values():
                    reports.discard(report_id)
                if state.supports and folded:
                    exact = False  # the sum is estimated again from the reports' shares
            else:
                exact &= transfer not in folded
                watch = Watch(
                    report_id,
                    "bank_impersonation",
                    T0,
                    hop=1,
                    bank_id=BANK,
                    via=MULE.key,
                    transfer_key=f"CASPKZKA/T-{transfer}",
                    amount=amount_of(transfer),
                )
                outcome = apply(state, SUSPECT.key, watch, T0 + n, Policy())
                tainted_for.setdefault(transfer, set()).add(report_id)
            kept = {int(k.rpartition("-")[2]) for s in state.supports.values() for k in s.inflows}
            folded |= {t for t, reports in tainted_for.items() if reports} - kept
            if not state.supports:
                tainted_for.clear()
                folded.clear()
                continue
            assert sum(len(s.inflows) for s in state.supports.values()) <= keep
            truth = sum(amount_of(t) for t, reports in tainted_for.items() if reports)
            for freeze in outcome.commands:
                if freeze["type"] == "freeze_account":
                    assert freeze["amount_limit"] >= truth
                    assert freeze["amount_limit"] == truth or not exact
            if exact and kind == "watch":
                current = freeze_command_id(BANK, SUSPECT.key, state.epoch, truth)
                assert current in state.commands


def test_a_revocation_takes_out_the_revoked_reports_share_of_the_sum() -> None:
    """Two reports behind one mule (the same transfers) or two mules (disjoint): exact."""
    for shared in (True, False):
        state = IdentifierState()
        for n in range(6):
            for report_id in ("R-1", "R-2"):
                transfer = n if shared else n + 10 * int(report_id[-1])
                watch = Watch(
                    report_id,
                    "other",
                    T0,
                    hop=1,
                    bank_id=BANK,
                    via=MULE.key,
                    transfer_key=f"CASPKZKA/T-{transfer}",
                    amount=amount_of(transfer),
                )
                with patch.object(state_bounds, "BOUNDS", StateBounds(tainted_inflows=2)):
                    apply(state, SUSPECT.key, watch, T0, Policy())
        apply(state, SUSPECT.key, Revoke("R-2"), T0, Policy())
        left = range(6) if shared else range(10, 16)
        assert state.tainted_forgotten + sum(state.supports["R-1"].inflows.values()) == sum(
            amount_of(t) for t in left
        )


# ---------------------------------------------------------------------------- followed money

sends = st.lists(
    st.tuples(st.integers(0, 8), st.integers(0, 15), st.integers(1, 3), st.sampled_from(REPORTS)),
    max_size=60,
)


@FAST
@given(sends, st.integers(0, 6), st.integers(0, 4), st.sets(st.integers(0, 15)))
def test_followed_money_stays_bounded_and_every_recipient_lost_is_counted(
    sent: list[tuple[int, int, int, str]],
    keep_transfers: int,
    keep_recipients: int,
    remembered: set[int],
) -> None:
    spread: dict[str, Followed] = {}
    outflows = {f"CASPKZKA/T-{t}" for t in remembered}
    reached_by: dict[str, set[str]] = {}  # report -> every recipient it was sent to
    lost = 0
    for recipient, transfer, hop, report_id in sent:
        recipient_key = f"phone:+7701000000{recipient}"
        followed = spread.setdefault(report_id, Followed())
        if followed.send(recipient_key, f"CASPKZKA/T-{transfer}", hop):
            reached_by.setdefault(report_id, set()).add(recipient_key)
        lost += forget_followed(spread, keep_transfers, keep_recipients, outflows)[1]
        assert sum(len(f.transfers) for f in spread.values()) <= keep_transfers
        assert sum(len(f.recipients) for f in spread.values()) <= keep_recipients
        for f in spread.values():
            named = {marker.partition("|")[0] for marker in f.transfers}
            assert f.reached() == named.union(f.recipients)
            assert f  # nothing empty is kept
    unreached = sum(
        len(recipients - spread.get(report_id, Followed()).reached())
        for report_id, recipients in reached_by.items()
    )
    assert unreached <= lost  # a recipient lost, sent again and lost again counts twice


def test_a_recipient_still_named_by_a_marker_is_not_counted_lost() -> None:
    followed = Followed()
    spread = {"R-1": followed}
    followed.send(MULE.key, "CASPKZKA/T-1", 1)
    assert forget_followed(spread, 0, 5) == (1, 0)  # the marker goes, the mule is kept bare
    followed.send(MULE.key, "CASPKZKA/T-2", 1)  # money to the mule again: a marker names it
    followed.send(SUSPECT.key, "CASPKZKA/T-3", 1)
    assert forget_followed(spread, 2, 0) == (0, 0)  # the bare mule goes, still reached
    assert followed.reached() == {MULE.key, SUSPECT.key}
    assert forget_followed(spread, 0, 0) == (2, 2)  # now both are lost, and counted
    assert spread == {}


@FAST
@given(st.lists(st.integers(0, 15), min_size=1, max_size=40), st.sets(st.integers(0, 15)))
def test_the_markers_of_transfers_no_longer_remembered_go_first(
    transfers: list[int], remembered: set[int]
) -> None:
    followed = Followed()
    for transfer in transfers:
        followed.send("phone:+77010000001", f"CASPKZKA/T-{transfer}", 1)
    before = list(followed.transfers)
    keep = len(before) // 2
    outflows = {f"CASPKZKA/T-{t}" for t in remembered}
    spread = {"R-1": followed}
    forget_followed(spread, keep, 10, outflows)
    stale = [m for m in before if m.partition("|")[2] not in outflows]
    live = [m for m in before if m.partition("|")[2] in outflows]
    expected = (stale + live)[len(before) - keep :]  # forgotten: the stale, then the oldest
    assert sorted(spread["R-1"].transfers if spread else []) == sorted(expected)
    assert not spread or spread["R-1"].reached() == {"phone:+77010000001"}


# ---------------------------------------------------------------------------- superseded freezes

records = st.lists(
    st.tuples(st.sampled_from(["freeze", "hold"]), st.sampled_from(["A", "B", "C"]), st.booleans()),
    max_size=30,
)


@FAST
@given(records, st.integers(0, 5))
def test_each_banks_current_freeze_and_the_newest_superseded_ones_are_kept(
    issued: list[tuple[str, str, bool]], keep: int
) -> None:
    state = IdentifierState()
    now = T0 + 1_000
    for n, (kind, bank_id, lapsed) in enumerate(issued):
        command_type = "freeze_account" if kind == "freeze" else "hold_transfer"
        expires_at = now - 1 if lapsed else now + 1
        command_id = f"{n:032x}"
        state.commands[command_id] = ActiveCommand(
            command_id, command_type, bank_id, 1, None, expires_at
        )
    before = list(state.commands.values())
    forgotten = forget_superseded_freezes(state, now, keep)
    freezes = [c for c in before if c.type == "freeze_account"]
    current = {c.bank_id: c.command_id for c in freezes}  # the last of each bank
    superseded_live = [
        c
        for c in reversed(freezes)
        if c.command_id not in current.values() and (c.expires_at or 0) > now
    ]
    expected = set(current.values()) | {c.command_id for c in superseded_live[:keep]}
    assert {c.command_id for c in state.commands.values() if c.type == "freeze_account"} == expected
    assert forgotten == max(0, len(superseded_live) - keep)
    assert [c for c in state.commands.values() if c.type == "hold_transfer"] == [
        c for c in before if c.type == "hold_transfer"
    ]


# ---------------------------------------------------------------------------- reports


@FAST
@given(st.lists(st.integers(0, 3), max_size=30), st.integers(1, 10))
def test_the_farthest_reports_then_the_earliest_are_forgotten_first(
    hops: list[int], keep: int
) -> None:
    state = IdentifierState()
    for n, hop in enumerate(hops):
        state.supports[f"R-{n}"] = Support(f"R-{n}", "other", T0, hop)
    forgotten = forget_supports(state, keep)
    order = sorted(range(len(hops)), key=lambda n: (-hops[n], n))  # the first go first
    assert forgotten == max(0, len(hops) - keep)
    assert set(state.supports) == {f"R-{n}" for n in order[forgotten:]}
