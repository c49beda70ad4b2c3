"""Copy detection by a normalised AST fingerprint, in the grader's process.

A function is reduced to the sequence of its syntax: docstrings dropped, every local name (the
arguments, the variables, inner functions) renamed by order of first use, attribute names,
globals such as ``np`` and numbers kept, strings
all alike. Renaming variables, reformatting or changing comments
leaves that sequence as it is. Two functions are *near copies* when the sets of their 5-grams of
that sequence overlap by at least :data:`THRESHOLD` (Jaccard), or are equal.

Short functions are not compared (:data:`MIN_TOKENS`): ``return np.maximum(0, x)`` is what
everybody writes, the reference included.

- :func:`reference_copies`: exercise id -> why, for the learner functions that are near copies of
  the reference implementation's source (found with :mod:`inspect` in the grader);
- :func:`classmate_copies`: per submission and exercise, the classmates whose function is a near
  copy of it.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import textwrap
from dataclasses import dataclass

__all__ = ["Shape", "shape_of", "function_shapes", "similarity", "reference_copies", "classmate_copies",
           "THRESHOLD", "MIN_TOKENS"]

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
    def __init__(self, local: set):
        self.local = local
        self.names: dict = {}
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


def _strip_docstrings(tree):
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Module)) and body
                and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)):
            node.body = body[1:] or [ast.Pass()]
    return tree


def shape_of(node) -> Shape:
    """The :class:`Shape` of a function or class definition (its own name does not count; for a
    class, the methods' names and bodies in order: the learner's ``Value`` of lesson 02)."""
    node = _strip_docstrings(ast.parse(ast.unparse(node)).body[0])
    local = {a.arg for a in ast.walk(node) if isinstance(a, ast.arg)}
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, (ast.Store, ast.Del)):
            local.add(sub.id)
        elif isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef)) and isinstance(node, ast.FunctionDef) \
                and sub is not node:
            local.add(sub.name)
    v = _Normaliser(local)
    if isinstance(node, ast.FunctionDef):
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


def function_shapes(cells, names) -> dict:
    """``name -> Shape`` of the last top-level ``def name`` or ``class name`` in the cells
    (``(index, source)``)."""
    from .extract import python_source

    found: dict = {}
    for _, source in cells:
        try:
            tree = ast.parse(python_source(source))
        except (SyntaxError, ValueError):
            continue
        for stmt in tree.body:
            if isinstance(stmt, (ast.FunctionDef, ast.ClassDef)) and stmt.name in names:
                found[stmt.name] = stmt
    return {name: shape_of(node) for name, node in found.items()}


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


def reference_copies(shapes: dict, bindings: dict, exercises: dict) -> dict:
    """Exercise id -> a sentence, for learner functions that are near copies of the reference.
    ``shapes``: function name -> Shape; ``bindings``: id -> Binding; ``exercises``: id -> Exercise."""
    out = {}
    for ex_id, b in bindings.items():
        mine, ex = shapes.get(b.function), exercises.get(ex_id)
        if mine is None or ex is None or mine.size < MIN_TOKENS:
            continue
        ref = reference_shape(ex.reference)
        if ref is None:
            continue
        s = similarity(mine, ref)
        if s >= THRESHOLD:
            out[ex_id] = (f"`{b.function}` is a near copy of the course's reference "
                          f"`{ex.reference.__module__}.{ex.reference.__name__}` (similarity {s:.2f})")
    return out


def classmate_copies(shapes_by_submission: dict) -> dict:
    """``{(submission, exercise id): [(classmate, similarity), ...]}`` for near copies between
    submissions. ``shapes_by_submission``: submission -> {exercise id: Shape} (attempted ones)."""
    by_exercise: dict = {}
    for sub, shapes in shapes_by_submission.items():
        for ex_id, shape in shapes.items():
            if shape.size >= MIN_TOKENS:
                by_exercise.setdefault(ex_id, []).append((sub, shape))
    out: dict = {}
    for ex_id, items in by_exercise.items():
        for i, (a, sa) in enumerate(items):
            for b, sb in items[i + 1:]:
                s = similarity(sa, sb)
                if s >= THRESHOLD:
                    out.setdefault((a, ex_id), []).append((b, s))
                    out.setdefault((b, ex_id), []).append((a, s))
    return out
