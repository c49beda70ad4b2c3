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

    assert not reach("course.grader.cases") & {"course.grader.registry", "course.grader.run.runner"}
    assert "course.grader.compare" not in reach("course.grader.run.runner")
    assert not reach("course.grader.compare") & {"course.grader.run.runner", "course.grader.run.protocols",
                                                 "course.grader.run.calling"}
    assert "course.progress" not in reach("course.grader")


def _reach(g, m, seen=None):
    seen = set() if seen is None else seen
    for n in g.get(m, ()):
        if n not in seen and n not in _parents(m):
            seen.add(n)
            _reach(g, n, seen)
    return seen


def _under(graph, package):
    return sorted(m for m in graph if m == package or m.startswith(package + "."))


def test_the_run_folder_imports_nothing_from_compare_topics_or_the_bug_models():
    """course/grader/run/ is what the sandbox holds: no module in it reaches, by any import (also
    inside functions), the compare phase, the topics (they hold the references) or the models."""
    g = import_graph()
    run = _under(g, "course.grader.run")
    assert {"course.grader.run.runner", "course.grader.run.protocols"} <= set(run)
    forbidden = ("course.grader.compare", "course.grader.topics", "course.grader.models")
    for m in run:
        bad = sorted(n for n in _reach(g, m) if n.startswith(forbidden))
        assert not bad, f"{m} imports {', '.join(bad)}: the run phase must not need the grader's side"


def test_what_runs_in_the_sandbox_imports_only_the_grading_view():
    """The run folder and instructor/sandbox/inside reach only modules the grading view holds."""
    from course.instructor.sandbox import view

    g, held = import_graph(), view.modules()
    inside = _under(g, "course.grader.run") + _under(g, "course.instructor.sandbox.inside")
    assert inside and set(inside) <= held
    for m in inside:
        missing = sorted(n for n in _reach(g, m) if n not in held)
        assert not missing, f"{m} imports {', '.join(missing)}, which the grading view does not hold"


def test_the_layering_check_sees_a_forbidden_import():
    g = {"course.grader.run.a": {"course.grader.run.b"}, "course.grader.run.b": {"course.grader.compare.core"}}
    assert "course.grader.compare.core" in _reach(g, "course.grader.run.a")
