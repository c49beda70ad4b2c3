"""The scalar autograd engine (lesson 02): the learner's ``Value`` class, op by op, its
``backward()``, and ``topological_order(root)``.

For the ``Value`` exercises the learner passes the *class*: ``check("autograd.value_mul", Value)``.
The run phase builds a small expression from plain numbers with that class and returns plain
numbers (out.data and the inputs' grads). To grade one op on its own, the grader itself walks the
graph (through ``_prev``) and calls each node's ``_backward`` in reverse topological order, so a
missing or broken ``backward()`` does not hide a correct op.
"""

from __future__ import annotations

import numpy as np

from ...autograd import Value, topological_order
from ..cases import Case
from ..findings import Diagnosis, OutputCheck
from ..probes import value_probe
from ..registry import Variant, register
from ..runner import LearnerMistake, Outcome, Protocol, call_learner, capture

LESSON = "02_chain_rule"

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
        """Each op alone with a non-unit upstream gradient (see :func:`course.grader.probes.value_probe`)."""
        if not isinstance(cls, type):
            return None
        return value_probe(cls, EXPRESSIONS, _propagate)


def _ops_not_backward(ctx):
    """backward() walks the graph right (the grader's own walk gives the same grads) but an op is wrong."""
    if ctx.passed:
        return None
    got, exp = ctx.outcome.outputs[1], ctx.reference.outputs[1]
    prop = ctx.outcome.extra.get("propagated")
    if prop is not None and np.allclose(prop, got) and not np.allclose(prop, exp):
        return Diagnosis(
            "ops_not_backward",
            "Your backward() visits the nodes correctly, but some operation's _backward is wrong: "
            "check the op exercises (value_add, value_mul, ...) first.",
        )
    return None


def _no_root_grad(root):
    for node in reversed(topological_order(root)):
        node._backward()


def _forward_order(root):
    root.grad = 1.0
    for node in topological_order(root):
        node._backward()


def _no_visited(root):
    order = []

    def build(v):  # depth-first without a visited set: shared nodes appear several times
        for c in v._prev:
            build(c)
        order.append(v)

    build(root)
    root.grad = 1.0
    for node in reversed(order):
        node._backward()


#: Wrong backward passes, run on the course's Value in the run phase: a learner whose grads match
#: one of them gets its message.
_BACKWARD_BUGS = (
    Variant("root_grad", Value,
            "All your gradients are 0: start the backward pass with self.grad = 1.0 (d out / d out = 1).",
            options=(("backward", _no_root_grad),)),
    Variant("backward_order", Value,
            "You called the _backward closures inputs-first; go from the output back: "
            "for node in reversed(topological order).",
            options=(("backward", _forward_order),)),
    Variant("visited_twice", Value,
            "Nodes used more than once were processed more than once: build the topological order with a "
            "set of visited nodes, so each node appears exactly once.",
            options=(("backward", _no_visited),)),
)


def _op_cases(exprs):
    def make(rng):
        out = []
        for expr, note in exprs:
            k = EXPRESSIONS[expr][0]
            values = [float(v) for v in rng.uniform(0.3, 2.0, k) * rng.choice([-1.0, 1.0], k)]
            if expr.startswith("log") or expr in ("c / a", "a ** k"):
                values = [abs(v) for v in values]
            tokens = set(expr.replace("(", " ").replace(")", " ").split())
            consts = (float(rng.choice([2.0, 3.0, -1.5, 0.5])),) if tokens & {"c", "k"} else ()
            upstream = float(rng.uniform(0.5, 2.0))
            out.append(Case(note=note or expr, extra={"expr": expr, "values": values, "consts": consts,
                                                      "upstream": upstream}))
        return out

    return make


def _grad_is_set_diag(ctx):
    """Catch ``grad = ...`` instead of ``grad += ...`` on a reused input (a + a, a * a)."""
    if ctx.passed or ctx.case.extra["expr"] not in ("a + a", "a * a"):
        return None
    got, exp = ctx.outcome.outputs[1], ctx.reference.outputs[1]
    if np.allclose(got, exp / 2):
        return Diagnosis(
            "accumulate",
            "With the same Value used twice your gradient is half the right one: in _backward, add to "
            ".grad (+=) instead of setting it (=), so both uses contribute.",
        )
    return None


def _op(name, title, exprs, hint):
    register(
        f"autograd.value_{name}",
        lesson=LESSON,
        title=title,
        reference=Value,
        cases=_op_cases(exprs),
        outputs=("out.data", "input grads"),
        protocol=ValueOp(),
        diagnoses=(_grad_is_set_diag,),
        hints=(hint, "Each _backward adds (+=) local derivative * out.grad to each input's grad."),
    )


_op("add", "Value: addition", [("a + b", ""), ("a + c", "a + a number"), ("a + a", "the same value twice")],
    "out = Value(a.data + b.data, (a, b), '+'); in _backward: a.grad += out.grad; b.grad += out.grad.")
