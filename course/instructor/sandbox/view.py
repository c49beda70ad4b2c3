"""The grading view of ``course``: the only ``course`` that learner code can import.

A folder built once per batch from the installed package, mounted read-only in every sandbox.
It holds what lesson cells need and what the run phase needs, and none of the exercises'
reference implementations:

- kept: the package's ``__init__``, :data:`KEEP` (data, plots, widgets, ``course.notebook``,
  the test functions, the backend) and the sandbox side of the grader (:data:`GRADER_KEEP`, folders: the
  run phase ``grader/run``, the cases' helpers, and ``instructor/sandbox/inside``: the driver, the
  frames and the wire format);
- ``course.grader`` is a stand-in whose ``check`` only says that the grader checks the notebook;
- any function of a kept module that is an exercise's reference is replaced by one that raises
  (``course.data.minibatches`` is the reference of ``gradient_descent.minibatches``);
- everything else (``course.layers``, ``course.optim``, ``course/grader/topics``, the grader's
  comparison, the instructor tools) is not there: the driver (:mod:`course.instructor.sandbox.inside.box`)
  answers imports of it with stand-ins whose functions raise.

:func:`build` checks the result: no function in the view has the normalised AST fingerprint of
an exercise's reference (:mod:`course.instructor.pipeline.copies`); otherwise it raises ``ViewError``.
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

__all__ = ["ViewError", "build", "modules", "KEEP", "GRADER_KEEP"]

KEEP = ("__init__.py", "backend.py", "validation.py", "data", "plots.py", "widgets", "notebook.py",
        "progress.py", "functions.py")
#: The sandbox side of grading, as folders: the grader's run phase (and the cases' data helpers it
#: uses), the simulated SPMD world, and what runs inside the sandbox (driver, frames, wire format).
GRADER_KEEP = ("grader/run", "grader/cases.py", "parallel/spmd.py", "instructor/sandbox/inside")

GRADER_STUB = '''"""``course.grader`` while the instructor grades: ``check`` does nothing here.

