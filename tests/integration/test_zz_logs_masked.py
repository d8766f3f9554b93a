"""Runs last in the integration suite (file name): no full identifier in any worker log.

Every earlier integration test drove real identifiers through the session worker; its log
must show at most the last four characters of any IBAN, card or phone number.
"""

from __future__ import annotations

import re

from antifraud.harness.worker_process import WorkerProcess

UNMASKED = [
    re.compile(r"KZ[0-9]{2}[0-9A-Z]{16}"),  # a KZ IBAN
    re.compile(r"(?<![0-9a-f.])[0-9]{13,19}(?![0-9a-f])"),  # a card number (not a float)
    re.compile(r"\+7[0-9]{10}"),  # a phone in E.164
    # domestic phone; not digits inside a hex command id or audit hash
    re.compile(r"(?<![0-9a-f])8 ?7[0-9]{2} ?[0-9]{3} ?[0-9]{2} ?[0-9]{2}(?![0-9a-f])"),
]


def test_worker_log_has_no_unmasked_identifier(worker: WorkerProcess) -> None:
    text = worker.log_path.read_text(errors="replace")
    assert "event=command" in text, "the suite should have made the worker log commands"
    leaks = [m.group(0) for pattern in UNMASKED for m in pattern.finditer(text)]
    assert leaks == [], f"unmasked identifiers in {worker.log_path}: {leaks[:5]}"
