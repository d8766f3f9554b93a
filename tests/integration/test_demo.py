"""`antifraud demo` and `antifraud simulate`, run as an operator runs them: as commands."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from antifraud.core.signatures import verify_report
from tests.integration.bus import Bus
from tests.integration.conftest import REPORT_KEYS, Broker, isolated_env

ANTIFRAUD = str(Path(sys.executable).parent / "antifraud")


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The caller's environment without any ANTIFRAUD_ setting, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANTIFRAUD_")}
    return {**env, **(extra or {})}


def summary_value(output: str, label: str) -> str:
    found = re.search(rf"^  {re.escape(label)}\s{{2,}}(.+)$", output, re.MULTILINE)
    assert found, f"no {label!r} line in the summary:\n{output[-3000:]}"
    return found.group(1)


def rows(output: str, kind: str) -> list[str]:
    return re.findall(rf"^  \d\d:\d\d:\d\d  {kind}\s.*$", output, re.MULTILINE)


@pytest.fixture(scope="module")
def demo_output(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str]:
    """One 20-second demo on a fresh embedded broker of its own."""
    done = subprocess.run(
        [ANTIFRAUD, "demo", "--seconds", "20"],
        cwd=tmp_path_factory.mktemp("demo"),
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=180,
    )
    return done.returncode, done.stdout + done.stderr


def test_demo_shows_holds_and_freezes_and_ends_cleanly(demo_output: tuple[int, str]) -> None:
    code, output = demo_output
    assert code == 0, output[-3000:]
    assert rows(output, "hold_transfer"), output[-3000:]
    assert rows(output, "freeze_account"), output[-3000:]
    assert int(summary_value(output, "holds")) > 0
    assert int(summary_value(output, "freezes")) > 0
    held = summary_value(output, "tenge held")
    assert float(held.split(" KZT")[0].replace(",", "")) > 0, held
    assert summary_value(output, "distinct command ids").split()[0] != "0"
    assert "0 unexpected" in summary_value(output, "dead letters seen")
    assert "console, worker and broker stopped" in output


def test_demo_starts_the_case_console_and_prints_its_url_and_token(
    demo_output: tuple[int, str],
) -> None:
    _, output = demo_output
    shown = re.search(r"^  console  (http://127\.0\.0\.1:\d+/cases)  token (\S+)$", output, re.M)
    assert shown, output[-3000:]


def test_demo_sees_every_promised_command(demo_output: tuple[int, str]) -> None:
    _, output = demo_output
    cases = int(summary_value(output, "fraud cases").split()[0])
    assert cases >= 3, output[-3000:]
    assert summary_value(output, "contract check").startswith("every case got"), output[-3000:]
    # reports' accounts listed in a bank's replica of the watchlist, and timed (a report
    # revoked before the replica looked is not timed)
    to_watchlist = summary_value(output, "report -> watchlist")
    timed = re.match(r"median [\d.]+ s, slowest [\d.]+ s \((\d+) reports", to_watchlist)
    assert timed and 1 <= int(timed.group(1)) <= cases, to_watchlist


def test_demo_returns_money_to_victims_on_a_sanctioned_order(demo_output: tuple[int, str]) -> None:
    _, output = demo_output
    assert "police order the money held for" in output, output[-3000:]
    assert rows(output, "return_funds"), output[-3000:]
    assert int(summary_value(output, "cases returned").split()[0]) >= 1
    returned = summary_value(output, "tenge returned")
    assert float(returned.split(" KZT")[0].replace(",", "")) > 0, returned
    acks = re.search(r"(\d+) returned\)", summary_value(output, "bank acks sent"))
    assert acks and int(acks.group(1)) >= 1, summary_value(output, "bank acks sent")
    check = summary_value(output, "contract check")
    assert check.endswith("returned cases got their return_funds, no money returned twice"), check


def test_demo_never_shows_a_whole_account_number(demo_output: tuple[int, str]) -> None:
    _, output = demo_output
    assert not re.search(r"\d{10,}", output), "a 10+ digit run (card, phone or account number)"
    assert not re.search(r"KZ\d\d[0-9A-Z]{16}", output, re.IGNORECASE), "a whole KZ IBAN"
    assert not re.search(r"\+7\d{10}", output), "a whole phone number"
    assert "****" in output


def test_simulate_sends_transfers_and_signed_reports(
    broker: Broker, bus: Bus, worker_env: dict[str, str], tmp_path: Path
) -> None:
    # Its own topics, so the traffic does not reach the session worker the other tests share.
    env = isolated_env(worker_env, "simulate-test")
    done = subprocess.run(
        [
            ANTIFRAUD,
            "simulate",
            "--broker",
            broker.url,
            "--rate",
            "100",
            "--seconds",
            "3",
            "--fraud-every",
            "100",
            "--seed",
            "5",
        ],
        cwd=tmp_path,
        env=clean_env(env),
        capture_output=True,
        text=True,
        timeout=60,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert len(re.findall(r"^\s+\d+ s\s+transfers", output, re.MULTILINE)) >= 2, output
    final = re.search(r"done in [\d.]+ s: (\d+) transfers, (\d+) reports", output)
    assert final, output
    sent_transfers, sent_reports = int(final.group(1)), int(final.group(2))
    assert sent_transfers >= 250 and sent_reports >= 2, output

    transfers = bus.reader(env["ANTIFRAUD_TOPIC_TRANSFERS"])
    transfers.wait_for(lambda _: True, count=sent_transfers, timeout=30)
    transfers.settle(0.5)
    assert len(transfers.values()) == sent_transfers
    assert all(t["currency"] == "KZT" and t["amount"] >= 1 for t in transfers.values())
    transfers.close()

    reports = bus.reader(env["ANTIFRAUD_TOPIC_REPORTS"])
    found = reports.wait_for(lambda _: True, count=sent_reports, timeout=30)
    assert all(verify_report(r, REPORT_KEYS).ok for r in found)
    assert {r["fraud_type"] for r in found} >= {"bank_impersonation", "fake_online_store"}
    reports.close()
