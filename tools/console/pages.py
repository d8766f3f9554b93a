"""The console's HTML: the cases list, one case, and the error pages.

Every value that comes from a record is escaped here (`html.escape`), whatever the page.
The live part of each page (`<div id="live">`) is fetched again every few seconds by a
small script and swapped in, so the page updates itself while it is open; the fragment
is rendered by the same function as the first page.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from html import escape
from typing import Any
from urllib.parse import quote

from antifraud.core.console_audit import CaseAudit
from antifraud.core.console_cases import UNREADABLE, CaseRow, Filters, TimelineEntry, Unreadable
from antifraud.core.timestamps import format_rfc3339
from antifraud.tools.console.money import duration, money

POLL_MILLISECONDS = 3000

STYLE = """
body{font-family:Helvetica,Arial,sans-serif;margin:1.5em;color:#212529}
table{border-collapse:collapse;margin:.5em 0 1.5em}
th,td{border-bottom:1px solid #dee2e6;padding:.3em .6em;text-align:left;font-size:.9em}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.s-holding td:nth-child(2){color:#198754}.s-returned td:nth-child(2){color:#0b5ed7}
.s-revoked td:nth-child(2){color:#6c757d}.s-lapsed td:nth-child(2){color:#b58105}
.s-unreadable td:nth-child(2),p.s-unreadable{color:#dc3545;font-weight:bold}
b.s-holding{color:#198754}b.s-returned,b.s-returning{color:#0b5ed7}
.ok{color:#198754;font-weight:bold}.warn{color:#b58105;font-weight:bold}.bad{color:#dc3545;font-weight:bold}
form{margin:.5em 0}.muted{color:#6c757d}.trail svg{max-width:100%;height:auto}
"""

SCRIPT = """
<script>
(function(){
  const live = document.getElementById('live');
  const src = live && live.dataset.src;
  if (!src) return;
  setInterval(async () => {
    try {
      const r = await fetch(src, {credentials: 'same-origin', cache: 'no-store'});
      if (r.ok) live.innerHTML = await r.text();
    } catch (e) { /* the next poll tries again */ }
  }, POLL);
})();
</script>
""".replace("POLL", str(POLL_MILLISECONDS))


def page(title: str, body: str, live_src: str = "") -> str:
    live = f'<div id="live" data-src="{escape(live_src)}">{body}</div>' if live_src else body
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
        f"<h1>{escape(title)}</h1>{live}{SCRIPT if live_src else ''}</body></html>"
    )


def when(seconds: float | None) -> str:
    return "—" if seconds is None else format_rfc3339(seconds).replace("T", " ")


def case_link(report_id: str, suffix: str = "") -> str:
    return f"/cases/{quote(report_id, safe='')}{suffix}"


def cases_table(rows: Sequence[CaseRow]) -> str:
    head = (
        "<tr><th>report</th><th>status</th><th>fraud type</th><th>accounts</th><th>held</th>"
        "<th>escaped</th><th>returned</th><th>lost</th><th>reported</th>"
        "<th>report to first hold</th></tr>"
    )
    lines = []
    for row in rows:
        status = escape(row.status)
        if row.status == UNREADABLE:
            figures = f"<td>{status}: {escape(row.reason)}</td>" + "<td>—</td>" * 6
        else:
            figures = (
                f"<td>{status}</td><td>{escape(row.fraud_type) or '—'}</td>"
                f"<td class='n'>{row.accounts}</td><td class='n'>{money(row.amount_held)}</td>"
                f"<td class='n'>{money(row.amount_escaped)}</td>"
                f"<td class='n'>{money(row.amount_returned)}</td>"
                f"<td class='n'>{money(row.amount_lost)}</td>"
            )
        lines.append(
            f"<tr class='case s-{status}' data-report='{escape(row.report_id)}'>"
            f"<td><a href='{escape(case_link(row.report_id))}'>{escape(row.report_id)}</a></td>"
            f"{figures}<td>{when(row.reported_at)}</td>"
            f"<td class='n'>{duration(row.first_hold_seconds)}</td></tr>"
        )
    if not lines:
        return "<p class='muted'>No case matches.</p>"
    return (
        f"<p class='muted'>{len(lines)} case(s)</p><table id='cases'>{head}{''.join(lines)}</table>"
    )


def _select(name: str, chosen: str, options: Sequence[str]) -> str:
    items = ["<option value=''>any</option>"] + [
        f"<option{' selected' if o == chosen else ''}>{escape(o)}</option>" for o in options
    ]
    return f"<label>{name} <select name='{name}'>{''.join(items)}</select></label> "


def filter_form(filters: Filters, statuses: Sequence[str], fraud_types: Sequence[str]) -> str:
    def day(value: date | None) -> str:
        return value.isoformat() if value else ""

    return (
        "<form method='get' action='/cases'>"
        + _select("status", filters.status, sorted({*statuses, UNREADABLE}))
        + _select("fraud_type", filters.fraud_type, fraud_types)
        + f"<label>from <input type='date' name='since' value='{day(filters.since)}'></label> "
        + f"<label>to <input type='date' name='until' value='{day(filters.until)}'></label> "
        + "<button type='submit'>filter</button></form>"
    )


def accounts_table(status: Mapping[str, Any], show: Callable[[str], str]) -> str:
    head = (
        "<tr><th>hop</th><th>account</th><th>from</th><th>banks</th><th>holds</th>"
        "<th>freezes</th><th>held</th><th>escaped</th><th>returned</th><th>expires</th></tr>"
    )
    lines = []
    for entry in status["accounts"]:
        account = entry["account"]
        via = entry.get("via")
        via_shown = "victims" if not via else _show_key(via, show)
        hop = int(entry["hop"])
        lines.append(
            f"<tr class='account' data-hop='{hop}'><td class='n'>{hop}</td>"
            f"<td class='acct'>{escape(account['kind'])} {escape(show(str(account['value'])))}</td>"
            f"<td>{escape(via_shown)}</td><td>{escape(', '.join(entry['banks']))}</td>"
            f"<td class='n'>{int(entry['holds'])}</td><td class='n'>{int(entry['freezes'])}</td>"
            f"<td class='n held'>{money(entry['amount_held'])}</td>"
            f"<td class='n escaped'>{money(entry['amount_escaped'])}</td>"
            f"<td class='n returned'>{money(entry['amount_returned'])}</td>"
            f"<td>{escape(str(entry.get('expires_at') or '—'))}</td></tr>"
        )
    return f"<table id='accounts'>{head}{''.join(lines)}</table>"


def _show_key(key: str, show: Callable[[str], str]) -> str:
    kind, _, value = key.partition(":")
    return f"{kind} {show(value)}"


def timeline_table(entries: Sequence[TimelineEntry], show: Callable[[str], str]) -> str:
    if not entries:
        return "<p class='muted'>No command seen for this case yet.</p>"
    head = (
        "<tr><th>time</th><th></th><th>type / status</th><th>bank</th><th>account</th>"
        "<th>amount</th><th>detail</th><th>command</th></tr>"
    )
    lines = []
    for e in entries:
        account = e.account or {}
        shown = (
            f"{account.get('kind', '')} {show(str(account.get('value', '')))}" if account else ""
        )
        lines.append(
            f"<tr class='{escape(e.what)}'><td>{when(e.at)}</td><td>{escape(e.what)}</td>"
            f"<td>{escape(e.kind)}</td><td>{escape(e.bank_id)}</td><td>{escape(shown)}</td>"
            f"<td class='n'>{money(e.amount) if e.amount is not None else ''}</td>"
            f"<td>{escape(e.detail)}</td><td class='muted'>{escape(e.command_id[:12])}</td></tr>"
        )
    return f"<table id='timeline'>{head}{''.join(lines)}</table>"


def audit_verdict(verdict: CaseAudit) -> str:
    if not verdict.entries:
        return "<p id='audit' class='muted'>No audit entry seen for this case yet.</p>"
    where = f"{verdict.entries} entries in {len(verdict.chains)} chain(s)"
    if verdict.intact and verdict.from_seq:
        return (
            f"<p id='audit'><span class='warn'>audit chain intact only from a later start</span>"
            f" ({escape(', '.join(verdict.from_seq))}; earlier records are not on the topic:"
            f" retention, or deleted): {where}</p>"
        )
    if verdict.intact:
        return f"<p id='audit'><span class='ok'>audit chain intact</span>: {where}</p>"
    broken = "; ".join(verdict.broken)
    return (
        f"<p id='audit'><span class='bad'>audit chain BROKEN</span>: {escape(broken)}. {where}</p>"
    )


def case_body(
    report_id: str,
    status: Mapping[str, Any] | Unreadable,
    svg: str,
    entries: Sequence[TimelineEntry],
    verdict: CaseAudit,
    show: Callable[[str], str],
    reveal_link: str,
) -> str:
    back = "<p><a href='/cases'>all cases</a></p>"
    if isinstance(status, Unreadable):
        return (
            f"{back}<p class='s-unreadable' id='unreadable'>{UNREADABLE}: the latest case-status"
            f" record for {escape(report_id)} cannot be read ({escape(status.reason)}).</p>"
            f"{timeline_table(entries, show)}{audit_verdict(verdict)}"
        )
    totals = status["totals"]
    summary = (
        f"<p id='summary'>status <b class='s-{escape(status['status'])}'>"
        f"{escape(status['status'])}</b> · updated {escape(status['updated_at'])} · held "
        f"{money(totals['amount_held'])} · escaped {money(totals['amount_escaped'])} · returned "
        f"{money(totals['amount_returned'])} · lost {money(totals['amount_lost'])}</p>"
    )
    export = f"<a href='{escape(case_link(report_id, '/trail.svg'))}'>SVG for the case file</a>"
    return (
        f"{back}{summary}{audit_verdict(verdict)}"
        f"<h2>Money trail</h2><p>{export}{reveal_link}</p><div class='trail'>{svg}</div>"
        f"<h2>Accounts</h2>{accounts_table(status, show)}"
        f"<h2>Commands and bank acks</h2>{timeline_table(entries, show)}"
    )


def not_found(report_id: str) -> str:
    return page(
        "Case not found",
        f"<p>No case {escape(report_id)} is known to this console.</p>"
        "<p><a href='/cases'>all cases</a></p>",
    )


def message(title: str, text: str) -> str:
    return page(title, f"<p>{escape(text)}</p>")
