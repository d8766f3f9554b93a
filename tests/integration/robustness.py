"""What the issue-18 reproductions share (tests/integration/test_robustness*.py).

Dedicated workers for the tests that stall or crash one on purpose, bounded waits that
return what arrived instead of raising (so a test can report every broken promise at
once), the facts of a truncated dead letter, and the worker's metrics.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from antifraud.core.timestamps import format_rfc3339
from antifraud.harness.kafka_io import TopicLog
from antifraud.harness.simulation import identifier, make_iban, report
from antifraud.harness.simulation import transfer as make_transfer
from antifraud.harness.worker_process import WorkerProcess
from tests.integration.bus import Bus, about
from tests.integration.conftest import REPORT_KEYS, Broker, isolated_env

TRANSFERS = "antifraud.transfers"
REPORTS = "antifraud.reports"
ACKS = "antifraud.bank-acks"
DEAD = "antifraud.dead-letter"
COMMANDS = "antifraud.bank-commands"

CASPI, HALYK = "CASPKZKA", "HSBKKZKX"
KEPT = 64 * 1024  # a dead letter too large to write keeps this much of its payload
WAIT = 30.0  # seconds, for one expected record on the shared worker


@dataclass(frozen=True)
class Topics:
    """A dedicated worker's contract topics, as conftest.isolated_env names them."""

    transfers: str
    reports: str
    bank_acks: str
    bank_commands: str
    dead_letter: str

    @classmethod
    def of(cls, app_id: str) -> Topics:
        return cls(*(f"{app_id}.{name}" for name in Topics.__dataclass_fields__))


@contextlib.contextmanager
def dedicated_worker(
    broker: Broker, worker_env: dict[str, str], workdir: Path, app_id: str
) -> Iterator[tuple[WorkerProcess, Topics]]:
    """A worker of its own, with the production ack SLA (the suite's 4 s would re-send
    thousands of commands during the busy-account test)."""
    env = isolated_env(worker_env, app_id)
    env.pop("ANTIFRAUD_ACK_SLA_SECONDS", None)
    worker = WorkerProcess(broker.url, workdir, env, name=app_id)
    worker.start(timeout=120)
    try:
        yield worker, Topics.of(app_id)
    finally:
        worker.stop()


def gather(
    reader: TopicLog,
    where: Callable[[dict[str, Any]], bool],
    count: int = 1,
    timeout: float = WAIT,
) -> list[dict[str, Any]]:
    """What matched `where` once `count` arrived or `timeout` passed (never raises)."""
    try:
        return reader.wait_for(where, count, timeout)
    except AssertionError:
        return reader.values(where)


def keyed(key: str) -> Callable[[dict[str, Any]], bool]:
    return lambda letter: letter["source"].get("key") == key


def codes(letters: list[dict[str, Any]]) -> list[str]:
    return sorted({letter["error"]["code"] for letter in letters})


def of_type(kind: str, values: list[str]) -> Callable[[dict[str, Any]], bool]:
    return lambda c: c["type"] == kind and about(values)(c)


def holds_of(transfer_id: str) -> Callable[[dict[str, Any]], bool]:
    return lambda c: c["type"] == "hold_transfer" and c["transfer"]["transfer_id"] == transfer_id


def distinct(commands: list[dict[str, Any]]) -> int:
    return len({c["command_id"] for c in commands})


def payload_of(letter: dict[str, Any]) -> bytes:
    if letter.get("payload_encoding") == "base64":
        return base64.b64decode(letter["payload"])
    return str(letter["payload"]).encode()


def letter_facts(letters: list[dict[str, Any]], raw: bytes) -> dict[str, Any]:
    """What a dead letter for the too-big-to-copy record `raw` says about it."""
    if not letters:
        return {"dead_lettered": False}
    letter = letters[0]
    kept = payload_of(letter)
    return {
        "dead_lettered": True,
        "code": letter["error"]["code"],
        "payload_truncated": letter.get("payload_truncated"),
        "payload_bytes": letter.get("payload_bytes"),
        "payload_sha256": letter.get("payload_sha256"),
        "payload_is_a_prefix_of_at_most_64_KiB": 0 < len(kept) <= KEPT and raw.startswith(kept),
    }


def truncated_letter(code: str, raw: bytes) -> dict[str, Any]:
    """The contract's promise 1: the first 64 KiB, the whole size and the whole SHA-256."""
    return {
        "dead_lettered": True,
        "code": code,
        "payload_truncated": True,
        "payload_bytes": len(raw),
        "payload_sha256": hashlib.sha256(raw).hexdigest(),
        "payload_is_a_prefix_of_at_most_64_KiB": True,
    }


METRIC = re.compile(r"^(antifraud_\w+)\{([^}]*)\} ([0-9.e+-]+)$", re.M)


def metric_sum(worker: WorkerProcess, name: str, labels_contain: str = "") -> float:
    return sum(
        float(value)
        for metric, labels, value in METRIC.findall(worker.metrics())
        if metric == name and labels_contain in labels
    )


def wait_metric(worker: WorkerProcess, name: str, floor: float, timeout: float = WAIT) -> float:
    deadline = time.monotonic() + timeout
    while (value := metric_sum(worker, name)) < floor and time.monotonic() < deadline:
        time.sleep(0.3)
    return value


def ack(command: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {
        "command_id": command["command_id"],
        "bank_id": command["bank_id"],
        "status": "applied",
        "at": format_rfc3339(time.time()),
        **fields,
    }


def payer(base: int, n: int) -> dict[str, str]:
    """Customer `n` of Caspi: the innocent sender of a transfer."""
    return identifier("iban", make_iban("722", base + n))


def pay(
    transfer_id: str, phone: str, n: int, base: int, created_at: float | None = None
) -> dict[str, Any]:
    """A Caspi customer pays the Halyk phone: two holds when the phone is watched."""
    return make_transfer(
        transfer_id,
        CASPI,
        payer(base, n),
        identifier("phone", phone, HALYK),
        1_000_000 + n,
        time.time() if created_at is None else created_at,
    )


def signed_report(report_id: str, accounts: list[dict[str, str]], at: float) -> dict[str, Any]:
    return report(report_id, accounts, at, keys=REPORT_KEYS)


def send_report(bus: Bus, topic: str, report_id: str, phones: list[str], at: float) -> None:
    """A signed report naming Halyk phones."""
    accounts = [identifier("phone", phone, HALYK) for phone in phones]
    bus.send(topic, signed_report(report_id, accounts, at), key=report_id)
    bus.flush()


def send_transfer(bus: Bus, topic: str, record: dict[str, Any]) -> None:
    bus.send(topic, record, key=record["transfer_id"])
    bus.flush()
