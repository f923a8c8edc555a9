"""The import graph of mockserver/, contracts/ and client/: no cycles (lazy imports inside functions count),
client/ and contracts/ never import mockserver, and no router module imports another router module; and the
layering rules the graph cannot see: routers hold no SQL and open no sessions (deps.SessionDep), no module
uses another module's private names, and the tenant filter is written only in mockserver/owned.py."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("mockserver", "contracts", "client")


def _modules() -> dict[str, Path]:
    out = {}
    for pkg in PACKAGES:
        for f in (ROOT / pkg).rglob("*.py"):
            parts = list(f.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = f
    return out


def _type_checking_only(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imported(tree: ast.AST) -> list[str]:
    names: list[str] = []
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _type_checking_only(node):
            names += [n for sub in node.orelse for n in _imported(ast.Module(body=[sub], type_ignores=[]))]
            continue
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names += [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        names += _imported(node)
    return names


def _graph() -> dict[str, set[str]]:
    mods = _modules()
    graph = {m: set() for m in mods}
    for m, f in mods.items():
        for name in _imported(ast.parse(f.read_text(encoding="utf-8"))):
            # `import a.b.c` also runs a and a.b: every package on the way is an edge
            parts = name.split(".")
            for i in range(1, len(parts) + 1):
                target = ".".join(parts[:i])
                if target in mods and target != m and not m.startswith(target + "."):
                    graph[m].add(target)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            v, children = work[-1]
            for w in children:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
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
    return found


def _routers() -> set[str]:
    """Modules that define a top-level `router = APIRouter(...)`."""
    out = set()
    for module, f in _modules().items():
        for node in ast.parse(f.read_text(encoding="utf-8")).body:
            if (isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "router"
                                                     for t in node.targets)
                    and isinstance(node.value, ast.Call) and getattr(node.value.func, "id", "") == "APIRouter"):
                out.add(module)
    return out


def test_no_import_cycles() -> None:
    assert _cycles(_graph()) == []


def test_cycle_detector_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_client_and_contracts_do_not_import_mockserver() -> None:
    graph = _graph()
    leaks = sorted((m, t) for m, targets in graph.items() if m.split(".")[0] in ("client", "contracts")
                   for t in targets if t.split(".")[0] == "mockserver")
    assert leaks == []


def test_no_router_imports_a_router() -> None:
    graph, routers = _graph(), _routers()
    assert len(routers) >= 8
    assert sorted((m, t) for m, targets in graph.items() if m in routers for t in targets if t in routers) == []


def test_router_modules_are_all_mounted() -> None:
    from mockserver.app import ROUTERS

    assert _routers() == set(ROUTERS)


_SQL = re.compile(r"(?<![.\w])(select|insert|update|delete)\(|\.exec(ute)?\(|\bdb\.session\(|\btext\(")


def test_routers_hold_no_sql_and_open_no_sessions() -> None:
    mods = _modules()
    found = [(m, n, line.strip()) for m in sorted(_routers()) for n, line in
             enumerate(mods[m].read_text(encoding="utf-8").splitlines(), 1) if _SQL.search(line)]
    assert found == []


def test_no_private_names_across_modules() -> None:
    mods = _modules()
    found = []
    for m, f in mods.items():
        tree = ast.parse(f.read_text(encoding="utf-8"))
        local = {a.asname or a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module
                 and n.module.split(".")[0] in PACKAGES for a in n.names}
        local |= {a.asname or a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names
                  if a.name.split(".")[0] in PACKAGES}
        found += [(m, n.lineno, a.name) for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module
                  and n.module.split(".")[0] in PACKAGES for a in n.names
                  if a.name.startswith("_") and not a.name.startswith("__")]
        found += [(m, n.lineno, n.attr) for n in ast.walk(tree) if isinstance(n, ast.Attribute)
                  and isinstance(n.value, ast.Name) and n.value.id in local
                  and n.attr.startswith("_") and not n.attr.startswith("__")]
    assert found == []


def test_the_tenant_filter_is_written_once() -> None:
    pattern = re.compile(r"(Row|table|\.c)\.tenant\s*==")   # a model's attribute or a Core table's column
    found = [(m, n) for m, f in _modules().items() if m.startswith("mockserver.") and ".migrations" not in m
             and m != "mockserver.owned" for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1)
             if pattern.search(line)]
    assert found == []
