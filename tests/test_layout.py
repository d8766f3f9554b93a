"""The layout holds: everything imports under `antifraud.`, and the core stays pure.

Both checks run in a child interpreter started outside the repository, so the top-level
folders (`core/`, `streams/`, ...) cannot stand in for the installed `antifraud.*` names:
a module that still says `import core` or `resources.files("schemas")` fails here, as it
would in an installed worker.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

PACKAGES = ["core", "streams", "agents", "schemas", "tools", "harness", "clients"]
# What the functional core must never import (STYLE.md, "Functional core, imperative shell").
FORBIDDEN_IN_CORE = ("faust", "mode", "aiokafka", "kafka", "rocksdict")

_PROBE = """
import importlib, json, pkgutil, sys
found = {}
for package in %(packages)r:
    root = importlib.import_module("antifraud." + package)
    names = [root.__name__] + [
        m.name for m in pkgutil.walk_packages(root.__path__, prefix=root.__name__ + ".")
    ]
    for name in names:
        importlib.import_module(name)
    found[package] = names
if "core" in %(packages)r and "schemas" in %(packages)r:
    # package data is found through the installed names too
    from antifraud.core.bank_directory import BankDirectory
    from antifraud.schemas import load_schema
    BankDirectory.load()
    load_schema("transfer")
if %(core_only)r:
    # what importing the core alone brought in
    found["loaded"] = sorted({m.split(".")[0] for m in sys.modules})
print(json.dumps(found))
"""


def _probe(tmp_path: Path, packages: list[str], core_only: bool = False) -> dict[str, list[str]]:
    code = _PROBE % {"packages": packages, "core_only": core_only}
    # -P: no script directory on sys.path; cwd outside the repository.
    proc = subprocess.run(
        [sys.executable, "-P", "-c", code], cwd=tmp_path, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result: dict[str, list[str]] = json.loads(proc.stdout)
    return result


def test_every_module_imports_under_the_antifraud_namespace(tmp_path: Path) -> None:
    found = _probe(tmp_path, PACKAGES)
    repo = Path(__file__).resolve().parent.parent
    for package in PACKAGES:
        on_disk = {
            p.relative_to(repo / package).with_suffix("").as_posix().replace("/", ".")
            for p in (repo / package).rglob("*.py")
        }
        expected = {
            f"antifraud.{package}" + ("" if m.endswith("__init__") else "." + m) for m in on_disk
        }
        expected = {e.replace(".__init__", "") for e in expected}
        assert expected <= set(found[package]), expected - set(found[package])


def test_core_imports_no_faust_or_kafka(tmp_path: Path) -> None:
    loaded = set(_probe(tmp_path, ["core"], core_only=True)["loaded"])
    assert loaded.isdisjoint(FORBIDDEN_IN_CORE), loaded & set(FORBIDDEN_IN_CORE)
    # the probe itself works: the core's own dependencies are seen
    assert {"antifraud", "orjson", "fastjsonschema"} <= loaded
