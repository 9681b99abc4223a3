"""The architecture holds: the layer contract, and draws keyed by names, not positions."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_layers_import_only_downwards():
    """pyproject.toml's [tool.importlinter] contract: cli > experiments > sim > results >
    model > engine > scenario > declarations > errors | version, no cycles between them."""
    lint = Path(sys.executable).parent / "lint-imports"  # (import-linter's command)
    out = subprocess.run([str(lint), "--config", str(ROOT / "pyproject.toml")],
                         capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "1 kept, 0 broken" in out.stdout


_RUN = r"""
import hashlib, json, sys
import numpy as np
import scoresim.declarations.events as ev
if sys.argv[1] == "extra":
    # A kind nobody's rules, sources or sanctions use, put before the others' positions.
    extra = ev.EventKind("unused_test_kind", "a kind no rule uses", 0.2, "spending", True)
    ev.EVENT_KINDS = ev.EVENT_KINDS[:1] + (extra,) + ev.EVENT_KINDS[1:]
    ev.KIND_NAMES = tuple(k.name for k in ev.EVENT_KINDS)
    ev.KIND_INDEX = {n: i for i, n in enumerate(ev.KIND_NAMES)}
    ev.N_KINDS = len(ev.EVENT_KINDS)
from scoresim import Sim, load_scenario
sc = load_scenario("seed", {"start": "2019-11-01"})
sim = Sim(sc, seed=4, people=1500, days=150)
sim.run()
out = {k: [None if np.isnan(x) else float(x) for x in v] for k, v in sim.outcomes.data.items()}
state = {name: hashlib.sha256(s.s.tobytes()).hexdigest() for name, s in sim.schemes.items()}
print(json.dumps({"outcomes": out, "scores": state}))
"""


def _run(mode: str) -> dict:
    out = subprocess.run([sys.executable, "-c", _RUN, mode], capture_output=True, text=True,
                         timeout=600, check=True)
    return json.loads(out.stdout)


def test_adding_an_unused_kind_changes_no_outcome():
    """Draws are keyed by names: a new event kind, declared in the middle of the list and
    drawn at a nonzero rate but used by no rule, source or sanction, moves no other kind's
    draws, so every score and outcome stays as it was (over the mandatory phase)."""
    plain, extra = _run("plain"), _run("extra")
    assert extra["scores"] == plain["scores"]
    assert extra["outcomes"].keys() == plain["outcomes"].keys()
    for col in plain["outcomes"]:
        assert extra["outcomes"][col] == plain["outcomes"][col], col


def test_every_declared_outcome_column_is_filled_and_carries_its_unit():
    """Rows are filled by name from the declarations: every column has values (undefined,
    NaN, only where nobody is counted: a mean score while nobody is scored), and the
    parquet schema names each column's meaning and unit."""
    import numpy as np

    from scoresim import Sim, load_scenario
    from scoresim.results.outcomes import declared_columns

    # (from late 2019: early and late enrollees both exist after the mandatory date)
    sim = Sim(load_scenario("seed", {"start": "2019-12-01"}), seed=3, people=400, days=60)
    results = sim.run()
    # (an early-adopter advantage needs a mandatory phase: sesame has none)
    undefined = {f"{name}_early_adopter_advantage" for name, cfg in sim.scenario.schemes.items()
                 if cfg.enrolment.mandatory_from_phase is None}
    # (M14's default prediction needs a full window, a year by default: a longer run below)
    undefined |= {f"{name}_default_auc" for name in sim.scenario.schemes}
    for name, values in sim.outcomes.data.items():
        assert np.isnan(values).all() == (name in undefined), name
    meta = results.outcomes.schema.metadata
    for name, col in declared_columns(sim.scenario).items():
        assert meta[f"unit:{name}".encode()].decode() == col.unit
        assert meta[f"col:{name}".encode()].decode() == col.meaning


def test_a_row_must_fill_exactly_the_declared_columns():
    import pytest

    from scoresim import load_scenario
    from scoresim.results.outcomes import OutcomeTable

    table = OutcomeTable(load_scenario("baseline"), 3)
    row = {name: 0.0 for name in table.data}
    table.put(0, row)
    with pytest.raises(KeyError, match="undeclared"):
        table.put(1, {**row, "made_up": 1.0})
    del row["mean_degree"]
    with pytest.raises(KeyError, match="missing"):
        table.put(2, row)


def _imports(package: Path, name: str) -> dict[str, set[str]]:
    """Every module under `package` (dotted name `name`) mapped to the modules of the
    package it imports: at module level and inside functions and methods alike, relative
    imports resolved, ``from x import y`` read as x.y where y is a submodule, imports under
    ``if TYPE_CHECKING:`` left out (they never run). A package's ``__init__`` that runs
    before its submodules is no edge (scoresim's load their names lazily, by
    ``importlib``, which no parse sees); grimp, under the layer contract, also counts
    imports inside functions, but the contract lets modules of one layer import each other."""
    import ast

    modules = {}
    for path in package.rglob("*.py"):
        parts = (name, *path.relative_to(package).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path

    def type_checking(test: ast.expr) -> bool:
        return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
            isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")

    def walk(node: ast.AST):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and type_checking(child.test):
                for other in child.orelse:  # (the else branch runs)
                    yield other
                    yield from walk(other)
                continue
            yield child
            yield from walk(child)

    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        is_package = path.name == "__init__.py"
        targets = set()
        for node in walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    here = module.split(".")[: len(module.split(".")) - node.level + is_package]
                    base = ".".join(here + ([base] if base else []))
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    targets.add(sub if sub in modules else base)
        # (a module's own package, e.g. `import scoresim.x` inside scoresim, is no edge)
        graph[module] = {t for t in targets if t in modules and t != module}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_import_checker_sees_function_level_and_relative_imports(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("from . import b\n")
    (pkg / "a.py").write_text("def f():\n    from pkg.sub import b\n")
    (pkg / "sub" / "b.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import pkg.c\n"
        "class B:\n    def g(self):\n        from .. import a\n")
    (pkg / "c.py").write_text("import pkg.sub.b\n")
    graph = _imports(pkg, "pkg")
    assert graph == {"pkg": set(), "pkg.sub": {"pkg.sub.b"}, "pkg.a": {"pkg.sub.b"},
                     "pkg.sub.b": {"pkg.a"}, "pkg.c": {"pkg.sub.b"}}
    assert _cycles(graph) == [["pkg.a", "pkg.sub.b"]]


def test_no_import_cycle_even_inside_functions():
    """No two modules of scoresim import each other, directly or round a longer loop,
    counting the imports made inside functions (which the layer contract lets pass within
    a layer): a cycle means a piece both need lives in the wrong one."""
    graph = _imports(ROOT / "src" / "scoresim", "scoresim")
    cycles = _cycles(graph)
    assert not cycles, "import cycles (each with its imports):\n" + "\n".join(
        " <-> ".join(c) + ":  " + ", ".join(f"{a} -> {b}" for a in c for b in sorted(graph[a])
                                            if b in c)
        for c in cycles)
