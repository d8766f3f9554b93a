"""The case console as a person uses it: headless Chromium against a real console, worker
and broker, all started here (issue 17).

One case with a mule chain (victim -> reported account -> hop 1 -> hop 2), the banks'
acks (one hold too late: money escaped), then the browser: the case is listed, its page
shows every account of the trail with its hop and amounts (masked), the SVG export is SVG,
a wrong token gets 401, an unknown report 404, a malformed case-status record shows as
unreadable while the pages still work, and a reveal lands in the audit trail.

Debian's chromium, driven through Playwright's Python package (`make system-deps`
installs the browser; `playwright install` is never needed). Screenshots of both pages
go to the test's tmp dir; set ANTIFRAUD_README_SCREENSHOT=docs/console-case.png to
refresh the README's picture.
"""

from __future__ import annotations

import os
import shutil
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from antifraud.core.identifiers import mask
from antifraud.core.timestamps import format_rfc3339
from antifraud.harness import simulation
from antifraud.harness.console_process import ConsoleProcess
from antifraud.harness.simulation import identifier, make_card, make_iban, make_phone, report
from antifraud.harness.simulation import transfer as transfer_record
from antifraud.harness.worker_process import WorkerProcess
from antifraud.tools.console.money import money
from tests.integration.bus import Bus
from tests.integration.conftest import REPORT_KEYS, Broker

playwright_api = pytest.importorskip("playwright.sync_api")

TRANSFERS, REPORTS, ACKS = "antifraud.transfers", "antifraud.reports", "antifraud.bank-acks"
COMMANDS, CASE_STATUS, AUDIT = "antifraud.bank-commands", "antifraud.case-status", "antifraud.audit"
HALYK, CASPI, FORTE, JUSAN = "HSBKKZKX", "CASPKZKA", "IRTYKZKA", "TSESKZKA"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WAIT = 30.0  # seconds: a bound for each wait, not a timing assertion
SHOW_MS = 20_000  # how long the browser waits for the console to catch up


