"""The run phase of the protocols that topic modules use: code that calls the learner's function
and needs no reference implementation, so that it runs in the instructor's sandbox too, where
the references do not exist (:mod:`course.instructor.sandbox.view`). The grader-side parts (judges,
diagnoses, variants) stay in the topic modules, as data given to ``register``.

- :class:`Seeded`: a call with a fresh ``numpy.random.Generator`` from the case's seed (lesson 05).
- :class:`ValueOp`, :class:`ValueBackward`, :class:`TopoOrder`: the scalar autograd exercises
  (lesson 02) on expressions built from :data:`EXPRESSIONS`; :class:`GraphNode` is a forward-only
  node (data and ``_prev``, no gradients) that builds the same graphs as the course's ``Value``,
  for ``topological_order``.
"""

from __future__ import annotations

import dataclasses
import math
import numbers

import numpy as np

from .calling import LearnerMistake, call_learner, capture, plain
from .outcome import Outcome
from .probes import value_probe
from .protocols import Call, Protocol

__all__ = ["Seeded", "ValueOp", "ValueBackward", "TopoOrder", "GraphNode", "EXPRESSIONS"]


class Seeded(Call):
    """``fn(*args, **kwargs, rng=numpy.random.default_rng(case.extra["seed"]))``, with a new
    generator for every call. With ``consume=True`` the returned iterable is turned into a list
    of ``(Xb, yb)`` pairs inside the run phase (errors raised while iterating are the learner's)."""

    def __init__(self, consume: bool = False):
        super().__init__()
        self.consume = consume

    def run(self, exercise, fn, case, options):
        fresh = dataclasses.replace(case, kwargs={**case.kwargs, "rng": np.random.default_rng(case.extra["seed"])})
        if not self.consume:
            return super().run(exercise, fn, fresh, options)
        return self._consume(exercise, fn, fresh)

    def _consume(self, exercise, fn, case):
        X, y = case.args[0].copy(), case.args[1].copy()
        try:
            ret = call_learner(fn, X, y, *case.args[2:], **case.kwargs)
            if ret is None:
                raise LearnerMistake(
                    "Your function returned None: yield each batch (yield Xb, yb) or return a list of "
                    "(Xb, yb) pairs."
                )
            try:
                items = iter(ret)
            except TypeError:
                raise LearnerMistake(
                    f"Your function returned a {type(ret).__name__}, which cannot be looped over: yield each "
                    "batch (yield Xb, yb)."
                ) from None
            batches = []
            for i, item in enumerate(call_learner(list, items)):
                if not isinstance(item, (tuple, list)) or len(item) != 2:
                    what = f"{len(item)} values" if isinstance(item, (tuple, list)) else f"a {type(item).__name__}"
                    raise LearnerMistake(f"Batch {i} is {what}; each batch should be a pair (Xb, yb).")
                batches.append((plain(item[0]), plain(item[1])))
                if len(batches) > 10 * case.args[0].shape[0] + 10:
                    raise LearnerMistake("Your iterator never stops: one epoch has at most N batches.")
        except Exception as exc:
            return Outcome(error=capture(exc))
        mutated = tuple(n for n, a, o in zip(("X", "y"), (X, y), case.args) if not np.array_equal(a, o))
        return Outcome(outputs=batches, mutated=mutated)


