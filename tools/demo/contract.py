"""What the demo read back, and what the contract promised for each case that it did not see."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from antifraud.core.identifiers import mask
from antifraud.harness.simulation import Scenario


@dataclass
class Seen:
    """Everything read back from the platform's output topics."""

    records: int = 0
    commands: dict[str, dict[str, Any]] = field(default_factory=dict)  # command_id -> command
    repeats: int = 0
    dead_letters: list[dict[str, Any]] = field(default_factory=list)
    last_at: float = 0.0

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [c for c in self.commands.values() if c.get("type") == kind]


def held_transfers(seen: Seen) -> dict[tuple[str, str], int]:
    """Transfers with a hold still in force: (sending bank, transfer_id) -> amount.

    A transfer held at both its banks counts once; a hold later released does not count.
    """
    released = {str(c.get("releases")) for c in seen.of_type("release")}
    out: dict[tuple[str, str], int] = {}
    for command_id, command in seen.commands.items():
        if command.get("type") != "hold_transfer" or command_id in released:
            continue
        ref = command.get("transfer") or {}
        out[(str(ref.get("bank_id")), str(ref.get("transfer_id")))] = int(command.get("amount", 0))
    return out


def contract_problems(cases: list[Scenario], seen: Seen) -> list[str]:
    """What the contract promised for each case and was not seen (masked, one line each)."""
    holds = {
        (c.get("bank_id"), (c.get("transfer") or {}).get("bank_id"), c["transfer"]["transfer_id"])
        for c in seen.of_type("hold_transfer")
        if c.get("transfer")
    }
    freezes = {
        (c.get("bank_id"), (c.get("account") or {}).get("value"))
        for c in seen.of_type("freeze_account")
    }
    released = {str(c.get("releases")) for c in seen.of_type("release")}
    problems = []
    for case in cases:
        for bank, sender, transfer_id in sorted(case.expected_holds - holds):
            problems.append(
                f"{case.report_id}: no hold_transfer to {bank} for transfer {transfer_id}"
                f" (sent by {sender})"
            )
        for bank, value in sorted(case.expected_freezes - freezes):
            problems.append(f"{case.report_id}: no freeze_account to {bank} for {mask(value)}")
        if case.revoked:
            caused = [
                command_id
                for command_id, c in seen.commands.items()
                if c.get("type") != "release" and case.report_id in (c.get("report_ids") or [])
            ]
            unreleased = [command_id for command_id in caused if command_id not in released]
            if unreleased:
                problems.append(
                    f"{case.report_id} was revoked but {len(unreleased)} of the {len(caused)}"
                    " commands it caused were not released"
                )
    return problems
