"""The demo's summary lines and verdict, from what was sent and what came back."""

from __future__ import annotations

from antifraud.harness.simulation import Scenario
from antifraud.harness.traffic import Counts
from antifraud.tools.demo.contract import Seen
from antifraud.tools.demo.summary import summary_lines, verdict, worker_figures

METRICS = """\
# HELP antifraud_commands_total Commands issued.
# TYPE antifraud_commands_total counter
antifraud_commands_total{type="hold_transfer",reason="reported_account"} 3.0
antifraud_commands_total{type="freeze_account",reason="reported_account"} 2.0
antifraud_dead_letters_total{code="bad_signature"} 1.0
antifraud_unrelated_total 99.0
"""


def test_worker_figures_sum_each_counter_over_its_labels() -> None:
    figures = worker_figures(METRICS)
    assert figures["antifraud_commands_total"] == 5.0
    assert figures["antifraud_dead_letters_total"] == 1.0
    assert figures["antifraud_acks_total"] == 0.0  # wanted, absent: zero
    assert "antifraud_unrelated_total" not in figures


def test_summary_lines_count_what_was_sent_and_seen() -> None:
    counts = Counts(transfers=10, reports=2, revocations=1, bad_records=1)
    counts.acks.update({"applied": 3, "too_late": 1})
    seen = Seen(
        commands={
            "h1": {"type": "hold_transfer", "amount": 100, "transfer": {"transfer_id": "T-1"}},
            "f1": {"type": "freeze_account"},
        },
        repeats=1,
        dead_letters=[{"_planted": True}, {"_planted": False}],
    )
    cases = [Scenario(scheme="fake_investment", revoked=True)]
    lines = dict(
        summary_lines(counts, seen, cases, {}, {"R-1": 0.4, "R-2": 1.5}, {"R-1": 0.12, "R-2": 0.3})
    )
    assert lines["reports sent"] == "2 (1 withdrawn later)"
    assert lines["holds"] == "1" and lines["freezes"] == "1" and lines["releases"] == "0"
    assert lines["distinct command ids"] == "2 (in 3 command records)"
    assert lines["bank acks sent"] == "4 (3 applied, 1 too late)"
    assert lines["dead letters seen"].endswith("1 unexpected)")
    assert (
        lines["fraud cases"].startswith("1 (0 bank_impersonation")
        and "1 revoked" in lines["fraud cases"]
    )
    assert lines["report -> 1st command"].startswith("median 1.5 s, slowest 1.5 s")
    assert lines["report -> watchlist"].startswith("median 0.30 s, slowest 0.30 s (2 reports")
    assert "worker /metrics" not in lines and "FAILED sends" not in lines


def test_the_verdict() -> None:
    assert verdict([], Seen()) == ("no fraud case ran", [])
    kept = Scenario(report_id="R-1")
    assert verdict([kept], Seen())[0] == (
        "every case got each hold and freeze the contract promises"
    )
    missed = Scenario(report_id="R-2", expected_freezes={("HSBKKZKX", "KZ86125KZT5004100100")})
    text, problems = verdict([kept, missed], Seen())
    assert text == "1 promised commands NOT seen:" and len(problems) == 1
