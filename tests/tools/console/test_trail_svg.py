"""Graphviz lays the trail out (`dot`, installed by `make system-deps`): valid SVG, every
account in it, and text from records stays text."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET

import pytest

from antifraud.core.console_trail import VICTIMS, Trail, TrailEdge, TrailNode
from antifraud.tools.console.trail_svg import inline_svg, render_svg

pytestmark = pytest.mark.system_deps

SVG = "{http://www.w3.org/2000/svg}"


def test_the_trail_is_svg_with_every_account_and_hostile_text_kept_as_text() -> None:
    if shutil.which("dot") is None:
        pytest.fail("Graphviz's dot is missing: run `make system-deps` (scripts/console-deps)")
    hostile = 'phone \\N <b>"x"</b> & ]]>'
    nodes = (
        TrailNode("a0", "phone:1", hostile, 0, ("HSBKKZKX",), 500, 0, 0, "held"),
        TrailNode("a1", "phone:2", "card ****0725", 1, ("IRTYKZKA",), 0, 300, 0, "escaped"),
    )
    edges = (TrailEdge(VICTIMS, "a0", 1000), TrailEdge("a0", "a1", None))
    svg = render_svg(Trail((("iban ****0100", "CASPKZKA", 1000),), nodes, edges), "R-1")
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    texts = [t.text or "" for t in root.iter(f"{SVG}text")]
    assert hostile in texts and "card ****0725" in texts and "10.00 KZT" in texts
    assert "held 5.00 KZT" in texts and "escaped 3.00 KZT" in texts
    assert inline_svg(svg).startswith("<svg")