# expression name -> (number of Value inputs, function of (values..., constants...))
EXPRESSIONS = {
    "a + b": (2, lambda a, b: a + b),
    "a + c": (1, lambda a, c: a + c),
    "a + a": (1, lambda a: a + a),
    "a * b": (2, lambda a, b: a * b),
    "a * c": (1, lambda a, c: a * c),
    "a * a": (1, lambda a: a * a),
    "c + a": (1, lambda a, c: c + a),
    "c * a": (1, lambda a, c: c * a),
    "c - a": (1, lambda a, c: c - a),
    "c / a": (1, lambda a, c: c / a),
    "a ** k": (1, lambda a, k: a**k),
    "-a": (1, lambda a: -a),
    "a - b": (2, lambda a, b: a - b),
    "a - c": (1, lambda a, c: a - c),
    "a - a": (1, lambda a: a - a),
    "a / b": (2, lambda a, b: a / b),
    "a / c": (1, lambda a, c: a / c),
    "exp(a)": (1, lambda a: a.exp()),
    "log(a)": (1, lambda a: a.log()),
    "tanh(a)": (1, lambda a: a.tanh()),
    "sigmoid(a)": (1, lambda a: a.sigmoid()),
    "relu(a)": (1, lambda a: a.relu()),
    "exp(a) * a": (1, lambda a: a.exp() * a),
    "log(a * a)": (1, lambda a: (a * a).log()),
    "tanh(a) * tanh(a)": (1, lambda a: a.tanh() * a.tanh()),
    # graphs for backward() and topological_order
    "diamond": (2, lambda a, b: _diamond(a, b)),
    "neuron": (5, lambda x1, x2, w1, w2, b: (x1 * w1 + x2 * w2 + b).tanh()),
    "chain": (1, lambda a: _chain(a, 8)),
    "reuse": (2, lambda a, b: _reuse(a, b)),
    "skip": (1, lambda a: _skip(a)),
}


def _skip(a):
    y = a * 1.5  # y reaches the output directly and through a chain: a breadth-first order
    return (y * 2.0) * 3.0 + y  # passes y's grad on before the chain has added its part


def _diamond(a, b):
    p = a * b  # p is used twice: its grad must be complete before it is passed on
    return (p + a) * p


def _reuse(a, b):
    c = a + b
    d = c * c + c
    return d * a + d


def _chain(a, n):
    x = a
    for _ in range(n):
        x = x * a + 1.0
    return x


