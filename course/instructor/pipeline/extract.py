"""Reading notebooks without running them: which functions are the exercises, which lesson a
submission is, and what its source does that a grade must not reward.

- :func:`exercise_functions`: the exercise -> function mapping comes from the *solution* notebook's
  check cells (``check("layers.relu_backward", relu_backward, forward=relu_forward)``), parsed with
  :mod:`ast`. A learner who edits or deletes a check cell changes nothing: the grader looks the
  function name up in the learner's namespace after running all cells.
- :func:`notebook_lesson`: the lesson from the notebook metadata (``{"course": {"lesson": ...}}``),
  else from the file name, else from the exercise ids in its check cells.
- :func:`scan`: the learner's source, read in the grader's process (it cannot lie about itself):
  imports or uses of the reference implementation of an exercise (graded 0), writes into the
  grader (``course.grader.run.runner.run = ...``: the submission is graded 0), and remarks that cost
  nothing (monkeypatching NumPy, ``exec``) but are worth a look.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

from ...lessons import LESSON_NAME
from .cell_source import python_source

__all__ = [
    "Binding",
    "Findings",
    "code_cells",
    "python_source",
    "check_calls",
    "exercise_functions",
    "notebook_lesson",
    "is_check_only",
    "scan",
]

_LESSON = re.compile(LESSON_NAME.pattern.strip("^$"))  # the one lesson-name pattern, searchable
_DYNAMIC = {"exec", "eval", "compile", "__import__"}
_GRADER_PREFIXES = ("course.grader", "course.instructor")


@dataclass(frozen=True)
class Binding:
    """Exercise ``exercise_id`` is the learner's ``function`` (and, for a backward, ``forward``)."""

    exercise_id: str
    function: str
    forward: str | None = None


def code_cells(nb) -> list[tuple[int, str]]:
    """``(index, source)`` of the notebook's code cells, in order."""
    out = []
    for i, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") == "code":
            src = cell.get("source", "")
            out.append((i, "".join(src) if isinstance(src, list) else str(src)))
    return out


def _parse(source: str):
    try:
        return ast.parse(python_source(source))
    except (SyntaxError, ValueError):
        return None


def _name_of(node) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def check_calls(source: str) -> list[Binding]:
    """The ``check("<id>", fn, forward=fwd)`` calls of one cell's source, in order."""
    tree = _parse(source)
    if tree is None:
        return []
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and _name_of(node.func) == "check" and len(node.args) >= 2):
            continue
        ex, fn = node.args[0], node.args[1]
        if not (isinstance(ex, ast.Constant) and isinstance(ex.value, str) and isinstance(fn, ast.Name)):
            continue
        forward = next(
            (k.value.id for k in node.keywords if k.arg == "forward" and isinstance(k.value, ast.Name)), None
        )
        found.append(Binding(ex.value, fn.id, forward))
    return found


def exercise_functions(solution_nb) -> dict[str, Binding]:
    """Exercise id -> :class:`Binding`, from the check cells of a solution notebook (first check of
    each exercise wins)."""
    out: dict[str, Binding] = {}
    for _, source in code_cells(solution_nb):
        for b in check_calls(source):
            out.setdefault(b.exercise_id, b)
    return out


def is_check_only(source: str) -> bool:
    """True for a cell that only calls ``check(...)`` (and imports from ``course.grader``): such a
    cell cannot define anything, and what it prints does not count, so grading skips it."""
    tree = _parse(source)
    if tree is None or not tree.body:
        return False
    for stmt in tree.body:
        if isinstance(stmt, ast.ImportFrom) and (stmt.module or "").startswith("course.grader"):
            continue
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) and _name_of(stmt.value.func) == "check":
            call = stmt.value
            args = [*call.args, *(k.value for k in call.keywords)]
            if all(isinstance(a, (ast.Constant, ast.Name)) for a in args):
                continue
        return False
    return True


def notebook_lesson(nb, path, known: list[str] | tuple = ()) -> tuple[str | None, str]:
    """``(lesson, how it was found)``; ``(None, reason)`` when it cannot be told.

    Order: the notebook metadata; a known lesson name in the file name; the lesson of the exercise
    ids its check cells name (the most common one).
    """
    meta = nb.get("metadata", {}).get("course", {})
    lesson = meta.get("lesson") if isinstance(meta, dict) else None
    if isinstance(lesson, str) and _LESSON.fullmatch(lesson):
        return lesson, "metadata"
    stem = Path(path).stem
    for name in sorted(known, key=len, reverse=True):
        if name in stem:
            return name, "file name"
    ids = [b.exercise_id for _, src in code_cells(nb) for b in check_calls(src)]
    if ids:
        from ...grader import registry

        lessons = []
        for i in ids:
            try:
                lessons.append(registry.get(i).lesson)
            except KeyError:
                pass
        if lessons:
            return max(set(lessons), key=lessons.count), "check cells"
    m = _LESSON.search(stem)
    if m:
        return m.group(0), "file name"
    return None, "no lesson in the notebook metadata, the file name or the check cells"


