"""The console's routes without a broker: credentials, masking, audited reveals, bad input.

The view is filled by hand (what the feed would read), the audit writer is a stand-in and
the SVG renderer too (Graphviz's own output is tested in test_trail_svg.py)."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Awaitable, Callable
from typing import Any

import graphviz
import orjson
from aiohttp.test_utils import TestClient, TestServer

from antifraud.core.console_trail import Trail
from antifraud.tools.console.feed import ConsoleView
from antifraud.tools.console.web import Access, Console

PHONE = "+77011234567"
HOSTILE = "<script>alert(1)</script>"
VIEW_TOKEN, REVEAL_TOKEN = "view-token", "reveal-token"


def case_status(report_id: str) -> bytes:
    return orjson.dumps(
        {
            "report_id": report_id,
            "status": "holding",
            "updated_at": "2026-11-29T09:05:03Z",
            "accounts": [
                {
                    "account": {"kind": "phone", "value": PHONE},
                    "hop": 0,
                    "via": None,
                    "banks": ["HSBKKZKX"],
                    "holds": 1,
                    "freezes": 1,
                    "amount_held": 25_000_000,
                    "amount_escaped": 0,
                    "amount_returned": 0,
                    "expires_at": None,
                }
            ],
            "totals": {"accounts": 1, "commands": 2, "acked": 1, "amount_held": 25_000_000,
                       "amount_escaped": 0, "amount_returned": 0, "amount_lost": 0},
        }
    )  # fmt: skip


class Reveals:
    """Stands in for `RevealLog`: remembers each entry, or fails like a broker that is away."""

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.written: list[tuple[str, str]] = []

    def write(self, report_id: str, route: str, peer: str) -> None:
        if self.fail:
            raise TimeoutError("no broker")
        self.written.append((report_id, route))


def fake_svg(trail: Trail, title: str) -> bytes:
    shown = " ".join(node.shown for node in trail.nodes)
    return f'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><text>{shown}</text></svg>'.encode()


def view() -> ConsoleView:
    console_view = ConsoleView()
    book = console_view.book
    book.add_case_status("R-1", case_status("R-1"), 0.0)
    book.add_case_status(HOSTILE, case_status(HOSTILE), 0.0)
    book.add_case_status("R-broken", b'{"report_id": "R-broken"', 0.0)
    return console_view


def run(
    check: Callable[[TestClient[Any, Any], Reveals], Awaitable[None]], fail: bool = False
) -> Reveals:
    reveals = Reveals(fail)
    console = Console(view(), Access(VIEW_TOKEN, REVEAL_TOKEN), reveals, fake_svg)  # type: ignore[arg-type]

    async def go() -> None:
        async with TestClient(TestServer(console.app())) as client:
            await check(client, reveals)

    asyncio.run(go())
    return reveals


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_every_route_needs_the_token() -> None:
    async def check(client: TestClient[Any, Any], _: Reveals) -> None:
        for path in ("/cases", "/cases/R-1", "/cases/R-1/trail.svg", "/cases/nope"):
            for headers in ({}, bearer("wrong"), {"Authorization": "Token view-token"}):
                response = await client.get(path, headers=headers)
                assert response.status == 401, (path, headers)
                assert "R-1" not in await response.text()
                assert any("Basic" in h for h in response.headers.getall("WWW-Authenticate"))
            basic = base64.b64encode(f"anyone:{VIEW_TOKEN}".encode()).decode()
            response = await client.get(path, headers={"Authorization": f"Basic {basic}"})
            assert response.status in (200, 404), path

    run(check)


def test_numbers_masked_by_default_values_escaped_bad_records_unreadable() -> None:
    async def check(client: TestClient[Any, Any], _: Reveals) -> None:
        listing = await (await client.get("/cases", headers=bearer(VIEW_TOKEN))).text()
        assert "R-1" in listing and "unreadable" in listing
        assert HOSTILE not in listing and "&lt;script&gt;" in listing
        page = await client.get("/cases/R-1", headers=bearer(VIEW_TOKEN))
        text = await page.text()
        assert page.status == 200 and PHONE not in text and "********4567" in text
        assert "reveal account numbers" not in text  # the view role is not offered it
        svg = await client.get("/cases/R-1/trail.svg", headers=bearer(VIEW_TOKEN))
        assert svg.content_type == "image/svg+xml" and PHONE.encode() not in await svg.read()
        broken = await client.get("/cases/R-broken", headers=bearer(VIEW_TOKEN))
        assert broken.status == 200 and "unreadable" in await broken.text()
        missing = await client.get("/cases/R-none", headers=bearer(VIEW_TOKEN))
        assert missing.status == 404 and "not found" in (await missing.text()).lower()

    run(check)


def test_only_the_reveal_token_reveals_and_each_reveal_is_audited_first() -> None:
    async def check(client: TestClient[Any, Any], reveals: Reveals) -> None:
        denied = await client.get("/cases/R-1?reveal=1", headers=bearer(VIEW_TOKEN))
        assert denied.status == 403 and PHONE not in await denied.text()
        assert reveals.written == []
        masked = await client.get("/cases/R-1", headers=bearer(REVEAL_TOKEN))
        assert PHONE not in await masked.text() and reveals.written == []
        shown = await client.get("/cases/R-1?reveal=1", headers=bearer(REVEAL_TOKEN))
        assert shown.status == 200 and PHONE in await shown.text()
        svg = await client.get("/cases/R-1/trail.svg?reveal=1", headers=bearer(REVEAL_TOKEN))
        assert PHONE.encode() in await svg.read()
        assert reveals.written == [("R-1", "/cases/R-1"), ("R-1", "/cases/R-1/trail.svg")]

    run(check)


def test_a_reveal_that_cannot_be_audited_is_refused() -> None:
    async def check(client: TestClient[Any, Any], _: Reveals) -> None:
        refused = await client.get("/cases/R-1?reveal=1", headers=bearer(REVEAL_TOKEN))
        assert refused.status == 503 and PHONE not in await refused.text()

    run(check, fail=True)


def test_the_live_fragment_is_the_table_alone() -> None:
    async def check(client: TestClient[Any, Any], _: Reveals) -> None:
        fragment = await client.get("/cases?status=holding&fragment=1", headers=bearer(VIEW_TOKEN))
        text = await fragment.text()
        assert text.startswith("<p") and "<html" not in text and "R-broken" not in text

    run(check)


def test_without_graphviz_the_case_page_still_works() -> None:
    def no_dot(trail: Trail, title: str) -> bytes:
        raise graphviz.ExecutableNotFound(["dot"])

    reveals = Reveals()
    console = Console(view(), Access(VIEW_TOKEN, REVEAL_TOKEN), reveals, no_dot)  # type: ignore[arg-type]

    async def go() -> None:
        async with TestClient(TestServer(console.app())) as client:
            page = await client.get("/cases/R-1", headers=bearer(VIEW_TOKEN))
            assert page.status == 200 and "needs Graphviz" in await page.text()
            assert "********4567" in await page.text()
            svg = await client.get("/cases/R-1/trail.svg", headers=bearer(VIEW_TOKEN))
            assert svg.status == 503

    asyncio.run(go())