def _nodes(root):
    """The grader's own topological order of a learner's graph (through ``_prev``)."""
    order, seen, stack = [], set(), [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        try:
            children = list(node._prev)
        except AttributeError:
            raise LearnerMistake("Your Value has no _prev: keep the inputs of each result in _prev.") from None
        stack.extend((c, False) for c in reversed(children) if id(c) not in seen)
    return order


def _propagate(root, upstream=1.0):
    root.grad = upstream
    for node in reversed(_nodes(root)):
        node._backward()


def _build(cls, case):
    n, expr = EXPRESSIONS[case.extra["expr"]]
    values = case.extra["values"]
    leaves = [cls(v) for v in values[:n]]
    out = expr(*leaves, *case.extra.get("consts", ()))
    return leaves, out


def _check_value(out, what):
    for attr in ("data", "grad", "_backward"):
        if not hasattr(out, attr):
            kind = type(out).__name__
            raise LearnerMistake(
                f"{what} returned a {kind} without .{attr}: each operation must return a new Value "
                "(with data, grad, _prev and _backward).",
                "type",
            )


class ValueOp(Protocol):
    """An op of the learner's Value: out.data and the inputs' grads after the grader's propagation."""

    kind = "value_op"

    def run(self, exercise, cls, case, options):
        try:
            if not isinstance(cls, type):
                raise LearnerMistake(
                    f"Pass your Value class itself (check({exercise.id!r}, Value)), not a {type(cls).__name__}."
                )
            with np.errstate(all="ignore"):
                leaves, out = call_learner(_build, cls, case)
                _check_value(out, f"Your {case.extra['expr']}")
                call_learner(_propagate, out, case.extra.get("upstream", 1.0))
            outputs = (float(out.data), np.array([float(v.grad) for v in leaves]))
        except Exception as exc:
            return Outcome(error=capture(exc))
        return Outcome(outputs=outputs)


class ValueBackward(Protocol):
    """The learner's ``backward()`` on a graph, and (for the diagnosis) the grader's own propagation
    through the learner's ``_backward`` closures on a fresh copy of the graph.

    ``options["backward"]``: a function ``root -> None`` run instead of ``root.backward()`` (the
    variants: the course's Value driven by a wrong backward pass)."""

    kind = "value_backward"

    def run(self, exercise, cls, case, options):
        backward = options.get("backward") or (lambda root: root.backward())
        try:
            if not isinstance(cls, type):
                raise LearnerMistake(f"Pass your Value class itself (check({exercise.id!r}, Value)).")
            with np.errstate(all="ignore"):
                leaves, out = call_learner(_build, cls, case)
                _check_value(out, "Your expression")
                call_learner(backward, out)
            outputs = (float(out.data), np.array([float(v.grad) for v in leaves]))
        except Exception as exc:
            return Outcome(error=capture(exc))
        extra = {}
        try:
            leaves2, out2 = call_learner(_build, cls, case)
            call_learner(_propagate, out2, 1.0)
            extra["propagated"] = np.array([float(v.grad) for v in leaves2])
        except Exception:
            pass
        return Outcome(outputs=outputs, extra=extra)

    def probe(self, exercise, cls, case):
        """Each op alone with a non-unit upstream gradient (see :func:`course.grader.run.probes.value_probe`)."""
        if not isinstance(cls, type):
            return None
        return value_probe(cls, EXPRESSIONS, _propagate)


class TopoOrder(Protocol):
    """The learner's ``topological_order(root)`` on a graph of :class:`GraphNode` (built like the
    course's Values, which the sandbox does not hold); the output is
    the order as node numbers (the graph's nodes are numbered by the grader). ``extra`` holds the
    graph, as data: ``inputs`` (node -> its inputs' numbers)."""

    kind = "topological_order"
    repeat_first = False

    def run(self, exercise, fn, case, options):
        leaves, root = _build(GraphNode, case)
        nodes = _nodes(root)
        number = {id(n): i for i, n in enumerate(nodes)}
        extra = {"n": len(number), "inputs": {i: [number[id(c)] for c in n._prev] for i, n in enumerate(nodes)}}
        try:
            order = call_learner(fn, root)
        except Exception as exc:
            return Outcome(error=capture(exc))
        if not isinstance(order, (list, tuple)):
            err = LearnerMistake(f"Your function returned a {type(order).__name__}; it should return a list "
                                 "of the nodes.")
            return Outcome(error=capture(err))
        return Outcome(outputs=[number.get(id(n), -1) for n in order], extra=extra)


class GraphNode:
    """A forward-only scalar node: ``data`` and ``_prev`` (its inputs, in the order the course's
    ``Value`` keeps them), ``grad`` 0 and a ``_backward`` that does nothing. It computes no
    gradients, so it answers none of the Value exercises; it gives ``topological_order`` a graph."""

    def __init__(self, data, _children=(), _op=""):
        if not isinstance(data, numbers.Real):
            raise TypeError(f"GraphNode(data): data must be a real number, got {type(data).__name__}")
        self.data = float(data)
        self.grad = 0.0
        self._prev = tuple(_children)
        self._op = _op
        self._backward = lambda: None

    def __repr__(self):
        return f"GraphNode(data={self.data:.6g})"

    def __add__(self, other):
        other = _node(other)
        return GraphNode(self.data + other.data, (self, other), "+")

    def __mul__(self, other):
        other = _node(other)
        return GraphNode(self.data * other.data, (self, other), "*")

    def __pow__(self, exponent):
        return GraphNode(self.data**exponent, (self,), f"**{exponent:g}")

    def __neg__(self):
        return self * -1.0

    def __sub__(self, other):
        return self + (-_node(other))

    def __truediv__(self, other):
        return self * _node(other) ** -1

    def __radd__(self, other):
        return self + other

    def __rmul__(self, other):
        return self * other

    def __rsub__(self, other):
        return _node(other) - self

    def __rtruediv__(self, other):
        return _node(other) / self

    def exp(self):
        return GraphNode(math.exp(self.data), (self,), "exp")

    def log(self):
        if self.data <= 0:
            raise ValueError(f"log: the input must be > 0, got {self.data}")
        return GraphNode(math.log(self.data), (self,), "log")

    def tanh(self):
        return GraphNode(math.tanh(self.data), (self,), "tanh")

    def sigmoid(self):
        return GraphNode(1.0 / (1.0 + math.exp(-self.data)) if self.data >= 0 else 0.0, (self,), "sigmoid")

    def relu(self):
        return GraphNode(max(self.data, 0.0), (self,), "relu")


def _node(x):
    return x if isinstance(x, GraphNode) else GraphNode(x)
