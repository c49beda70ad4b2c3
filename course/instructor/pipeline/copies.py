"""Copy detection by a normalised AST fingerprint, in the grader's process.

A function is first put into its canonical form (:mod:`course.instructor.pipeline.canonical`: comments,
docstrings, ``pass`` and other no-op statements gone, independent statements in one canonical
order), then reduced to the sequence of its syntax: every local name (the arguments, the
variables, inner functions) renamed by its role (an argument by its position, a variable by the
statement that first stores it: :func:`course.instructor.pipeline.canonical.stable_names`),
attribute names, globals such as ``np`` and numbers kept, strings all alike. Renaming,
reformatting, padding with no-ops, swapping independent lines or changing comments and
docstrings leave that sequence as it is; a line added changes only the 5-grams around it.
Two functions are *near copies* when the sets of their 5-grams of that sequence overlap by at
least :data:`THRESHOLD` (Jaccard), or are equal.

Short functions are not compared (:data:`MIN_TOKENS`): ``return np.maximum(0, x)`` is what
everybody writes, the reference included.

- :func:`notebook_shapes`: every function and class the notebook defines, whatever its name,
  and what each top-level name is bound to (``linear_forward = _mine`` is resolved);
- :func:`reference_copies`: exercise id -> why, when any function of the notebook is a near copy
  of that exercise's reference implementation (its source found with :mod:`inspect` in the grader);
- :func:`classmate_copies`: per submission and exercise, the classmates whose answer (the bound
  function and the notebook's functions it calls) is a near copy of it.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import textwrap
from dataclasses import dataclass, field

from .canonical import canonical, locals_of, stable_names

__all__ = ["Shape", "NotebookShapes", "shape_of", "notebook_shapes", "function_shapes", "similarity",
           "nearest", "reference_copies", "classmate_copies", "THRESHOLD", "MIN_TOKENS"]

THRESHOLD = 0.9
MIN_TOKENS = 60
_N = 5
_BUILTINS = set(dir(builtins))


@dataclass(frozen=True)
class Shape:
    """A function's normalised token sequence and its 5-gram set."""

    tokens: tuple
    grams: frozenset

    @property
    def size(self) -> int:
        return len(self.tokens)


class _Normaliser(ast.NodeVisitor):
    def __init__(self, local: set, names: dict):
        self.local = local
        self.names = dict(names)
        self.out: list = []

    def _name(self, name: str) -> str:
        if name in self.local:
            return self.names.setdefault(name, f"v{len(self.names)}")
        return name if name in _BUILTINS else f"g:{name}"

    def generic_visit(self, node):
        self.out.append(type(node).__name__)
        if isinstance(node, ast.Name):
            self.out.append(self._name(node.id))
        elif isinstance(node, ast.arg):
            self.out.append(self._name(node.arg))
        elif isinstance(node, ast.Attribute):
            self.out.append("." + node.attr)
        elif isinstance(node, ast.Constant):  # strings (messages) do not count, numbers do
            self.out.append("str" if isinstance(node.value, str) else repr(node.value)[:40])
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            self.out.append(self._name(node.name))
        super().generic_visit(node)


def shape_of(node) -> Shape:
    """The :class:`Shape` of a function or class definition (its own name does not count; for a
    class, the methods' names and bodies: the learner's ``Value`` of lesson 02), taken from its
    canonical form (:func:`course.instructor.pipeline.canonical.canonical`: no-ops gone, independent
    statements in one order)."""
    node = canonical(node)
    local = locals_of(node)
    v = _Normaliser(local, stable_names(node, local))
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        v.visit(node.args)
    for stmt in node.body:
        v.visit(stmt)
    tokens = tuple(v.out)
    return Shape(tokens, frozenset(tokens[i:i + _N] for i in range(max(1, len(tokens) - _N + 1))))


def similarity(a: Shape, b: Shape) -> float:
    """Jaccard overlap of the two 5-gram sets (1.0 for equal sequences)."""
    if a.tokens == b.tokens:
        return 1.0
    union = len(a.grams | b.grams)
    return len(a.grams & b.grams) / union if union else 0.0


@dataclass
class NotebookShapes:
    """Every function and class a notebook defines, fingerprinted whatever its name.

    ``every``: ``(label, Shape)`` of each definition anywhere in the cells (top level, inside a
    class, a branch or another function); ``bound``: top-level name -> the shapes that answer it:
    the definition the name is bound to in the end (through ``name = other`` aliases), then the
    notebook's own functions it calls by name (a wrapper's helper)."""

    every: list = field(default_factory=list)
    bound: dict = field(default_factory=dict)

    def get(self, name, default=None):
        return self.bound.get(name, default)

    def __contains__(self, name) -> bool:
        return name in self.bound

    def __getitem__(self, name):
        return self.bound[name]


def _calls(node) -> set:
    return {c.func.id for c in ast.walk(node) if isinstance(c, ast.Call) and isinstance(c.func, ast.Name)}


