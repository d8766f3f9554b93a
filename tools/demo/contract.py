"""What the demo read back, and what the contract promised for each case that it did not see."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from antifraud.core.identifiers import mask
from antifraud.harness.simulation import Scenario
from antifraud.tools.demo.screen import masked, tenge


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


def returns_by_report(seen: Seen) -> dict[str, list[dict[str, Any]]]:
    """The `return_funds` commands seen (one per command id), by each report they name."""
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for command in seen.of_type("return_funds"):
        for report_id in command.get("report_ids") or []:
            out[str(report_id)].append(command)
    return dict(out)


def beneficiary_account(command: dict[str, Any]) -> dict[str, Any]:
    """The account a `return_funds` pays (`{}` when the command names none)."""
    return ((command.get("beneficiary") or {}).get("account")) or {}


def returned_twice(seen: Seen) -> list[str]:
    """Held money returned more than once (masked, one line each): a transfer's money by more
    than one `return_funds`, the same hold or freeze (`returns`) to the same beneficiary more
    than once, or more than a hold's transfer from it. The demo's banks never answer `failed`,
    so no return is ever re-issued under a new id: any second command is a double return."""
    by_transfer: dict[tuple[str, str], list[str]] = defaultdict(list)
    by_source: dict[tuple[str, str, str, str], list[str]] = defaultdict(list)
    from_hold: dict[str, int] = defaultdict(int)
    for command in seen.of_type("return_funds"):
        command_id, source = str(command.get("command_id")), str(command.get("returns"))
        ref = command.get("transfer")
        if ref:
            by_transfer[(str(ref.get("bank_id")), str(ref.get("transfer_id")))].append(command_id)
            from_hold[source] += int(command.get("amount", 0))
        account = beneficiary_account(command)
        kind, value = str(account.get("kind")), str(account.get("value"))
        bank = str((command.get("beneficiary") or {}).get("bank_id"))
        by_source[(source, bank, kind, value)].append(command_id)
    problems = [
        f"transfer {transfer_id} (sent by {bank}) returned by {len(ids)} return_funds commands"
        for (bank, transfer_id), ids in sorted(by_transfer.items())
        if len(ids) > 1
    ]
    problems += [
        f"the money held by command {source[:12]} returned {len(ids)} times to"
        f" {masked({'kind': kind, 'value': value})} at {bank}"
        for (source, bank, kind, value), ids in sorted(by_source.items())
        if len(ids) > 1
    ]
    for source, amount in sorted(from_hold.items()):
        hold = seen.commands.get(source)
        if hold is not None and amount > int(hold.get("amount", 0)):
            problems.append(
                f"{tenge(amount)} KZT returned from hold {source[:12]}, which held at most"
                f" {tenge(int(hold.get('amount', 0)))} KZT"
            )
    return problems


def contract_problems(cases: list[Scenario], seen: Seen) -> list[str]:
    """What the contract promised for each case and was not seen, and money returned twice
    (masked, one line each)."""
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
    returned = returns_by_report(seen)
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
        if case.return_ordered and not returned.get(case.report_id):
            problems.append(f"{case.report_id}: a return was ordered but no return_funds came")
    return problems + returned_twice(seen)
