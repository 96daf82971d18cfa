"""Contracts of the architecture, frozen so that a second copy or a backward import fails a test.

In the style of AIConfigurator's import and single-oracle contracts: the flow is one way
(catalog → request → perf/cost → solver → Plan → render/report/cli), and each shared concept has
exactly one home. Each rule reads the source (AST or text), so it also catches imports made
inside functions.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "planner"


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PKG.rglob("*.py")):
        rel = path.relative_to(PKG.parent).with_suffix("")
        parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _imports(path: Path) -> Iterator[str]:
    """Every planner module a file imports, at any depth (function-level imports included)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        else:
            continue
        for name in names:
            if name.startswith("planner"):
                # `from planner.cost import x` imports planner.cost (x may be a name, not a module).
                while name not in MODULES and "." in name:
                    name = name.rsplit(".", 1)[0]
                yield name


def layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "planner"


# The catalog sits below everything, base modules included: it loads facts, it does not price or format.
CATALOG_BASE = {"errors", "k8s_names", "planner"}
# layer -> the layers it may import (besides itself and the shared base modules).
BASE = {"errors", "clock", "terms", "fmt", "k8s_names", "atomic", "parallel", "planner"}
ALLOWED: dict[str, set[str]] = {
    "catalog": set(),
    "request": {"catalog"},
    "feasibility": {"catalog"},
    "perf": {"catalog", "feasibility"},
    "cost": {"catalog"},
    "plan": {"catalog", "request", "cost"},
    "solver": {"catalog", "request", "feasibility", "perf", "cost", "plan"},
    "render": {"catalog", "feasibility", "plan"},
    "report": {"catalog", "plan", "cost"},
    "cli": {"catalog", "request", "feasibility", "perf", "cost", "plan", "solver", "render", "report", "atomic",
            "fleet", "calibrate"},
    # Fleet planning sits beside the CLI: it runs the solver per workload and renders each deployment.
    "fleet": {"catalog", "request", "feasibility", "perf", "cost", "plan", "solver", "render", "report"},
    # Calibration reads benchmark results and fits the perf model's constants; the CLI applies its profiles.
    "calibrate": {"catalog", "feasibility", "perf"},
}
# report may name cost *types* (lines, curves, break-evens, TCO inputs) but price nothing.
REPORT_COST_TYPES = {"planner.cost", "planner.cost.lines", "planner.cost.curves", "planner.cost.breakeven",
                     "planner.cost.onprem"}
REPORT_PRICING = {"api_cost", "api_costs", "cheapest_api", "cloud_cost", "replica_cloud_costs",
                  "cheapest_replica_cloud", "onprem_cost", "purchase_cost", "self_hosted_costs", "load_curves",
                  "buy_vs_rent", "api_breakeven", "breakeven_tokens_per_month", "buy_vs_rent_month"}


def may_import(here: str, there: str) -> bool:
    """Its own layer, the base modules (the catalog: only errors and name rules), and ALLOWED."""
    if there == here:
        return True
    if here == "catalog":
        return there in CATALOG_BASE
    return there in BASE or there in ALLOWED.get(here, set())


def import_violations(modules: dict[str, Path]) -> list[str]:
    out = []
    for mod, path in modules.items():
        here = layer(mod)
        if here not in ALLOWED and here not in BASE:
            out.append(f"{mod}: layer {here!r} has no import rule (add it to ALLOWED)")
        for target in sorted(set(_imports(path))):
            there = layer(target)
            if not may_import(here, there):
                out.append(f"{mod} imports {target}: {here} may not import {there}")
    return out


def test_layers_import_only_downstream() -> None:
    assert import_violations(MODULES) == []


def test_report_prices_nothing() -> None:
    """Reports read the Plan: they may name cost types, never call a pricing function."""
    for mod, path in MODULES.items():
        if layer(mod) != "report":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("planner.cost"):
                assert node.module in REPORT_COST_TYPES, f"{mod} imports {node.module}"
                assert not {a.name for a in node.names} & REPORT_PRICING, f"{mod} imports a pricing function"
            if isinstance(node, ast.Call):
                f = node.func
                name = f.id if isinstance(f, ast.Name) else (
                    f.attr if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name)
                    and f.value.id == "cost" else None)
                assert name not in REPORT_PRICING, f"{mod} calls {name}"


