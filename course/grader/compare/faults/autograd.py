"""What is wrong in a learner's ``Value`` op, from designed graphs (compare phase, no learner code).

Every op case is a tiny graph built from plain numbers: the leaves' values ``a`` (and ``b``), a
constant ``c`` or exponent ``k``, and the upstream gradient ``u = out.grad`` (never 1, so a
``_backward`` that ignores ``out.grad`` shows). The learner's ``out.data`` and leaf grads are
plain data; here they are compared with what each *faulty rule* in :data:`FAULTS` would give.
A fault is named only when it reproduces every number of the case and the right rule does not.

A fault is ``(name, exprs, rule, message)``: ``rule(a, b, c, u) -> (data, grads)`` (``data``
``None`` when the fault does not change it), ``exprs`` the expressions it applies to.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["FAULTS", "diagnose_op", "diagnose_value_op", "diagnose_value_probes"]


def _sig(a):
    return 1.0 / (1.0 + math.exp(-a))


def _faults():
    t, s, e = math.tanh, _sig, math.exp
    return (
        # -- rules that ignore the upstream gradient or accumulate wrongly: any op
        ("ignores_upstream", None, None,
         "{expr}: your _backward ignores out.grad. With an upstream gradient of {u:.4g} your grads "
         "are those for out.grad = 1: multiply the local derivative by out.grad."),
        ("detached", None, None,
         "{expr}: every input grad is 0, so no gradient reaches the inputs: the result is not connected to "
         "the graph, or its _backward multiplies by another input's .grad (still 0 then) instead of its "
         ".data. Build results from Value operations (with _children) and attach their _backward."),
        ("adds_one", None, None,
         "{expr}: your grads are 1 whatever out.grad is ({u:.4g} here): add out.grad (times the local "
         "derivative), not 1."),
        ("set_not_add", None, None,
         "{expr}: the input is used twice but gets only one of its two contributions: in _backward "
         "add to .grad (+=) instead of setting it (=)."),
        # -- op by op
        ("mul_swapped", ("a * b",), lambda a, b, c, u: (None, [a * u, b * u]),
         "{expr}: each input got its own value as local derivative; d(a*b)/da = b: a.grad += b.data * "
         "out.grad and b.grad += a.data * out.grad (the other input)."),
        ("pow_power", ("a ** k",), lambda a, b, c, u: (None, [c * a**c * u]),
         "{expr}: your grad is k * a**k * out.grad; the power rule lowers the exponent: "
         "k * a**(k - 1) * out.grad."),
        ("pow_no_k", ("a ** k",), lambda a, b, c, u: (None, [a ** (c - 1) * u]),
         "{expr}: your grad is a**(k - 1) * out.grad: the factor k is missing (k * a**(k - 1))."),
        ("sub_sign", ("a - b", "a - c"), lambda a, b, c, u: (None, [u, u][: 2 if b is not None else 1]),
         "{expr}: the sign of the second operand's grad is flipped (it got +out.grad); d(a - b)/db = -1, "
         "so b.grad -= out.grad (or write a - b as a + (-b))."),
        ("div_sign", ("a / b",), lambda a, b, c, u: (None, [u / b, a / b**2 * u]),
         "{expr}: the sign of the denominator's grad is flipped: d(a/b)/db = -a / b**2."),
        ("rsub_swapped", ("c - a",), lambda a, b, c, u: (a - c, [u]),
         "{expr}: your c - a computes a - c: __rsub__(self, other) is other - self (the number comes first)."),
        ("rdiv_swapped", ("c / a",), lambda a, b, c, u: (a / c, [u / c]),
         "{expr}: your c / a computes a / c: __rtruediv__(self, other) is other / self."),
        ("exp_uses_input", ("exp(a)",), lambda a, b, c, u: (None, [a * u]),
         "{expr}: your local derivative is a; d(e^a)/da = e^a, which is out.data: "
         "self.grad += out.data * out.grad."),
        ("log_uses_output", ("log(a)",), lambda a, b, c, u: (None, [u / math.log(a)]),
         "{expr}: you divided by out.data (log a); d(log a)/da = 1 / a: self.grad += out.grad / self.data."),
        ("log_times", ("log(a)",), lambda a, b, c, u: (None, [a * u]),
         "{expr}: you multiplied by a; d(log a)/da = 1 / a: self.grad += out.grad / self.data."),
        ("tanh_uses_input", ("tanh(a)",), lambda a, b, c, u: (None, [(1 - a * a) * u]),
         "{expr}: your local derivative is 1 - a**2 with a the input; it is 1 - tanh(a)**2, i.e. "
         "1 - out.data**2."),
        ("tanh_square", ("tanh(a)",), lambda a, b, c, u: (None, [(1 - t(a)) ** 2 * u]),
         "{expr}: you squared (1 - tanh a); the derivative of tanh is 1 - tanh(a)**2 (square only tanh)."),
        ("tanh_no_square", ("tanh(a)",), lambda a, b, c, u: (None, [(1 - t(a)) * u]),
         "{expr}: your local derivative is 1 - tanh(a); it is 1 - tanh(a)**2."),
        ("sigmoid_uses_input", ("sigmoid(a)",), lambda a, b, c, u: (None, [s(a) * (1 - a) * u]),
         "{expr}: you used the input in s * (1 - a); the derivative is s * (1 - s) with s = out.data."),
        ("sigmoid_no_one_minus", ("sigmoid(a)",), lambda a, b, c, u: (None, [s(a) * u]),
         "{expr}: your local derivative is s; it is s * (1 - s) with s = out.data."),
        ("relu_value", ("relu(a)",), lambda a, b, c, u: (None, [max(a, 0.0)]),
         "{expr}: your grad is out.data (the relu value itself); the local derivative is 1 where a > 0 "
         "and 0 elsewhere, times out.grad."),
        ("relu_value_times", ("relu(a)",), lambda a, b, c, u: (None, [max(a, 0.0) * u]),
         "{expr}: you multiplied out.grad by relu(a); the local derivative is 1 where a > 0, else 0."),
        ("exp_no_exp", ("exp(a)",), lambda a, b, c, u: (None, [u]),
         "{expr}: your grad is out.grad alone; d(e^a)/da = e^a = out.data multiplies it."),
        ("e_power", ("exp(a)",), lambda a, b, c, u: (None, [e(a - 1) * a * u]),
         "{expr}: you used the power rule a * e^(a - 1); e^a is its own derivative."),
    )


#: The faulty rules a learner's op is compared against, in order.
FAULTS = _faults()


def _close(x, y) -> bool:
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    return x.shape == y.shape and bool(np.allclose(x, y, rtol=1e-6, atol=1e-9))


def _reuse_parts(case, u):
    """For an expression that uses a twice: the grad each use alone would give."""
    expr = case.extra["expr"]
    a = case.extra["values"][0]
    t = math.tanh(a) if "tanh" in expr else 0.0
    parts = {
        "a + a": [u],
        "a * a": [a * u],
        "exp(a) * a": [math.exp(a) * u, a * math.exp(a) * u],
        "log(a * a)": [u / a],
        "tanh(a) * tanh(a)": [t * (1 - t * t) * u],
    }
    return parts.get(expr, [])


def diagnose_op(case, outputs, reference) -> tuple[str, str] | None:
    """``(name, message)`` for the first fault that reproduces the learner's numbers (``outputs``:
    out.data and the leaves' grads; ``reference``: the same from the course's Value), else None."""
    expr = case.extra.get("expr")
    if expr is None or not isinstance(outputs, tuple) or len(outputs) != 2:
        return None
    data, grads = outputs
    grads = np.asarray(grads, dtype=float)
    u = float(case.extra.get("upstream", 1.0))
    ref_data, ref_grads = reference[0], np.asarray(reference[1], dtype=float)
    if _close(grads, ref_grads) and _close(data, ref_data):
        return None
    values = case.extra["values"]
    a = values[0]
    b = values[1] if len(values) > 1 else None
    consts = case.extra.get("consts", ())
    c = consts[0] if consts else None
    fmt = {"expr": f"Your {expr}", "u": u}
    data_ok = _close(data, ref_data)
    for name, exprs, rule, message in FAULTS:
        if exprs is not None:
            if expr not in exprs:
                continue
            with np.errstate(all="ignore"):
                try:
                    want_data, want = rule(a, b, c, u)
                except (ValueError, ZeroDivisionError, OverflowError):
                    continue
            if want_data is None and not data_ok:
                continue
            if want_data is not None and not _close(data, want_data):
                continue
            if _close(grads, want) and not _close(want, ref_grads):
                return name, message.format(**fmt)
            continue
        if not data_ok:
            continue
        if name == "ignores_upstream" and abs(u - 1.0) > 1e-9:
            if _close(grads, ref_grads / u):
                return name, message.format(**fmt)
            lazy = [i for i in range(grads.size) if _close(grads[i], ref_grads[i] / u)
                    and not _close(ref_grads[i], ref_grads[i] / u)]
            if lazy and all(_close(grads[i], ref_grads[i]) for i in range(grads.size) if i not in lazy):
                which = " and ".join("ab"[i] if i < 2 else f"input {i + 1}" for i in lazy)
                return name, (f"{fmt['expr']}: the grad of {which} ignores out.grad (the other input's is right): "
                              f"with an upstream gradient of {u:.4g}, multiply its local derivative by out.grad too.")
        elif name == "detached" and grads.size and np.all(grads == 0) and np.any(ref_grads != 0):
            return name, message.format(**fmt)
        elif name == "adds_one" and grads.size and _close(grads, np.ones_like(grads)) and abs(u - 1.0) > 1e-9:
            return name, message.format(**fmt)
        elif name == "set_not_add":
            if any(_close(grads[:1], [p]) for p in _reuse_parts(case, u)) and grads.size == 1:
                return name, message.format(**fmt)
    return None


def diagnose_value_op(ctx):
    """An op exercise: the fault of the case's expression."""
    return diagnose_op(ctx.case, ctx.outcome.outputs, ctx.reference.outputs)


