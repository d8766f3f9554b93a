"""The demo's closing summary: what was sent, what came back, and the contract check."""

from __future__ import annotations

import contextlib
from collections import Counter

from antifraud.harness.simulation import SCHEMES, Scenario
from antifraud.harness.traffic import Counts
from antifraud.tools.demo.contract import (
    Seen,
    beneficiary_account,
    contract_problems,
    held_transfers,
    returns_by_report,
)
from antifraud.tools.demo.screen import Screen, tenge


def worker_figures(text: str) -> dict[str, float]:
    """Sums of a few of the worker's Prometheus counters, over all their labels."""
    wanted = {
        "antifraud_commands_total",
        "antifraud_dead_letters_total",
        "antifraud_acks_total",
        "antifraud_held_amount_tenge_total",
        "antifraud_escaped_amount_tenge_total",
        "antifraud_returned_amount_tenge_total",
        "antifraud_overdue_commands_total",
    }
    out: dict[str, float] = dict.fromkeys(wanted, 0.0)
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        name = line.split("{", 1)[0].split(" ", 1)[0]
        if name in wanted:
            with contextlib.suppress(ValueError):
                out[name] += float(line.rsplit(" ", 1)[1])
    return out


def summary_lines(
    counts: Counts,
    seen: Seen,
    cases: list[Scenario],
    figures: dict[str, float],
    first_command: dict[str, float],
    to_watchlist: dict[str, float] | None = None,
) -> list[tuple[str, str]]:
    """(label, text) a line. `figures`: the worker's counters (`worker_figures`);
    `first_command`: report id -> seconds from sending the report to reading its first command;
    `to_watchlist`: report id -> seconds from sending it to its entry in a bank's replica.
    """
    held = held_transfers(seen)
    returns = seen.of_type("return_funds")
    by_report = returns_by_report(seen)
    ordered = sum(1 for c in cases if c.return_ordered)
    returned = sum(1 for c in cases if by_report.get(c.report_id))
    victims = set().union(*(c.victim_accounts for c in cases))
    to_victims = sum(
        int(c.get("amount", 0)) for c in returns if beneficiary_account(c).get("value") in victims
    )
    acks = counts.acks
    planted = sum(1 for d in seen.dead_letters if d.get("_planted"))
    revoked = sum(1 for c in cases if c.revoked)
    by_scheme = Counter(c.scheme for c in cases)
    lines = [
        ("transfers sent", f"{counts.transfers}"),
        ("reports sent", f"{counts.reports} ({counts.revocations} withdrawn later)"),
        ("bad records sent", f"{counts.bad_records} (on purpose: each must be dead-lettered)"),
        (
            "fraud cases",
            f"{len(cases)} ("
            + ", ".join(f"{by_scheme[s]} {s}" for s in SCHEMES)
            + f"; {revoked} revoked)",
        ),
        ("holds", f"{len(seen.of_type('hold_transfer'))}"),
        ("freezes", f"{len(seen.of_type('freeze_account'))}"),
        ("releases", f"{len(seen.of_type('release'))}"),
        (
            "extends",
            f"{len(seen.of_type('extend'))} (on {counts.extensions} sanctioned extend orders)",
        ),
        (
            "tenge held",
            f"{tenge(sum(held.values()))} KZT on {len(held)} transfers"
            " (a transfer held at both its banks counts once; released holds excluded)",
        ),
        (
            "cases returned",
            f"{returned} of the {ordered} whose return a prosecutor sanctioned"
            f" ({counts.returns} return orders sent)",
        ),
        (
            "tenge returned",
            f"{tenge(sum(int(c.get('amount', 0)) for c in returns))} KZT by {len(returns)}"
            f" return_funds commands, {tenge(to_victims)} KZT of it to the victims"
            " (a held transfer goes back to its sender, frozen money to the report's victims)",
        ),
        (
            "distinct command ids",
            f"{len(seen.commands)} (in {len(seen.commands) + seen.repeats} command records)",
        ),
        (
            "bank acks sent",
            f"{sum(acks.values())} ({acks['applied']} applied, {acks['too_late']} too late,"
            f" {acks['returned']} returned)",
        ),
        (
            "dead letters seen",
            f"{len(seen.dead_letters)} ({planted} for the bad records the demo sent,"
            f" {len(seen.dead_letters) - planted} unexpected)",
        ),
    ]
    if counts.failed_sends:
        lost = f"{counts.failed_sends} records never reached the broker"
        lines.append(("FAILED sends", lost))
    if figures:
        f = figures
        lines.append(
            (
                "worker /metrics",
                f"{f['antifraud_commands_total']:.0f} commands,"
                f" {f['antifraud_acks_total']:.0f} acks recorded,"
                f" {f['antifraud_held_amount_tenge_total']:,.2f} KZT held per bank acks,"
                f" {f['antifraud_escaped_amount_tenge_total']:,.2f} KZT escaped,"
                f" {f['antifraud_returned_amount_tenge_total']:,.2f} KZT returned,"
                f" {f['antifraud_dead_letters_total']:.0f} dead letters",
            )
        )
    if first_command:
        waits = sorted(first_command.values())
        lines.append(
            (
                "report -> 1st command",
                f"median {waits[len(waits) // 2]:.1f} s, slowest {waits[-1]:.1f} s"
                " (from sending the report to seeing its first command)",
            )
        )
    if to_watchlist:
        waits = sorted(to_watchlist.values())
        lines.append(
            (
                "report -> watchlist",
                f"median {waits[len(waits) // 2]:.2f} s, slowest {waits[-1]:.2f} s"
                f" ({len(waits)} reports: from sending the report to its account's entry"
                " in a bank's replica)",
            )
        )
    return lines


def verdict(cases: list[Scenario], seen: Seen) -> tuple[str, list[str]]:
    """The contract check's line, and the promises that were not kept: commands not seen,
    money returned twice."""
    problems = contract_problems(cases, seen)
    if not cases:
        return "no fraud case ran", problems
    if problems:
        return f"{len(problems)} promises NOT kept:", problems
    revoked = any(c.revoked for c in cases)
    returned = any(c.return_ordered for c in cases)
    return (
        f"every case got each hold and freeze the contract promises"
        f"{'; revoked cases fully released' if revoked else ''}"
        f"{'; returned cases got their return_funds, no money returned twice' if returned else ''}"
    ), problems


def show_summary(
    screen: Screen,
    counts: Counts,
    seen: Seen,
    cases: list[Scenario],
    figures: dict[str, float],
    first_command: dict[str, float],
    to_watchlist: dict[str, float] | None = None,
) -> None:
    screen.line()
    screen.line("summary", "bold")
    for label, text in summary_lines(counts, seen, cases, figures, first_command, to_watchlist):
        screen.line(f"  {label:<22}{text}")
    check, problems = verdict(cases, seen)
    screen.line(f"  {'contract check':<22}{check}", "bold" if problems else "")
    for problem in problems[:20]:
        screen.line(f"    {problem}")
    if len(problems) > 20:
        screen.line(f"    ... and {len(problems) - 20} more")