def _graph() -> dict[str, set[str]]:
    return {m: {t for t in _imports(p) if t != m} for m, p in MODULES.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle among modules (package `__init__` re-exports of their own submodules excepted)."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        stack.append(m)
        for t in sorted(graph.get(m, ())):
            if t.startswith(m + "."):  # a package importing its own submodule
                continue
            if state.get(t) == 1:
                return [*stack[stack.index(t):], t]
            if t not in state:
                found = visit(t)
                if found:
                    return found
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(graph):
        if m not in state:
            found = visit(m)
            if found:
                return found
    return None


def test_no_import_cycles() -> None:
    assert find_cycle(_graph()) is None


# ---------------------------------------------------------------- one home for each concept


def _source(mod: str) -> str:
    return MODULES[mod].read_text(encoding="utf-8")


def _code_without_docstrings(path: Path) -> str:
    """Source with docstrings and comments removed: a number in prose is not a second copy."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) and \
                isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
            body[0].value.value = ""
    return ast.unparse(tree)


def _defining(pattern: str) -> list[str]:
    """Modules that define a function, or a module-level constant, whose name matches `pattern`."""
    hits = []
    rx = re.compile(pattern)
    for mod, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = [n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]
        for node in tree.body:  # constants: module level only (fields of a model are not a home)
            if isinstance(node, ast.Assign | ast.AnnAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names += [t.id for t in targets if isinstance(t, ast.Name)]
        if any(rx.fullmatch(n) for n in names):
            hits.append(mod)
    return sorted(set(hits))


def _literal_homes(values: set[object]) -> list[str]:
    """Modules whose code (docstrings aside) holds one of these literal values."""
    hits = []
    for mod, path in MODULES.items():
        tree = ast.parse(_code_without_docstrings(path))
        if any(isinstance(n, ast.Constant) and type(n.value) is not bool and n.value in values
               for n in ast.walk(tree)):
            hits.append(mod)
    return sorted(hits)


SINGLE_HOMES: list[tuple[str, str, list[str]]] = [
    # (concept, pattern of definition names, its one home)
    ("visual tokens per request", r".*visual.*|.*vision_tokens.*", ["planner.perf.tokens", "planner.solver.resolve"]),
    ("tokens per request / per day", r"tokens_per_(request|day)|rps_for_tokens_per_day", ["planner.plan"]),
    ("hours per month", r"(HOURS|SECONDS)_PER_(MONTH|DAY)", ["planner.terms"]),
    ("commit basis", r"commit_(basis|phrase)|_BASIS|_COMMIT_BASIS|COMMITS", ["planner.terms"]),
    ("bytes per weight", r"(WEIGHT|BYTES)_(BYTES|PER_WEIGHT|PER_PARAM)|bytes_per_param", ["planner.catalog.params"]),
    ("Kubernetes name rules", r"_DNS1\d+_\w+|_LABEL_\w+|_NAME_PART|check_(name|label_key|label_value|subdomain)",
     ["planner.k8s_names"]),
    ("money and token formatting", r"_?usd|tokens|_fmt|_money", ["planner.fmt"]),
    ("feasibility of a configuration", r"check|tp_allowed|heads_problem|config_problem|check_parallelism|tp_choices",
     ["planner.feasibility"]),
    ("staleness policy", r"is_stale|stale_entries|STALE_AFTER_DAYS", ["planner.cost.staleness"]),
]


@pytest.mark.parametrize(("concept", "pattern", "home"), SINGLE_HOMES, ids=[c for c, _, _ in SINGLE_HOMES])
def test_one_home(concept: str, pattern: str, home: list[str]) -> None:
    assert _defining(pattern) == home, f"{concept} is defined outside its home {home}"


def test_hours_per_month_and_commit_names_are_not_restated() -> None:
    assert _literal_homes({730, 86400, 2628000.0}) == ["planner.terms"]
    assert _literal_homes({"on-demand"}) == ["planner.terms"]


def test_dollar_amounts_are_formatted_in_one_place() -> None:
    """`f"${x:,.0f}"` outside planner.fmt is a seventh private money formatter."""
    money = re.compile(r"\$\{[^}]*:,\.\d+f\}")
    hits = [mod for mod, path in MODULES.items() if money.search(path.read_text(encoding="utf-8"))
            and mod != "planner.fmt"]
    assert hits == []


def test_the_solver_is_not_called_downstream_of_the_plan() -> None:
    """Reports and renderers read the Plan; the only re-plan (sensitivity) happens in the solver."""
    for mod in MODULES:
        if layer(mod) in {"render", "report"}:
            assert "solve(" not in _source(mod), mod


# ---------------------------------------------------------------- the contracts can fail


def test_a_planted_backward_import_is_caught(tmp_path: Path) -> None:
    planted = tmp_path / "html.py"
    planted.write_text("from planner.solver import solve\n", encoding="utf-8")
    assert import_violations({"planner.report.html": planted}) == [
        "planner.report.html imports planner.solver: report may not import solver"]
    cost = tmp_path / "cloud.py"
    cost.write_text("def f() -> None:\n    from planner.request import Request\n", encoding="utf-8")
    assert import_violations({"planner.cost.cloud": cost}) == [
        "planner.cost.cloud imports planner.request: cost may not import request"]


def test_a_planted_cycle_is_caught() -> None:
    graph = _graph()
    graph["planner.cost.lines"] = {*graph["planner.cost.lines"], "planner.cost.curves"}
    assert find_cycle(graph) is not None


def test_a_planted_second_home_is_caught(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    second = tmp_path / "copy.py"
    second.write_text("HOURS_PER_MONTH = 730.0\n\ndef visual_tokens_of() -> None: ...\n", encoding="utf-8")
    monkeypatch.setitem(MODULES, "planner.report.copy", second)
    assert _defining(r"(HOURS|SECONDS)_PER_(MONTH|DAY)") == ["planner.report.copy", "planner.terms"]
    assert "planner.report.copy" in _literal_homes({730.0})
    assert "planner.report.copy" in _defining(r".*visual.*|.*vision_tokens.*")
