"""The console's HTTP side (aiohttp): routes, the credential check, masking and reveals.

Every route needs `Authorization: Bearer <token>` (or Basic auth with the token as the
password, which a browser asks a person for): 401 otherwise. The view token sees account
numbers masked; the reveal token may add `?reveal=1` to see them in full, and each such
page is first written to the audit trail (`RevealLog`); a reveal that cannot be audited is
refused (503). Revealed pages do not refresh themselves: one reveal, one audit entry.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import graphviz
from aiohttp import web

from antifraud.core.console_cases import Filters, Unreadable, hold_amounts, parse_day, timeline
from antifraud.core.console_trail import Trail, build_trail
from antifraud.core.identifiers import mask
from antifraud.tools.console import pages
from antifraud.tools.console.feed import ConsoleView
from antifraud.tools.console.reveal import RevealLog
from antifraud.tools.console.trail_svg import inline_svg, render_svg

log = logging.getLogger(__name__)

VIEW, REVEAL = "view", "reveal"
SVG_CACHE_SIZE = 256
CHALLENGES = (
    'Basic realm="antifraud console", charset="UTF-8"',
    'Bearer realm="antifraud console"',
)

NO_DOT = "<p class='bad'>The graph needs Graphviz's `dot` (Debian: graphviz; make system-deps).</p>"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Access:
    token: str
    reveal_token: str = ""

    def role(self, header: str) -> str | None:
        """The role the Authorization header grants, or None."""
        scheme, _, credential = header.partition(" ")
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(credential.strip(), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                return None
            credential = decoded.partition(":")[2]  # any user name; the token is the password
        elif scheme.lower() != "bearer":
            return None
        given = credential.strip().encode()
        if self.reveal_token and hmac.compare_digest(given, self.reveal_token.encode()):
            return REVEAL
        if self.token and hmac.compare_digest(given, self.token.encode()):
            return VIEW
        return None


def unauthorized() -> web.Response:
    response = web.Response(
        status=401,
        text=pages.message("Unauthorized", "A valid console token is required."),
        content_type="text/html",
    )
    for challenge in CHALLENGES:
        response.headers.add("WWW-Authenticate", challenge)
    return response


class Console:
    def __init__(
        self,
        view: ConsoleView,
        access: Access,
        reveals: RevealLog | None,
        render: Callable[[Trail, str], bytes] = render_svg,
    ) -> None:
        self.view = view
        self.access = access
        self.reveals = reveals
        self.render = render  # Graphviz's `dot`; tests without it give their own
        self.svgs: OrderedDict[tuple[str, Trail], bytes] = OrderedDict()

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self.authenticate])
        app.router.add_get("/", self.home)
        app.router.add_get("/cases", self.cases)
        app.router.add_get("/cases/{report_id}", self.case)
        app.router.add_get("/cases/{report_id}/trail.svg", self.trail_svg)
        return app

    @web.middleware
    async def authenticate(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if self.role(request) is None:
            return unauthorized()
        response = await handler(request)
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    def role(self, request: web.Request) -> str | None:
        return self.access.role(request.headers.get("Authorization", ""))

    async def home(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound("/cases")

    async def cases(self, request: web.Request) -> web.Response:
        query = request.query
        filters = Filters(
            status=query.get("status", ""),
            fraud_type=query.get("fraud_type", ""),
            since=parse_day(query.get("since", "")),
            until=parse_day(query.get("until", "")),
        )
        with self.view.lock:
            rows = self.view.book.rows(filters)
            statuses, fraud_types = self.view.book.choices()
        table = pages.cases_table(rows)
        if query.get("fragment"):
            return html(table)
        live = request.path_qs + ("&" if request.query_string else "?") + "fragment=1"
        body = pages.filter_form(filters, statuses, fraud_types) + table
        return html(pages.page("Cases", body, live_src=live))

    async def _revealed(self, request: web.Request, report_id: str) -> bool:
        """Whether to show full numbers; the reveal is audited first, or refused."""
        if request.query.get("reveal") != "1":
            return False
        if self.role(request) != REVEAL or self.reveals is None:
            raise web.HTTPForbidden(
                text=pages.message("Forbidden", "This token may not reveal account numbers."),
                content_type="text/html",
            )
        peer = request.headers.get("X-Forwarded-For", request.remote or "")
        try:
            await asyncio.to_thread(self.reveals.write, report_id, request.path, peer)
        except Exception as exc:  # no audit entry, no reveal
            log.warning("event=console_reveal_not_audited error=%s", type(exc).__name__)
            raise web.HTTPServiceUnavailable(
                text=pages.message("Not revealed", "The reveal could not be audited."),
                content_type="text/html",
            ) from exc
        log.info("event=console_reveal report_id=%s", report_id)
        return True

    def _snapshot(self, report_id: str, show: Callable[[str], str]) -> Any:
        with self.view.lock:
            book = self.view.book
            status = book.statuses.get(report_id)
            if status is None:
                return None
            entries = timeline(book, report_id)
            verdict = self.view.audit.case(report_id)
            trail = None
            if not isinstance(status, Unreadable):
                facts = book.reports.get(report_id)
                victims = facts.victims if facts is not None else ()
                amounts = hold_amounts(book.case_commands(report_id))
                trail = build_trail(status, victims, amounts, show)
        return status, entries, verdict, trail

    async def _svg(self, report_id: str, trail: Trail) -> bytes:
        key = (report_id, trail)
        cached = self.svgs.get(key)
        if cached is None:
            cached = await asyncio.to_thread(self.render, trail, f"money trail of {report_id}")
            self.svgs[key] = cached
            while len(self.svgs) > SVG_CACHE_SIZE:
                self.svgs.popitem(last=False)
        self.svgs.move_to_end(key)
        return cached

    async def case(self, request: web.Request) -> web.Response:
        report_id = request.match_info["report_id"]
        revealed = await self._revealed(request, report_id)
        show = str if revealed else mask
        snapshot = self._snapshot(report_id, show)
        if snapshot is None:
            return html(pages.not_found(report_id), status=404)
        status, entries, verdict, trail = snapshot
        svg = ""
        if trail is not None:
            try:
                svg = inline_svg(await self._svg(report_id, trail))
            except graphviz.ExecutableNotFound:
                svg = NO_DOT
        link = ""
        if self.role(request) == REVEAL and not revealed and self.reveals is not None:
            url = pages.case_link(report_id) + "?reveal=1"
            link = f" · <a href='{url}'>reveal account numbers (audited)</a>"
        body = pages.case_body(report_id, status, svg, entries, verdict, show, link)
        if request.query.get("fragment"):
            return html(body)
        live = "" if revealed else pages.case_link(report_id) + "?fragment=1"
        return html(pages.page(f"Case {report_id}", body, live_src=live))

    async def trail_svg(self, request: web.Request) -> web.Response:
        report_id = request.match_info["report_id"]
        revealed = await self._revealed(request, report_id)
        snapshot = self._snapshot(report_id, str if revealed else mask)
        if snapshot is None:
            return html(pages.not_found(report_id), status=404)
        if snapshot[3] is None:
            return html(pages.message("Unreadable", "The case status cannot be read."), status=409)
        try:
            svg = await self._svg(report_id, snapshot[3])
        except graphviz.ExecutableNotFound:
            return html(pages.message("No graph", "Graphviz is not installed."), status=503)
        disposition = f'attachment; filename="trail-{_file_safe(report_id)}.svg"'
        if request.query.get("inline") == "1":
            disposition = "inline"
        return web.Response(
            body=svg, content_type="image/svg+xml", headers={"Content-Disposition": disposition}
        )


def _file_safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text)[:100]


def html(text: str, status: int = 200) -> web.Response:
    return web.Response(text=text, status=status, content_type="text/html")