_op("mul", "Value: multiplication", [("a * b", ""), ("a * c", "a * a number"), ("a * a", "a value times itself")],
    "d(ab)/da = b: a.grad += b.data * out.grad; b.grad += a.data * out.grad.")
_op("pow", "Value: power with a number exponent", [("a ** k", "")] * 3,
    "d(a**k)/da = k * a**(k - 1); the exponent is a plain number.")
_op("neg_sub", "Value: negation and subtraction", [("-a", ""), ("a - b", ""), ("a - c", "a - a number"),
                                                   ("a - a", "a value minus itself")],
    "-a = a * -1 and a - b = a + (-b) reuse the ops you already have.")
_op("div", "Value: division", [("a / b", ""), ("a / c", "a / a number")],
    "a / b = a * b**-1 reuses multiplication and power.")
_op("reverse_ops", "Value: a number on the left (c + a, c * a, c - a, c / a)",
    [("c + a", ""), ("c * a", ""), ("c - a", ""), ("c / a", "")],
    "Python calls __radd__, __rmul__, __rsub__, __rtruediv__ when the number comes first.")
_op("exp", "Value: exp", [("exp(a)", ""), ("exp(a) * a", "used twice")], "d(e^a)/da = e^a = out.data.")
_op("log", "Value: log", [("log(a)", ""), ("log(a * a)", "log of a product")], "d(log a)/da = 1 / a.")
_op("tanh", "Value: tanh", [("tanh(a)", ""), ("tanh(a) * tanh(a)", "used twice")],
    "d(tanh a)/da = 1 - tanh(a)**2 = 1 - out.data**2.")
_op("sigmoid", "Value: sigmoid", [("sigmoid(a)", "")] * 3, "d(sigmoid a)/da = out.data * (1 - out.data).")
_op("relu", "Value: ReLU", [("relu(a)", "")] * 4, "d(relu a)/da = 1 if a.data > 0 else 0.")

register(
    "autograd.backward",
    lesson=LESSON,
    title="Value.backward(): the whole graph",
    reference=Value,
    cases=_op_cases([("diamond", "a graph with shared nodes"), ("neuron", "tanh(x1*w1 + x2*w2 + b)"),
                     ("chain", "a long chain"), ("reuse", "c = a + b; d = c*c + c; d*a + d"),
                     ("skip", "a skip connection: y = 1.5 a; (y * 2) * 3 + y")]),
    outputs=("out.data", "input grads"),
    protocol=ValueBackward(),
    variants=_BACKWARD_BUGS,
    diagnoses=(_ops_not_backward,),
    hints=(
        "Build the topological order (each node after its inputs), set self.grad = 1.0, then call "
        "node._backward() for node in reversed(order).",
    ),
)


# ---------------------------------------------------------------------------------------------
# topological_order(root)


class TopoOrder(Protocol):
    """The learner's ``topological_order(root)`` on a graph of the course's Values; the output is
    the order as node numbers (the graph's nodes are numbered by the grader). ``extra`` holds the
    graph, as data: ``inputs`` (node -> its inputs' numbers)."""

    kind = "topological_order"
    repeat_first = False

    def run(self, exercise, fn, case, options):
        leaves, root = _build(Value, case)
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


def _topo_judge(ctx):
    """The learner's order against the graph (read from the *reference* outcome: trusted data)."""
    inputs = ctx.reference.extra["inputs"]
    n_nodes = ctx.reference.extra["n"]
    got = list(ctx.outcome.outputs)
    check = [OutputCheck("order", False, str(ctx.reference.outputs), str(got))]
    if -1 in got:
        return False, [Diagnosis("type", "Your list holds objects that are not nodes of the graph.")], check
    if len(set(got)) < len(got):
        return False, [Diagnosis(
            "visited_twice",
            "Your order lists some nodes more than once: keep a set of visited nodes.",
        )], check
    missing = n_nodes - len(set(got))
    if missing:
        return False, [Diagnosis("missing_nodes", f"Your order misses {missing} of the {n_nodes} nodes.")], check
    if not _valid(got, inputs):
        if _valid(got[::-1], inputs):
            msg = "Your order is reversed: each node must come after its inputs, the root last."
        else:
            msg = "In your order a node comes before one of its inputs: every node must come after all of them."
        return False, [Diagnosis("order", msg)], check
    return True, [], [OutputCheck("order", True, str(ctx.reference.outputs), str(got))]


def _valid(order, inputs) -> bool:
    pos = {n: i for i, n in enumerate(order)}
    return all(pos[c] < pos[n] for n, ins in inputs.items() for c in ins)


register(
    "autograd.topological_order",
    lesson=LESSON,
    title="Topological order of a graph",
    reference=topological_order,
    cases=_op_cases([("diamond", "a graph with shared nodes"), ("neuron", ""), ("chain", "a long chain"),
                     ("reuse", "")]),
    outputs=("order",),
    protocol=TopoOrder(),
    judge=_topo_judge,
    hints=(
        "Depth-first: visit a node's inputs (_prev) before appending the node itself; skip nodes "
        "already visited.",
    ),
)
