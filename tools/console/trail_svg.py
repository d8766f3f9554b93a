"""The money trail laid out by Graphviz (`dot -Tsvg`, through the `graphviz` binding).

Left to right: the victims, the reported accounts (hop 0), then each hop. Every text that
comes from a record goes through `graphviz.escape`, so a backslash or `<...>` in it is
text, never a Graphviz escape or an HTML-like label; `dot` escapes it for XML.
"""

from __future__ import annotations

import graphviz

from antifraud.core.console_trail import (
    ESCAPED,
    HELD,
    LAPSED,
    RETURNED,
    TRACKING,
    VICTIMS,
    Trail,
    TrailNode,
)
from antifraud.tools.console.money import money

# fill, border: a state reads at a glance, and still in grey print (border weight differs)
COLOURS = {
    RETURNED: ("#cfe2ff", "#0b5ed7"),
    HELD: ("#d1e7dd", "#198754"),
    ESCAPED: ("#f8d7da", "#dc3545"),
    LAPSED: ("#fff3cd", "#b58105"),
    TRACKING: ("#e9ecef", "#6c757d"),
}


def _label(*lines: str) -> str:
    """Lines of text as one plain Graphviz label (`\\n` between escaped lines)."""
    return graphviz.nohtml("\\n".join(graphviz.escape(line) for line in lines))


def _node_label(node: TrailNode) -> str:
    lines = [node.shown, f"hop {node.hop} · {', '.join(node.banks) or 'bank unknown'}"]
    lines.append(f"held {money(node.held)}")
    if node.escaped:
        lines.append(f"escaped {money(node.escaped)}")
    if node.returned:
        lines.append(f"returned {money(node.returned)}")
    lines.append(node.state)
    return _label(*lines)


def trail_graph(trail: Trail, title: str) -> graphviz.Digraph:
    graph = graphviz.Digraph(name="trail", graph_attr={"rankdir": "LR", "label": title})
    graph.attr("graph", labelloc="t", fontname="Helvetica", fontsize="14", nodesep="0.3")
    graph.attr("node", shape="box", style="rounded,filled", fontname="Helvetica", fontsize="10")
    graph.attr("edge", fontname="Helvetica", fontsize="10")
    victims = [
        f"{shown} at {bank or '?'}: lost {money(lost)}" for shown, bank, lost in trail.victims
    ]
    graph.node(
        VICTIMS,
        _label("victims", *(victims or ["not named in the report"])),
        fillcolor="#ffffff",
        color="#212529",
        penwidth="1.5",
    )
    for hop in sorted({n.hop for n in trail.nodes}):
        with graph.subgraph(name=f"hop{hop}", graph_attr={"rank": "same"}) as rank:
            for node in (n for n in trail.nodes if n.hop == hop):
                fill, border = COLOURS.get(node.state, COLOURS[TRACKING])
                rank.node(
                    node.node_id,
                    _node_label(node),
                    fillcolor=fill,
                    color=border,
                    penwidth="2" if node.state != TRACKING else "1",
                    id=f"account-{node.node_id}",
                )
    for edge in trail.edges:
        label = _label(money(edge.amount)) if edge.amount else ""
        graph.edge(edge.source, edge.target, label=label)
    return graph


def render_svg(trail: Trail, title: str) -> bytes:
    """The SVG document (with its XML declaration), as `dot` writes it."""
    graph = trail_graph(trail, title)
    svg: bytes = graph.pipe(format="svg", engine="dot")
    return svg


def inline_svg(svg: bytes) -> str:
    """The `<svg>` element alone, to put inside an HTML page."""
    text = svg.decode("utf-8")
    start = text.find("<svg")
    return text[start:] if start >= 0 else ""
