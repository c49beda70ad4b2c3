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
from ..compare.findings import Diagnosis, OutputCheck
from ..registry import Variant, register
from ..run.topic_protocols import EXPRESSIONS, TopoOrder, ValueBackward, ValueOp

LESSON = "02_chain_rule"

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