@pytest.fixture(scope="session")
def lane(request: pytest.FixtureRequest) -> None:
    # Session-scoped and first in the test's arguments, so it is asked before the session's
    # broker and worker start: on the other lane nothing is started for this test.
    if request.config.getoption("--broker") != "embedded":
        pytest.skip("the console is a reader like any other: one lane (embedded) is enough")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make system-deps` (scripts/console-deps)")


@pytest.fixture
def console(lane: None, broker: Broker, tmp_path: Path) -> Iterator[ConsoleProcess]:
    process = ConsoleProcess(
        broker.url, tmp_path, token="view-token-for-tests", reveal_token="reveal-token-for-tests"
    )
    process.start()
    yield process
    process.stop()


def plain(account: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in account.items() if k != "bank_id"}


def pay(bus: Bus, tid: str, sender: dict[str, str], to: dict[str, str], amount: int) -> None:
    record = transfer_record(tid, sender["bank_id"], plain(sender), to, amount, time.time() - 30)
    bus.send(TRANSFERS, record, key=tid)
    bus.flush()


def ack(bus: Bus, command: dict[str, Any], status: str, held: int | None = None) -> None:
    value: dict[str, Any] = {
        "command_id": command["command_id"],
        "bank_id": command["bank_id"],
        "status": status,
        "at": format_rfc3339(time.time()),
    }
    if held is not None:
        value["amount_held"] = held
    bus.send(ACKS, value, key=command["command_id"])


def run_mule_chain(bus: Bus, serial: int) -> tuple[str, dict[str, Any], list[str]]:
    """The case: returns its id, its final case status and the accounts' full values."""
    victim = identifier("iban", make_iban("998", 70_000_000 + serial), JUSAN)
    fraud = identifier("phone", make_phone(serial + 71), HALYK)
    mule1 = identifier("iban", make_iban("722", 71_000_000 + serial), CASPI)
    mule2 = identifier("card", make_card(serial + 72), FORTE)
    report_id = f"R-console-{serial}"
    commands, statuses = bus.reader(COMMANDS), bus.reader(CASE_STATUS)
    pay(bus, f"T-cv-{serial}", victim, fraud, 5_000_000)
    lost = [simulation.victim(victim, 5_000_000)]
    record = report(report_id, [plain(fraud)], time.time(), keys=REPORT_KEYS, victims=lost)
    bus.send(REPORTS, record, key=report_id)
    bus.flush()
    pay(bus, f"T-c1-{serial}", fraud, mule1, 3_000_000)
    pay(bus, f"T-c2-{serial}", mule1, mule2, 1_000_000)
    values = [fraud["value"], mule1["value"], mule2["value"]]
    mine = commands.wait_for(lambda c: report_id in c.get("report_ids", ()), 9, timeout=WAIT)
    for command in {c["command_id"]: c for c in mine}.values():
        account = command["account"]["value"]
        if command["type"] == "freeze_account":
            if account != mule2["value"]:
                ack(bus, command, "applied", 200_000 if account == fraud["value"] else 500_000)
        elif account == mule1["value"]:
            ack(bus, command, "too_late")  # the money moved on before the bank could hold it
        else:
            ack(bus, command, "applied", command["amount"])
    bus.flush()
    final = statuses.wait_for(
        lambda s: (
            s["report_id"] == report_id
            and s["totals"]["amount_held"] == 6_700_000
            and s["totals"]["amount_escaped"] == 3_000_000
        ),
        timeout=WAIT,
    )[-1]
    commands.close()
    statuses.close()
    return report_id, final, values


def browser_context(browser: Any, token: str) -> Any:
    return browser.new_context(
        extra_http_headers={"Authorization": f"Bearer {token}"},
        viewport={"width": 1400, "height": 1000},
    )


def test_console_in_a_browser(
    lane: None,
    console: ConsoleProcess,
    worker: WorkerProcess,
    bus: Bus,
    serial: int,
    tmp_path: Path,
) -> None:
    started = time.monotonic()
    report_id, status, values = run_mule_chain(bus, serial)
    hops = {entry["account"]["value"]: entry for entry in status["accounts"]}
    assert {v: hops[v]["hop"] for v in values} == dict(zip(values, [0, 1, 2], strict=True))
    broken_id = f"R-console-unreadable-{serial}"

    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser_context(browser, console.token).new_page()
            # The list: the case; then a malformed record arrives while the page is open, and
            # shows up by itself (the page refreshes itself), unreadable, beside the case.
            response = page.goto(f"{console.url}/cases")
            assert response is not None and response.status == 200
            row = page.locator(f"tr.case[data-report='{report_id}']")
            row.wait_for(timeout=SHOW_MS)
            malformed = b'{"report_id": "' + broken_id.encode() + b'", "status": 7'
            bus.send(CASE_STATUS, malformed, broken_id)
            bus.flush()
            page.locator(f"tr.case[data-report='{broken_id}']").wait_for(timeout=SHOW_MS)
            page.wait_for_function(
                "([id, held]) => [...document.querySelectorAll('tr.case')].some("
                "r => r.dataset.report === id && r.innerText.includes(held))",
                arg=[report_id, money(6_700_000)],
                timeout=SHOW_MS,
            )
            assert "bank_impersonation" in row.inner_text()
            assert "unreadable" in page.locator(f"tr.case[data-report='{broken_id}']").inner_text()
            page.screenshot(path=str(tmp_path / "cases.png"), full_page=True)
            # The filters, as the form sends them.
            for query, listed in (
                ("status=holding&fraud_type=bank_impersonation", True),
                ("status=returned", False),
                ("fraud_type=fake_investment", False),
                ("since=2000-01-01&until=2000-01-02", False),
            ):
                page.goto(f"{console.url}/cases?{query}")
                assert page.locator(f"tr.case[data-report='{report_id}']").count() == listed, query
                assert page.locator(f"tr.case[data-report='{broken_id}']").count() == 0, query

            # The case: every account of the trail with its hop and amounts, masked.
            response = page.goto(f"{console.url}/cases/{report_id}")
            assert response is not None and response.status == 200
            page.locator("#audit .ok").wait_for(timeout=SHOW_MS)
            html = page.content()
            for value in values:
                entry = hops[value]
                cell = page.locator("td.acct", has_text=mask(value))
                shown = page.locator("tr.account").filter(has=cell)
                assert shown.count() == 1, value
                assert shown.get_attribute("data-hop") == str(entry["hop"])
                assert shown.locator("td.held").inner_text() == money(entry["amount_held"])
                assert shown.locator("td.escaped").inner_text() == money(entry["amount_escaped"])
                in_graph = page.locator(
                    ".trail svg g.node[id^='account-'] text", has_text=mask(value)
                )
                assert in_graph.count() == 1, value
                assert value not in html  # masked by default
            assert page.locator("#timeline tr.command").count() == 9
            assert page.locator("#timeline tr.ack").count() == 8
            page.screenshot(path=str(tmp_path / "case.png"), full_page=True)
            # The README's picture: the summary, the trail and the accounts.
            box = page.locator("#accounts").bounding_box()
            assert box is not None
            top = {"x": 0, "y": 0, "width": 1400, "height": box["y"] + box["height"] + 16}
            page.screenshot(path=str(tmp_path / "case-top.png"), clip=top)  # type: ignore[arg-type]

            # The SVG export, as the case file gets it.
            exported = page.request.get(f"{console.url}/cases/{report_id}/trail.svg")
            assert exported.status == 200
            assert exported.headers["content-type"].startswith("image/svg+xml")
            assert ET.fromstring(exported.body()).tag == "{http://www.w3.org/2000/svg}svg"

            # Bad input: an unknown report, the malformed record's own page.
            missing = page.goto(f"{console.url}/cases/R-no-such-report-{serial}")
            assert missing is not None and missing.status == 404
            assert "not found" in page.inner_text("h1").lower()
            unreadable = page.goto(f"{console.url}/cases/{broken_id}")
            assert unreadable is not None and unreadable.status == 200
            assert "unreadable" in page.inner_text("#unreadable")

            # A wrong token, and none at all (as a script would ask: a browser given no
            # credential would prompt for Basic auth, which a headless one cannot answer).
            stranger = playwright.request.new_context()
            for header in ({"Authorization": "Bearer not-the-token"}, {}):
                for path in ("/cases", f"/cases/{report_id}", f"/cases/{report_id}/trail.svg"):
                    denied = stranger.get(f"{console.url}{path}", headers=header)
                    assert denied.status == 401, (path, header)
                    assert report_id not in denied.text()
            stranger.dispose()

            # The view token may not reveal; the reveal token may, and the trail records it.
            assert page.goto(f"{console.url}/cases/{report_id}?reveal=1").status == 403  # type: ignore[union-attr]
            audit = bus.reader(AUDIT)
            revealer = browser_context(browser, "reveal-token-for-tests").new_page()
            revealed = revealer.goto(f"{console.url}/cases/{report_id}?reveal=1")
            assert revealed is not None and revealed.status == 200
            assert all(value in revealer.content() for value in values)
            audit.wait_for(
                lambda r: (
                    r["entry"].get("kind") == "console_reveal"
                    and r["entry"].get("report_id") == report_id
                ),
                timeout=WAIT,
            )
            audit.close()
        finally:
            browser.close()
    took = time.monotonic() - started
    print(f"console browser test: {took:.1f} s after the worker and console were up")
    readme_copy = os.environ.get("ANTIFRAUD_README_SCREENSHOT")
    if readme_copy:
        shutil.copyfile(tmp_path / "case-top.png", readme_copy)