def notebook_shapes(cells) -> NotebookShapes:
    """The :class:`NotebookShapes` of the cells (``(index, source)``), read without running them."""
    from .extract import python_source

    defs, aliases, every = {}, {}, []
    for index, source in cells:
        try:
            tree = ast.parse(python_source(source))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                every.append((f"{node.name} (cell {index + 1}, line {node.lineno})", node))
        for stmt in tree.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                defs[stmt.name], _ = stmt, aliases.pop(stmt.name, None)
            elif isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Name):
                for target in stmt.targets:
                    if isinstance(target, ast.Name):
                        aliases[target.id] = stmt.value.id
    shapes = {id(node): shape_of(node) for _, node in every}
    out = NotebookShapes([(label, shapes[id(node)]) for label, node in every])
    for name in {*defs, *aliases}:
        target, hops = name, 0
        while target in aliases and hops < 20:
            target, hops = aliases[target], hops + 1
        node = defs.get(target)
        if node is not None:
            helpers = sorted(n for n in _calls(node) if n in defs and n != target)
            out.bound[name] = (shapes[id(node)], *(shapes[id(defs[n])] for n in helpers))
    return out


def function_shapes(cells, names) -> dict:
    """``name -> Shape`` of what each of ``names`` is bound to at the top level of the cells
    (the last ``def``/``class`` of that name, or the one an alias ``name = other`` points to)."""
    found = notebook_shapes(cells).bound
    return {name: found[name][0] for name in names if name in found}


_REFERENCE_SHAPES: dict = {}


def reference_shape(fn) -> Shape | None:
    """The shape of a reference implementation's source (``None`` without readable source)."""
    key = id(fn)
    if key not in _REFERENCE_SHAPES:
        try:
            node = ast.parse(textwrap.dedent(inspect.getsource(fn))).body[0]
            _REFERENCE_SHAPES[key] = shape_of(node) if isinstance(node, (ast.FunctionDef, ast.ClassDef)) else None
        except (OSError, TypeError, SyntaxError, IndexError):
            _REFERENCE_SHAPES[key] = None
    return _REFERENCE_SHAPES[key]


def _every(shapes) -> list:
    if isinstance(shapes, NotebookShapes):
        return shapes.every
    return [(f"`{name}`", s) for name, s in shapes.items()]


def nearest(shapes, ref: Shape) -> tuple[float, str]:
    """``(similarity, label)`` of the ``(label, Shape)`` pair nearest to ``ref``, among those long
    enough to be compared; ``(0.0, "")`` when there is none. A near copy when the similarity is at
    least :data:`THRESHOLD` (the one rule for learners' notebooks and for the grading view)."""
    return max(((similarity(s, ref), label) for label, s in shapes if s.size >= MIN_TOKENS), default=(0.0, ""))


def reference_copies(shapes, bindings: dict, exercises: dict) -> dict:
    """Exercise id -> a sentence, when any function of the notebook, whatever its name, is a near
    copy of that exercise's reference. ``shapes``: :class:`NotebookShapes` (or name -> Shape);
    ``bindings``: id -> Binding (the exercises to look at); ``exercises``: id -> Exercise."""
    out = {}
    every = _every(shapes)
    for ex_id in bindings:
        ex = exercises.get(ex_id)
        ref = reference_shape(ex.reference) if ex is not None and not ex.forced else None
        if ref is None:
            continue
        best = nearest(every, ref)
        if best[0] >= THRESHOLD:
            out[ex_id] = (f"{best[1]} is a near copy of the course's reference "
                          f"`{ex.reference.__module__}.{ex.reference.__name__}` (similarity {best[0]:.2f})")
    return out


def _as_tuple(shapes) -> tuple:
    return shapes if isinstance(shapes, tuple) else (shapes,)


def classmate_copies(shapes_by_submission: dict) -> dict:
    """``{(submission, exercise id): [(classmate, similarity), ...]}`` for near copies between
    submissions. ``shapes_by_submission``: submission -> {exercise id: Shape, or the tuple of
    shapes that answer it (:attr:`NotebookShapes.bound`)} (attempted ones). Both sides of a pair
    are listed: the grader cannot tell who copied whom."""
    by_exercise: dict = {}
    for sub, shapes in shapes_by_submission.items():
        for ex_id, answer in shapes.items():
            big = [s for s in _as_tuple(answer) if s.size >= MIN_TOKENS]
            if big:
                by_exercise.setdefault(ex_id, []).append((sub, big))
    out: dict = {}
    for ex_id, items in by_exercise.items():
        for i, (a, sa) in enumerate(items):
            for b, sb in items[i + 1:]:
                s = max(similarity(x, y) for x in sa for y in sb)
                if s >= THRESHOLD:
                    out.setdefault((a, ex_id), []).append((b, s))
                    out.setdefault((b, ex_id), []).append((a, s))
    return out
