"""The import graph of ``course/`` has no cycle (every import counts, also those inside functions),
so the grader's phases are what the imports say: cases <- run <- compare <- report."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "course"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(module: str, is_package: bool, level: int, name: str | None) -> str:
    if level == 0:
        return name or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([name] if name else []))


def import_graph() -> dict[str, set[str]]:
    """``{module: course modules it imports}`` for every module under course/."""
    files = {_module_name(p): p for p in ROOT.rglob("*.py")}
    graph: dict[str, set[str]] = {m: set() for m in files}
    for module, path in files.items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(module, is_package, node.level, node.module)
                targets = [base] + [f"{base}.{a.name}" for a in node.names]
            for t in targets:
                while t and t not in files:  # "course.grader.cases.Case" -> "course.grader.cases"
                    t = t.rpartition(".")[0]
                if t and t != module and t.startswith("course"):
                    graph[module].add(t)
    return graph


def _parents(module: str) -> set[str]:
    parts = module.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts))}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle as a list of modules, or None. Importing a package's own submodule from the package
    (``course.grader`` -> ``course.grader.cases``) and a submodule's import of its parent package
    for a sibling are both edges: the parent package runs first either way, so an import of the
    parent from inside it is left out (it cannot be avoided by layout)."""
    WHITE, GREY, BLACK = 0, 1, 2
    colour = dict.fromkeys(graph, WHITE)
    stack: list[str] = []

    def visit(m):
        colour[m] = GREY
        stack.append(m)
        for n in sorted(graph[m]):
            if n in _parents(m):  # a submodule importing its own package: the package is already running
                continue
            if colour[n] == GREY:
                return stack[stack.index(n):] + [n]
            if colour[n] == WHITE:
                found = visit(n)
                if found:
                    return found
        stack.pop()
        colour[m] = BLACK
        return None

    for m in sorted(graph):
        if colour[m] == WHITE:
            found = visit(m)
            if found:
                return found
    return None


def test_the_import_graph_of_course_is_acyclic():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_the_grader_phases_are_layered():
    """cases knows no run, run knows no compare, compare knows no run, progress is not imported by
    the grader."""
    g = import_graph()

    def reach(m, seen=None):
        seen = set() if seen is None else seen
        for n in g.get(m, ()):
            if n not in seen and n not in _parents(m):
                seen.add(n)
                reach(n, seen)
        return seen

    assert not reach("course.grader.cases") & {"course.grader.registry", "course.grader.runner"}
    assert "course.grader.compare" not in reach("course.grader.runner")
    assert not reach("course.grader.compare") & {"course.grader.runner", "course.grader.protocols",
                                                 "course.grader.calling"}
    assert "course.progress" not in reach("course.grader")