The grader runs your functions itself, on its own cases, after your notebook has run."""


def check(exercise_id, fn=None, *args, **kwargs):
    """Does nothing while the notebook is graded (the grader checks every exercise itself)."""
    print(f"check({exercise_id!r}): graded by the instructor's grader")
    return None


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    from course.instructor.sandbox.inside.box import _Stand_in

    return _Stand_in(f"course.grader.{name}")
'''
PARALLEL_STUB = '''"""``course.parallel`` while the instructor grades: only the simulated world (``spmd``) is here."""

import importlib

_SPMD = ("spmd", "SimComm", "RankTrace", "RankError", "run_ranks")


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    if name in _SPMD:  # the simulated world itself holds no exercise's reference
        spmd = importlib.import_module("course.parallel.spmd")
        return spmd if name == "spmd" else getattr(spmd, name)
    from course.instructor.sandbox.inside.box import _Stand_in

    return _Stand_in(f"course.parallel.{name}")
'''
INSTRUCTOR_STUB = '"""The sandbox side of grading: only what runs inside the sandbox is here."""\n'
#: Package stubs written over the packages of the kept folders (their real ``__init__`` imports
#: what the view does not hold, or nothing the sandbox needs).
STUBS = {"grader": GRADER_STUB, "instructor": INSTRUCTOR_STUB, "instructor/sandbox": INSTRUCTOR_STUB,
         "parallel": PARALLEL_STUB}


def modules() -> set:
    """The dotted names of the modules in the grading view."""
    src = _package()
    out = {"course", *("course." + name.replace("/", ".") for name in STUBS)}
    for name in (*KEEP, *GRADER_KEEP):
        p = src / name
        files = sorted(p.rglob("*.py")) if p.is_dir() else [p]
        for f in files:
            parts = list(f.relative_to(src).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out.add(".".join(["course", *parts]))
    return out


class ViewError(RuntimeError):
    """The grading view would hold a reference implementation (the message names it)."""


def _package() -> Path:
    import course

    return Path(course.__file__).resolve().parent


def _withhold(path: Path, names: set) -> None:
    """Replace the top-level functions ``names`` of the module at ``path`` by ones that raise."""
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    for node in sorted((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name in names),
                       key=lambda n: n.lineno, reverse=True):
        first = node.decorator_list[0].lineno if node.decorator_list else node.lineno
        stub = (f"def {node.name}(*args, **kwargs):\n"
                f"    raise RuntimeError('{node.name} is not available while your notebook is graded')\n")
        lines[first - 1:node.end_lineno] = [stub]
    path.write_text("".join(lines), encoding="utf-8")


def _delegate(fn):
    """The function a thin wrapper (``return other(...)``, nothing else) hands its work to."""
    import inspect
    import textwrap

    try:
        node = ast.parse(textwrap.dedent(inspect.getsource(fn))).body[0]
    except (OSError, TypeError, SyntaxError, IndexError):
        return None
    body = [s for s in node.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
    if len(body) != 1 or not isinstance(body[0], ast.Return) or not isinstance(body[0].value, ast.Call):
        return None
    func = body[0].value.func
    if isinstance(func, ast.Name):
        target = getattr(fn, "__globals__", {}).get(func.id)
        return target if callable(target) and str(getattr(target, "__module__", "")).startswith("course") else None
    return None


def _references(exercises):
    """``(module, name, function)`` of every exercise's reference implementation, and of the
    course functions a thin wrapper among them calls."""
    out = []
    for ex in exercises:
        fn, hops = ex.reference, 0
        while fn is not None and hops < 5:
            out.append((getattr(fn, "__module__", "") or "", getattr(fn, "__name__", ""), fn))
            fn, hops = _delegate(fn), hops + 1
    return out


def _module_file(module: str, root: Path) -> Path | None:
    parts = module.split(".")
    if parts[0] != "course":
        return None
    base = root.joinpath(*parts[1:])
    for p in (base.with_suffix(".py"), base / "__init__.py"):
        if p.is_file():
            return p
    return None


def build(dest, exercises) -> Path:
    """Build the view under ``dest`` (``dest/course``) for the ``exercises`` (registry objects);
    returns ``dest``. Files are world-readable, the folder is meant to be mounted read-only."""
    from ..pipeline import copies

    src, dest = _package(), Path(dest)
    root = dest / "course"
    if root.exists():
        shutil.rmtree(root)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in (*KEEP, *GRADER_KEEP):
        s, d = src / name, root / name
        d.parent.mkdir(parents=True, exist_ok=True)
        if s.is_dir():
            shutil.copytree(s, d, ignore=ignore)
        elif s.is_file():
            shutil.copy2(s, d)
    for name, stub in STUBS.items():
        (root / name / "__init__.py").write_text(stub, encoding="utf-8")
    refs = _references(exercises)
    by_file: dict = {}
    for module, name, _ in refs:
        f = _module_file(module, root)
        if f is not None:
            by_file.setdefault(f, set()).add(name)
    for f, names in by_file.items():
        _withhold(f, names)
    _verify(root, refs, copies)
    for p in [dest, *dest.rglob("*")]:
        p.chmod(0o755 if p.is_dir() else 0o644)
    return dest


def _verify(root: Path, refs, copies) -> None:
    shapes = [(f"{m}.{n}", copies.reference_shape(fn)) for m, n, fn in refs]
    shapes = [(label, s) for label, s in shapes if s is not None and s.size >= copies.MIN_TOKENS // 2]
    for path in root.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef):
                continue
            mine = copies.shape_of(node)
            for label, ref in shapes:
                if mine.tokens == ref.tokens:
                    raise ViewError(f"the grading view would hold the reference {label} "
                                    f"({path.relative_to(root.parent)}, def {node.name}); move it out of "
                                    f"the modules learner code may import ({', '.join(KEEP)})")