def diagnose_value_probes(ctx):
    """``backward()``: the first op whose probe (alone, non-unit upstream) is wrong, with its fault;
    else, when the ops are right, the order in which backward() calls them."""
    from types import SimpleNamespace

    probes = ctx.outcome.extra.get("probes") or {}
    ref = ctx.reference.extra.get("probes") or {}
    upstream, const = probes.get("upstream", 1.0), probes.get("const", 0.0)
    for expr, got in probes.items():
        want = ref.get(expr)
        if not (isinstance(got, tuple) and isinstance(want, tuple) and len(got) == 2):
            continue
        if _close(got[0], want[0]) and _close(got[1], want[1]):
            continue
        values = probes["values"][expr]
        case = SimpleNamespace(extra={"expr": expr, "values": list(values), "upstream": upstream,
                                      "consts": (const,) if "k" in expr else ()})
        found = diagnose_op(case, (got[0], np.array(got[1])), want)
        lead = f"The op at fault: probed alone, {expr} with a = {values[0]}"
        lead += f", b = {values[1]}" if len(values) > 1 else ""
        lead += f" and out.grad = {upstream} gives grads {got[1]}, expected {want[1]}."
        if found:
            return found[0], lead + " " + found[1]
        return "op_wrong", lead + " Fix that op's _backward (see its own exercise)."
    prop = ctx.outcome.extra.get("propagated")
    if prop is not None and _close(prop, ctx.reference.outputs[1]):
        return ("call_order",
                "Each op of your Value is right (propagating through your _backward closures in a correct "
                "order gives the expected grads), so your backward() calls them in a wrong order: a node's "
                "_backward may run only after every node that uses it (reverse topological order, built "
                "depth-first with a visited set; a breadth-first order breaks on a skip connection).")
    return None
