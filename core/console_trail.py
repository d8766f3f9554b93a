"""The money trail of one case as a graph: who lost money, where it went, what is held (pure).

Built from the case status (its accounts, `hop` and `via`: the trail the platform followed),
the victims the report names, and the amounts seen on the case's commands. The layout is
Graphviz's job (`antifraud.tools.console.trail_svg`); this module only says what is drawn.

- One node for the victims (left), one per account of the case, ranked by hop.
- An edge from the victims to each reported account (hop 0), and from each suspect's `via`
  to it; an edge carries the money seen arriving at its target (`hold_amounts`).
- Each account's state, for its colour: returned, held, escaped, lapsed, or tracking.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

VICTIMS = "victims"

# Which state an account is shown in; the first that applies wins.
RETURNED, HELD, ESCAPED, LAPSED, TRACKING = "returned", "held", "escaped", "lapsed", "tracking"


@dataclass(frozen=True, slots=True)
class TrailNode:
    node_id: str
    key: str  # `kind:value`, or VICTIMS
    shown: str  # the account as displayed (masked unless revealed)
    hop: int
    banks: tuple[str, ...]
    held: int
    escaped: int
    returned: int
    state: str


@dataclass(frozen=True, slots=True)
class TrailEdge:
    source: str  # node ids
    target: str
    amount: int | None


@dataclass(frozen=True, slots=True)
class Trail:
    victims: tuple[tuple[str, str, int], ...]  # per victim: account as displayed, bank, lost
    nodes: tuple[TrailNode, ...]
    edges: tuple[TrailEdge, ...]


def account_key(account: Mapping[str, Any]) -> str:
    return f"{account.get('kind', '')}:{account.get('value', '')}"


def state_of(entry: Mapping[str, Any]) -> str:
    if entry.get("amount_returned", 0) > 0:
        return RETURNED
    if entry.get("amount_held", 0) > 0:
        return HELD
    if entry.get("amount_escaped", 0) > 0:
        return ESCAPED
    if entry.get("amount_lapsed", 0) > 0:
        return LAPSED
    return TRACKING


def build_trail(
    status: Mapping[str, Any],
    victims: Sequence[Mapping[str, Any]],
    amounts: Mapping[str, int],
    show: Callable[[str], str],
) -> Trail:
    """The graph of `status` (a valid CaseStatus); `show` renders an account value."""
    nodes: list[TrailNode] = []
    ids: dict[str, str] = {}
    for index, entry in enumerate(status["accounts"]):
        key = account_key(entry["account"])
        if key in ids:
            continue  # one node per account, whatever the record repeats
        ids[key] = node_id = f"a{index}"
        nodes.append(
            TrailNode(
                node_id=node_id,
                key=key,
                shown=f"{entry['account']['kind']} {show(str(entry['account']['value']))}",
                hop=int(entry["hop"]),
                banks=tuple(entry["banks"]),
                held=int(entry["amount_held"]),
                escaped=int(entry["amount_escaped"]),
                returned=int(entry["amount_returned"]),
                state=state_of(entry),
            )
        )
    edges: list[TrailEdge] = []
    for node, entry in zip(nodes, _first_entries(status["accounts"]), strict=True):
        via = entry.get("via")
        # A suspect whose upstream account is not in the case hangs off the victims, as a
        # reported account does: drawn, not lost.
        source = ids.get(via, VICTIMS) if node.hop > 0 and via else VICTIMS
        if source == node.node_id:
            source = VICTIMS
        edges.append(TrailEdge(source, node.node_id, amounts.get(node.key)))
    shown_victims = tuple(
        (
            f"{v['account'].get('kind', '')} {show(str(v['account'].get('value', '')))}",
            str(v["account"].get("bank_id", "")),
            int(v.get("amount_lost", 0)),
        )
        for v in victims
        if isinstance(v.get("account"), Mapping)
    )
    return Trail(shown_victims, tuple(nodes), tuple(edges))


def _first_entries(accounts: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    seen: set[str] = set()
    out = []
    for entry in accounts:
        key = account_key(entry["account"])
        if key not in seen:
            seen.add(key)
            out.append(entry)
    return out