# ---------------------------------------------------------------------------------------------
# Scanning the learner's source


@dataclass
class Findings:
    """What :func:`scan` found. ``uses_reference``: exercise id -> where; ``tampering`` and
    ``remarks``: sentences naming the cell and line."""

    uses_reference: dict = field(default_factory=dict)
    tampering: list = field(default_factory=list)
    remarks: list = field(default_factory=list)
    syntax_errors: list = field(default_factory=list)


def _dotted(node, aliases: dict) -> list[str]:
    """The dotted names an expression can stand for: ``L.relu_forward`` with ``import course.layers
    as L`` -> ["course.layers.relu_forward"]."""
    attrs = []
    while isinstance(node, ast.Attribute):
        attrs.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return []
    tail = ".".join(reversed(attrs))
    bases = aliases.get(node.id, {node.id})
    return [f"{b}.{tail}" if tail else b for b in bases]


def _aliases(trees) -> dict[str, set]:
    out: dict[str, set] = {}
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    if a.asname:
                        out.setdefault(a.asname, set()).add(a.name)
                    else:
                        top = a.name.split(".")[0]
                        out.setdefault(top, set()).add(top)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for a in node.names:
                    if a.name != "*":
                        out.setdefault(a.asname or a.name, set()).add(f"{node.module}.{a.name}")
    return out


_OBJECTS: dict[str, object] = {}


def _object(dotted: str):
    """The object a ``course.*`` dotted name denotes in the grader's process (None if none),
    looked up in the modules the grader has already imported, statically: a name in learner code
    never imports a module (``course.cli`` would start a grader) or runs a module's ``__getattr__``."""
    import inspect
    import sys

    if not (dotted == "course" or dotted.startswith("course.")):
        return None
    if dotted in _OBJECTS:
        return _OBJECTS[dotted]
    parts = dotted.split(".")
    obj = None
    for i in range(len(parts), 0, -1):
        obj = sys.modules.get(".".join(parts[:i]))
        if obj is None:
            continue
        for p in parts[i:]:
            obj = inspect.getattr_static(obj, p, None)
            obj = getattr(obj, "__func__", obj) if isinstance(obj, (staticmethod, classmethod)) else obj
            if obj is None:
                break
        break
    if len(_OBJECTS) < 100_000:
        _OBJECTS[dotted] = obj
    return obj


def _is_reference(obj, reference) -> bool:
    if obj is None:
        return False
    if obj is reference:
        return True
    code = getattr(obj, "__code__", None)
    return code is not None and code is getattr(reference, "__code__", None)


