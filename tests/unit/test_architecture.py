"""The folders are the architecture: dependencies run one way and nothing imports in a circle.

Each part of `spendkit` may import only the parts listed for it in `ALLOWED` (imports inside
functions count too: an in-function import does not make a wrong-way dependency right). The
stages, lowest first: errors/settings → units → schema → reference → extract → transform →
loader → enrich → ingest/datasets → models → views → report/sample/cli.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "spendkit"

_BASE = {"errors", "settings"}
_UNITS = _BASE | {"units"}
_SCHEMA = _UNITS | {"schema"}
_REFERENCE = _SCHEMA | {"reference"}
_EXTRACT = _REFERENCE | {"extract"}
_TRANSFORM = _EXTRACT | {"transform"}
_LOADER = _TRANSFORM | {"loader"}
_ENRICH = _REFERENCE | {"enrich"}
_INGEST = _LOADER | _ENRICH | {"ingest"}
_DATASETS = _INGEST | {"datasets"}
_MODELS = _ENRICH | {"models"}
_VIEWS = _MODELS | _DATASETS | {"views"}

#: part → the parts it may import (its own included).
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "settings": set(),
    "units": _UNITS,
    "schema": _SCHEMA,
    "reference": _REFERENCE,
    "extract": _EXTRACT,
    "transform": _TRANSFORM,
    "loader": _LOADER,
    "enrich": _ENRICH,
    "ingest": _INGEST,
    "datasets": _DATASETS,
    "models": _MODELS,
    "views": _VIEWS,
    "sample": _SCHEMA | {"sample", "reference"},
    "report": _VIEWS | {"report"},
    "cli": _VIEWS | {"report", "sample", "cli"},
}


#: Known wrong-way imports still being moved out (the list only ever shrinks).
KNOWN_WRONG_WAY: set[str] = set()


def _module_name(path: Path) -> str:
    rel = path.relative_to(SRC.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _part(module: str) -> str:
    """'spendkit.models.trends.base' → 'models'; the package root is ''."""
    bits = module.split(".")
    return bits[1] if len(bits) > 1 else ""


def _imports() -> dict[str, set[str]]:
    """spendkit module → the spendkit modules it imports (anywhere in the file)."""
    out: dict[str, set[str]] = defaultdict(set)
    modules = {_module_name(p) for p in SRC.rglob("*.py")}
    for path in sorted(SRC.rglob("*.py")):
        me = _module_name(path)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                # 'from spendkit.models import trends' imports spendkit.models.trends
                names = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in modules
                         else node.module for a in node.names]
            else:
                continue
            out[me] |= {n for n in names if n.split(".")[0] == "spendkit"}
    return out


def test_every_part_is_placed() -> None:
    parts = {_part(_module_name(p)) for p in SRC.rglob("*.py")} - {""}
    assert parts <= set(ALLOWED), f"parts with no place in ALLOWED: {parts - set(ALLOWED)}"


def test_dependencies_run_one_way() -> None:
    wrong = sorted(
        f"{me} imports {dep}"
        for me, deps in _imports().items() if _part(me)
        for dep in deps
        if _part(dep) and _part(dep) not in ALLOWED[_part(me)]
    )
    wrong = [w for w in wrong if w not in KNOWN_WRONG_WAY]
    assert not wrong, "imports against the direction of the stages:\n" + "\n".join(wrong)


def test_no_import_cycles() -> None:
    graph = {m: {d for d in deps if d != m} for m, deps in _imports().items()}
    # A package's __init__ importing its own submodules is how packages re-export: not a cycle
    # unless the submodule imports the package back.
    cycles = []
    state: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if nxt == "spendkit":
                continue  # the root only re-exports load() and the errors
            if state.get(nxt) == 1:
                loop = stack[stack.index(nxt):] + [nxt] if nxt in stack else [node, nxt]
                if not all(b.startswith(a + ".") for a, b in zip(loop, loop[1:], strict=False)) \
                        and not any(f"{a} imports {b}" in KNOWN_WRONG_WAY
                                    for a, b in zip(loop, loop[1:], strict=False)):
                    cycles.append(" → ".join(loop))
            elif state.get(nxt) is None:
                visit(nxt, [*stack, nxt])
        state[node] = 2

    for module in sorted(graph):
        if state.get(module) is None:
            visit(module, [module])
    assert not cycles, "import cycles:\n" + "\n".join(sorted(set(cycles)))


@pytest.mark.parametrize("folder", sorted(p.name for p in SRC.iterdir()
                                          if p.is_dir() and (p / "__init__.py").exists()))
def test_each_subpackage_says_what_it_holds(folder: str) -> None:
    doc = ast.get_docstring(ast.parse((SRC / folder / "__init__.py").read_text()))
    assert doc and len(doc.split()) >= 20, f"spendkit/{folder}/__init__.py needs a docstring"
