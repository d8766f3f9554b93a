"""`antifraud console`: a read-only web console of the cases, for investigators.

- `feed`: the Kafka reader (a background thread) that fills the in-memory view;
- `web`: the routes, the credential check, masking and audited reveals (aiohttp);
- `pages`: the HTML; `trail_svg`: the money trail laid out by Graphviz; `money`: figures;
- `reveal`: the one write the console makes, an audit entry per reveal;
- `verb`: the command itself.
What it decides (rows, filters, the trail, the audit verdict) is pure code in
`antifraud.core.console_cases`, `console_trail` and `console_audit`. See docs/console.md.
"""
