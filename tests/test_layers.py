"""The layering docs/architecture.md draws, checked on the code itself: only schema/ builds stored points
(a measurement or tag changed in one place changes everywhere), and the correlator knows no sink."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "ollama_ingest"


def modules(under: Path = PACKAGE):
    for path in sorted(under.rglob("*.py")):
        yield path.relative_to(PACKAGE.parent).as_posix(), ast.parse(path.read_text(), str(path))


def test_only_the_schema_layer_builds_points():
    builders = []
    for name, tree in modules():
        if name.startswith("ollama_ingest/schema/"):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                f = node.func
                if (isinstance(f, ast.Name) and f.id == "Point") or (isinstance(f, ast.Attribute) and f.attr == "Point"):
                    builders.append(f"{name}:{node.lineno}")
    assert not builders, f"points built outside ollama_ingest/schema/: {builders}"
    # the check can fail: schema/ itself does build them
    assert any(isinstance(n, ast.Call) and getattr(n.func, "id", "") == "Point"
               for _, tree in modules(PACKAGE / "schema") for n in ast.walk(tree))


def test_the_correlator_imports_nothing_from_sinks():
    found = []
    for name, tree in modules(PACKAGE / "correlate"):
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and "sinks" in (node.module or "").split("."):
                found.append(f"{name}:{node.lineno}")
            if isinstance(node, ast.Import) and any("sinks" in a.name.split(".") for a in node.names):
                found.append(f"{name}:{node.lineno}")
    assert not found, f"correlate/ imports sinks: {found}"
