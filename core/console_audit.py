"""The audit trail as the case console checks it, record by record (pure).

`AuditWatch` verifies every chain of the audit topic as its records arrive (the same rule
as `verify_chain`, one link at a time, so memory stays one head per chain) and remembers
which chain positions speak of which report: a `report` entry names it, a `command` entry
lists it in `report_ids`, an `ack` entry names a command of it. A case's chain is intact
when every chain holding one of its entries verified, from its first record read to its
last, without a broken link.

A chain whose first record read is not seq 0 (retention removed older records, or someone
deleted them: the topic alone cannot tell) is checked from there on, as
`verify_chain(start_seq=..., start_prev_hash=...)` does from a checkpoint, and the verdict
says from which seq (`from_seq`); the page shows that as a warning, not as intact.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from antifraud.core.audit_chain import ChainVerdict, verify_chain


@dataclass
class ChainState:
    first_seq: int
    next_seq: int
    last_hash: str
    checked: int = 0
    broken: ChainVerdict | None = None


@dataclass(frozen=True, slots=True)
class CaseAudit:
    """The verdict for one case: `entries` found in `chains`, intact or the first break."""

    entries: int
    chains: tuple[str, ...]
    intact: bool
    broken: tuple[str, ...]  # "chain-3: bad_hash at seq 17"
    from_seq: tuple[str, ...]  # chains checked from a later start than seq 0


@dataclass
class AuditWatch:
    chains: dict[str, ChainState] = field(default_factory=dict)
    report_chains: dict[str, set[str]] = field(default_factory=dict)
    report_entries: dict[str, int] = field(default_factory=dict)
    command_reports: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def add(self, raw: bytes | None, key: str, partition: int) -> None:
        """One record of the audit topic. Its chain is the one it names, else its key (the
        worker keys each record by its chain), else its partition's."""
        try:
            record = orjson.loads(raw or b"")
        except orjson.JSONDecodeError:
            record = None
        chain_id = key or f"partition-{partition}"
        if isinstance(record, dict) and isinstance(record.get("chain"), str):
            chain_id = record["chain"]
        self._verify(chain_id, record)
        if isinstance(record, dict) and isinstance(record.get("entry"), dict):
            for report_id in self._reports_of(record["entry"]):
                self.report_chains.setdefault(report_id, set()).add(chain_id)
                self.report_entries[report_id] = self.report_entries.get(report_id, 0) + 1

    def _verify(self, chain_id: str, record: Any) -> None:
        state = self.chains.get(chain_id)
        if state is None:
            seq = record.get("seq") if isinstance(record, dict) else None
            prev = record.get("prev_hash") if isinstance(record, dict) else None
            if not isinstance(seq, int) or isinstance(seq, bool) or not isinstance(prev, str):
                seq, prev = 0, "0" * 64
            state = self.chains[chain_id] = ChainState(seq, seq, prev)
        if state.broken is not None:
            return  # nothing after the first break can be trusted; it is already reported
        verdict = verify_chain([record], start_seq=state.next_seq, start_prev_hash=state.last_hash)
        if not verdict.intact:
            state.broken = ChainVerdict(
                False, state.checked, verdict.first_broken_seq, verdict.reason
            )
            return
        state.next_seq += 1
        state.last_hash = record["hash"]
        state.checked += 1

    def _reports_of(self, entry: Mapping[str, Any]) -> tuple[str, ...]:
        kind = entry.get("kind")
        if kind == "report" and isinstance(entry.get("report_id"), str):
            return (entry["report_id"],)
        if kind == "command" and isinstance(entry.get("command"), Mapping):
            command = entry["command"]
            reports = tuple(r for r in command.get("report_ids", ()) if isinstance(r, str))
            if isinstance(command.get("command_id"), str):
                self.command_reports[command["command_id"]] = reports
            return reports
        if isinstance(entry.get("command_id"), str):  # an ack, a re-send, a refusal
            return self.command_reports.get(entry["command_id"], ())
        if kind == "console_reveal" and isinstance(entry.get("report_id"), str):
            return (entry["report_id"],)
        return ()

    def case(self, report_id: str) -> CaseAudit:
        chains = tuple(sorted(self.report_chains.get(report_id, ())))
        broken = tuple(
            f"{c}: {b.reason} at seq {b.first_broken_seq}"
            for c in chains
            if (b := self.chains[c].broken) is not None
        )
        later = tuple(
            f"{c} from seq {self.chains[c].first_seq}" for c in chains if self.chains[c].first_seq
        )
        return CaseAudit(
            entries=self.report_entries.get(report_id, 0),
            chains=chains,
            intact=not broken,
            broken=broken,
            from_seq=later,
        )