def _top_bindings(trees) -> dict[str, list]:
    """Top-level name -> the statements that bind it, in order (into if/for/with/try bodies)."""
    out: dict[str, list] = {}

    def visit(stmts, cell):
        for s in stmts:
            names = []
            if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names = [s.name]
            elif isinstance(s, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                targets = s.targets if isinstance(s, ast.Assign) else [s.target]
                for t in targets:
                    names += [n.id for n in ast.walk(t) if isinstance(n, ast.Name)]
            elif isinstance(s, (ast.Import, ast.ImportFrom)):
                names = [a.asname or a.name.split(".")[0] for a in s.names if a.name != "*"]
            for n in names:
                out.setdefault(n, []).append((cell, s))
            for body in ("body", "orelse", "finalbody"):
                if not isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    visit(getattr(s, body, []) or [], cell)
            for h in getattr(s, "handlers", []) or []:
                visit(h.body, cell)

    for cell, tree in trees:
        visit(tree.body, cell)
    return out


def _where(cell: int, node) -> str:
    return f"cell {cell + 1}, line {getattr(node, 'lineno', '?')}"


def _local_names(stmt) -> set:
    """What a function binds itself (parameters, assignments): these shadow top-level names."""
    if not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        return set()
    a = stmt.args
    names = {x.arg for x in [*a.posonlyargs, *a.args, *a.kwonlyargs, *filter(None, (a.vararg, a.kwarg))]}
    names |= {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    return names - {n for g in ast.walk(stmt) if isinstance(g, (ast.Global, ast.Nonlocal)) for n in g.names}


def _uses(stmt, aliases) -> list[tuple[str, object]]:
    """Dotted names used inside ``stmt`` (with the node that uses them)."""
    found = []
    if isinstance(stmt, (ast.Import, ast.ImportFrom)):
        module = getattr(stmt, "module", None)
        for a in stmt.names:
            name = f"{module}.{a.name}" if isinstance(stmt, ast.ImportFrom) and module else a.name
            found.append((name, stmt))
        return found
    for node in ast.walk(stmt):
        if isinstance(node, (ast.Name, ast.Attribute)) and isinstance(getattr(node, "ctx", None), ast.Load):
            for d in _dotted(node, aliases):
                found.append((d, node))
    return found


def scan(cells: list[tuple[int, str]], bindings: dict, exercises: dict) -> Findings:
    """Read the learner's code cells (``(index, source)``) for what must not raise a grade.

    - bindings: exercise id -> :class:`Binding` (from the solution notebook);
    - exercises: exercise id -> registry Exercise (for its reference implementation).
    """
    f = Findings()
    trees = []
    for index, source in cells:
        tree = _parse(source)
        if tree is None:
            f.syntax_errors.append(index)
            continue
        trees.append((index, tree))
    aliases = _aliases(t for _, t in trees)
    top = _top_bindings(trees)

    # writes into the grader, monkeypatching, dynamic code
    for cell, tree in trees:
        for node in ast.walk(tree):
            targets = []
            if isinstance(node, (ast.Assign, ast.Delete)):
                targets = node.targets
            elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
                targets = [node.target]
            for t in targets:
                if isinstance(t, ast.Subscript) and "sys.modules" in _dotted(t.value, aliases):
                    f.tampering.append(f"replaces a module in sys.modules ({_where(cell, node)})")
                if not isinstance(t, ast.Attribute):
                    continue
                for d in _dotted(t, aliases):
                    if d.startswith(_GRADER_PREFIXES):
                        f.tampering.append(f"modifies the grader: `{d} = ...` ({_where(cell, node)})")
                    elif d.startswith(("numpy.", "course.")):
                        f.remarks.append(
                            f"monkeypatches `{d}` ({_where(cell, node)}); no effect on the grade: "
                            "the comparison runs outside the notebook"
                        )
            if isinstance(node, ast.Call):
                fname = _name_of(node.func)
                if fname in ("setattr", "delattr") and node.args:
                    for d in _dotted(node.args[0], aliases):
                        if d.startswith(_GRADER_PREFIXES):
                            f.tampering.append(f"modifies the grader: {fname}({d}, ...) ({_where(cell, node)})")
                        elif d.startswith(("numpy", "course")):
                            f.remarks.append(f"monkeypatches {d} with {fname} ({_where(cell, node)})")
                called = _dotted(node.func, aliases)
                if fname in _DYNAMIC and isinstance(node.func, ast.Name):
                    f.remarks.append(f"runs dynamic code with {fname}() ({_where(cell, node)}): worth a look")
                elif any(d in ("importlib.import_module", "importlib.reload") for d in called):
                    f.remarks.append(f"imports modules dynamically ({_where(cell, node)}): worth a look")
                elif any(d in ("sys.setprofile", "sys.settrace", "threading.setprofile") for d in called):
                    f.tampering.append(f"changes the interpreter's profiling hooks ({_where(cell, node)})")
            if isinstance(node, ast.Attribute) and node.attr in ("reference", "make_cases", "_REGISTRY"):
                f.tampering.append(f"reads the grader's internals (`.{node.attr}`, {_where(cell, node)})")

    # the reference implementation of each exercise, used by the learner's function
    for ex_id, b in bindings.items():
        ex = exercises.get(ex_id)
        if ex is None or b.function not in top:
            continue
        seen_defs: set = set()
        pending = [top[b.function][-1]]
        while pending:
            cell, stmt = pending.pop()
            if id(stmt) in seen_defs:
                continue
            seen_defs.add(id(stmt))
            hit, local = None, _local_names(stmt)
            for d, node in _uses(stmt, aliases):
                if _is_reference(_object(d), ex.reference):
                    hit = (d, node)
                    break
                name = d.split(".")[0]
                if "." not in d and name in top and name != b.function and name not in local:
                    pending.extend(s for s in top[name] if isinstance(s[1], (ast.FunctionDef, ast.Lambda,
                                                                            ast.Assign, ast.ClassDef)))
            if hit:
                f.uses_reference[ex_id] = f"`{hit[0]}` ({_where(cell, hit[1])})"
                break
    f.tampering = list(dict.fromkeys(f.tampering))
    f.remarks = list(dict.fromkeys(f.remarks))
    return f
