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
    assert lines["bank acks sent"] == "4 (3 applied, 1 too late, 0 returned)"
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
    assert text == "1 promises NOT kept:" and len(problems) == 1
    returned = Scenario(report_id="R-3", return_ordered=True)
    back = {"type": "return_funds", "returns": "f1", "amount": 5, "report_ids": ["R-3"]}
    assert verdict([kept, returned], Seen(commands={"x1": back}))[0] == (
        "every case got each hold and freeze the contract promises;"
        " returned cases got their return_funds, no money returned twice"
    )
    assert verdict([returned], Seen())[0] == "1 promises NOT kept:"


def test_summary_lines_count_the_cases_returned_and_the_money_given_back() -> None:
    counts = Counts(reports=3, returns=2, extensions=1)
    counts.acks.update({"applied": 5, "returned": 3})

    def back(report_id: str, amount: int, to: str) -> dict[str, object]:
        return {
            "type": "return_funds",
            "amount": amount,
            "report_ids": [report_id],
            "beneficiary": {"account": {"kind": "phone", "value": to}, "bank_id": "CASPKZKA"},
        }

    seen = Seen(
        commands={
            "x1": back("R-1", 250_000_00, "+77010000001"),
            "x2": back("R-1", 12_345_67, "+77010000009"),  # a held mule transfer, to its sender
            "x3": back("R-3", 1_00, "+77010000003"),
            "e1": {"type": "extend", "report_ids": ["R-2"]},
        }
    )
    cases = [
        Scenario(report_id="R-1", return_ordered=True, victim_accounts={"+77010000001"}),
        Scenario(report_id="R-2", extended=True),
        Scenario(report_id="R-3", return_ordered=True, victim_accounts={"+77010000003"}),
        Scenario(report_id="R-4", return_ordered=True),  # its return_funds not seen
    ]
    figures = dict.fromkeys(worker_figures(""), 0.0)
    figures["antifraud_returned_amount_tenge_total"] = 262_346.67
    lines = dict(summary_lines(counts, seen, cases, figures, {}))
    assert lines["cases returned"] == (
        "2 of the 3 whose return a prosecutor sanctioned (2 return orders sent)"
    )
    assert lines["tenge returned"].startswith(
        "262,346.67 KZT by 3 return_funds commands, 250,001.00 KZT of it to the victims"
    )
    assert lines["extends"] == "1 (on 1 sanctioned extend orders)"
    assert lines["bank acks sent"] == "8 (5 applied, 0 too late, 3 returned)"
    assert "262,346.67 KZT returned," in lines["worker /metrics"]
