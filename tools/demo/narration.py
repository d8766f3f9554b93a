"""What the demo says while it runs: the story, each report and bad record, each command
and dead letter as it is read, and progress every ten seconds."""

from __future__ import annotations

from typing import Any

from antifraud.harness.simulation import SCHEMES, Scenario
from antifraud.harness.traffic import Counts
from antifraud.tools.demo.screen import COLUMNS, Screen, clock, command_row, masked, tenge


class Narrator:
    def __init__(self, screen: Screen) -> None:
        self.screen = screen

    def intro(self, seconds: float, rate: float, fraud_every: int) -> None:
        screen = self.screen
        length = f"for {seconds:g} s" if seconds else "until Ctrl-C"
        every = fraud_every / rate
        screen.line(
            f"  traffic  {rate:g} transfers/s from 5 banks, a fraud case every {every:.1f} s,"
            f" {length} (Ctrl-C ends it early)"
        )
        screen.line()
        screen.line("The fraud schemes of the seed story, in turn:")
        for scheme, story in SCHEMES.items():
            screen.line(f"  {scheme:<20}{story}")
        screen.line(
            "A case: three victims pay the fraud account, the fraudster moves money on to a mule,"
        )
        screen.line(
            "the police report the account (written the way people write it), the mule sends"
        )
        screen.line(
            "money on again and one more victim pays. Every 5th report is withdrawn by the police;"
        )
        screen.line("for every other case a prosecutor's sanction orders the money returned: held")
        screen.line(
            "transfers go back to their senders, frozen money to the victims the report names."
        )
        screen.line(
            "Banks acknowledge each command (most holds applied, some too late, every return"
        )
        screen.line("carried out). Accounts are shown masked to their last four characters.")
        screen.line()
        screen.row([name for name, _ in COLUMNS], "bold")

    def report(self, case: Scenario, record: dict[str, Any]) -> None:
        action = record.get("action")
        reference = (record.get("sanction") or {}).get("reference", "?")
        if action == "revoke":
            text = (
                f"police withdraw report {case.report_id} (made in error):"
                " what it alone caused must be released"
            )
        elif action == "return":
            text = (
                f"prosecutor's sanction {reference}: police order the money held for"
                f" {case.report_id} returned ({tenge(case.victims_paid)} KZT paid by its victims)"
            )
        elif action == "extend":
            text = (
                f"prosecutor's sanction {reference}: police extend the holds and freezes of"
                f" {case.report_id} to {str(record.get('until', '?'))[:10]}"
            )
        else:
            text = (
                f"police report {case.report_id} ({case.scheme}): {masked(case.account)},"
                " paid by 3 victims, part already sent on to a mule"
            )
        self.screen.line(f"  {clock()}  >> {text}", "note")

    def bad_record(self, kind: str, code: str) -> None:
        what = (
            "a bank sends a transfer to a mistyped IBAN (fails the mod-97 check)"
            if kind == "transfer"
            else "a report arrives signed with a key the police never issued"
        )
        self.screen.line(f"  {clock()}  >> {what}: expect a dead letter ({code})", "note")

    def command(self, command: dict[str, Any], repeat: bool) -> None:
        self.screen.row(command_row(command, repeat), str(command.get("type")))

    def dead_letter(self, value: dict[str, Any], planted: bool) -> None:
        source = value.get("source") or {}
        code = str((value.get("error") or {}).get("code", "?"))
        where = f"{source.get('topic')} p{source.get('partition')} @{source.get('offset')}"
        note = "as expected" if planted else "UNEXPECTED"
        self.screen.line(f"  {clock()}  dead letter     {code} from {where} ({note})", "dead")

    def progress(self, elapsed: float, counts: Counts, commands: int) -> None:
        acks = counts.acks
        self.screen.line(
            f"  .. {elapsed:.0f} s: {counts.transfers} transfers,"
            f" {counts.reports} police reports, {commands} commands,"
            f" {sum(acks.values())} bank acks ({acks['applied']} applied,"
            f" {acks['too_late']} too late, {acks['returned']} returned)",
            "dim",
        )

    def draining(self) -> None:
        self.screen.line("  .. traffic stopped; waiting for the last cases' commands", "dim")
