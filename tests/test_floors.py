"""The floors point down: no import cycle among accord's modules, no shell imports another shell, and only
the shells stand on `accord.app` (DESIGN.md, "The pipeline").

Imports are read from the source (every `import` and `from … import`, at module level or inside a function),
so an import made lazily to dodge a cycle still counts as the cycle it is.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "accord"

# Each shell: the modules (and packages) it is made of. A shell imports `accord.app` and the floors below it,
# and its own modules; never another shell's.
SHELLS = {
    "cli": ("accord.__main__", "accord.cli", "accord.cli_digest", "accord.cli_serve", "accord.command", "accord.workshop.cli",
            "accord.imports.cli"),
    "web": ("accord.web",),
    "digest": ("accord.digest",),
    "arbiter": ("accord.arbiter",),
}


def modules(package: Path = PACKAGE) -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its own name)."""
    out = {}
    for path in package.rglob("*.py"):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def import_graph(mods: dict[str, Path]) -> dict[str, set[str]]:
    """module -> the accord modules it imports (`from a.b import c` is a.b.c when that is a module)."""
    graph: dict[str, set[str]] = {}
    for name, path in mods.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                targets.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[:len(package.split(".")) - node.level + 1]
                    base = ".".join(up + ([node.module] if node.module else []))
                for a in node.names:
                    full = f"{base}.{a.name}"
                    targets.add(full if full in mods else base)
        graph[name] = {t for t in targets if t in mods and t != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            v, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[v] = min(low[v], index[child])
                continue
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


def shell_of(module: str) -> str | None:
    for shell, prefixes in SHELLS.items():
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return shell
    return None


@pytest.fixture(scope="module")
def graph():
    return import_graph(modules())


def test_no_import_cycle_among_accord_modules(graph):
    assert cycles(graph) == []


def test_no_shell_imports_another_shell_and_no_floor_imports_a_shell(graph):
    wrong = []
    for module, targets in graph.items():
        mine = shell_of(module)
        for target in targets:
            theirs = shell_of(target)
            if theirs is not None and theirs != mine:
                wrong.append(f"{module} imports {target} (the {theirs} shell)")
    assert wrong == []


def test_only_shells_stand_on_app(graph):
    users = sorted(m for m, targets in graph.items() if "accord.app" in targets and shell_of(m) is None)
    assert users == []


def test_the_cli_calls_app_for_loading_and_dates(graph):
    assert "accord.app" in graph["accord.cli"] and "accord.app" in graph["accord.workshop.cli"]


def test_the_checks_find_what_they_look_for(tmp_path):
    """The same functions on a small package with a lazy cycle and a shell importing another shell."""
    pkg = tmp_path / "accord"
    (pkg / "workshop").mkdir(parents=True)
    (pkg / "web").mkdir()
    for path, text in {"__init__.py": "", "workshop/__init__.py": "", "web/__init__.py": "",
                       "report.py": "def f():\n    from accord.report_sections import S\n",
                       "report_sections.py": "from accord.report import f\nS = 1\n",
                       "cli.py": "from accord.workshop.cli import app\n",
                       "workshop/cli.py": "def g():\n    from accord.cli import _load\n",
                       "web/pages.py": "from . import x\nfrom ..cli import app\n"}.items():
        (pkg / path).write_text(text)
    g = import_graph(modules(pkg))
    assert cycles(g) == [["accord.cli", "accord.workshop.cli"], ["accord.report", "accord.report_sections"]]
    assert "accord.cli" in g["accord.web.pages"] and shell_of("accord.web.pages") == "web"
