"""Exceptions and non-finite results explained (compare phase, plain data only).

- :func:`explain_error`: a NumPy broadcasting or matmul error named by the operands' shapes (taken
  from the learner's own frame in the run phase, :func:`course.grader.run.runner.capture`) beside the
  contract's (``x: (N, D)``, ``W: (D, M)``, read from the docstrings), and which one is oriented
  the other way; a few other learner errors by pattern (:data:`ERROR_PATTERNS`).
- :func:`explain_nonfinite`: NaN or inf by the operation that made it. The run phase re-runs a
  case whose output is not finite with NumPy's floating-point errors raised
  (:func:`course.grader.run.probes.fp_probe`), so "overflow encountered in exp" or "invalid value
  encountered in sqrt" names the operation and the learner's line.
"""

from __future__ import annotations

import re

import numpy as np

__all__ = ["explain_error", "explain_nonfinite", "contract", "ERROR_PATTERNS", "NONFINITE_ADVICE"]

_SHAPE = re.compile(r"\b(\w+): \(([A-Z](?:, [A-Z])*),?\)")


def _fmt(shape) -> str:
    shape = tuple(int(s) for s in shape)
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


def contract(exercise, case) -> dict:
    """``{argument name: (letters, actual shape)}`` from the docstrings and the case's arrays."""
    docs = [getattr(exercise.reference, "__doc__", "") or ""]
    fwd = getattr(exercise.protocol, "forward", None)
    if fwd is not None:
        docs.append(getattr(fwd, "__doc__", "") or "")
    letters = {}
    for doc in docs:
        for name, dims in _SHAPE.findall(doc):
            letters.setdefault(name, tuple(dims.split(", ")))
    arrays = dict(zip(exercise.arg_names, case.args))
    if "dout" in case.extra:
        arrays["dout"] = case.extra["dout"]
    out = {}
    for name, dims in letters.items():
        a = arrays.get(name)
        if isinstance(a, np.ndarray) and a.ndim == len(dims):
            out[name] = (dims, a.shape)
    return out


def _size_letters(con) -> dict:
    sizes = {}
    for dims, shape in con.values():
        for d, s in zip(dims, shape):
            sizes.setdefault(int(s), d)
    return sizes


def _lettered(shape, sizes) -> str:
    if all(int(s) in sizes for s in shape):
        return "(" + ", ".join(sizes[int(s)] for s in shape) + ("," if len(shape) == 1 else "") + ")"
    return ""


def _named(shapes: dict, shape) -> list:
    return [n for n, s in shapes.items() if tuple(s) == tuple(shape)]


def _contract_text(con) -> str:
    if not con:
        return ""
    parts = [f"{n}: ({', '.join(d)}{',' if len(d) == 1 else ''}) = {_fmt(s)}" for n, (d, s) in con.items()]
    return " The contract: " + ", ".join(parts) + "."


def _describe(name, shape, sizes) -> str:
    let = _lettered(shape, sizes)
    return f"{name}, of shape {_fmt(shape)}" + (f" = {let}" if let else "")


def _matmul(err, shapes, con):
    m = re.search(r"size (\d+) is different from (\d+)", err.message)
    m2 = re.search(r"shapes \(([\d, ]+),?\) and \(([\d, ]+),?\) not aligned", err.message)
    two_d = {n: tuple(s) for n, s in shapes.items() if len(s) == 2}
    two_d.update({f"{n}.T": s[::-1] for n, s in list(two_d.items()) if s[0] != s[1]})
    sizes = _size_letters(con)
    pairs = []
    if m:
        inner_right, inner_left = int(m.group(1)), int(m.group(2))
        pairs = [(p, q) for p in two_d for q in two_d if p != q
                 and two_d[p][-1] == inner_left and two_d[q][0] == inner_right]
    elif m2:
        s1 = tuple(int(v) for v in m2.group(1).split(",") if v.strip())
        s2 = tuple(int(v) for v in m2.group(2).split(",") if v.strip())
        pairs = [(p, q) for p in _named(two_d, s1) for q in _named(two_d, s2) if p != q]
    if not pairs:
        return None
    pairs.sort(key=lambda pq: (pq[0].endswith(".T") + pq[1].endswith(".T"), pq[0] in con, pq[1] in con))
    p, q = pairs[0]
    sp, sq = two_d[p], two_d[q]
    msg = (f"Your matrix product {p} @ {q} does not fit: {_describe(p, sp, sizes)}, times "
           f"{_describe(q, sq, sizes)}: the inner sizes {sp[-1]} and {sq[0]} differ.")
    if q.endswith(".T") and sq[::-1][0] == sp[-1]:
        base = q[:-2]
        msg += f" {base} is already oriented for this product: {p} @ {base} has shape {_fmt((sp[0], sq[0]))}."
    elif p.endswith(".T") and sp[::-1][-1] == sq[0]:
        base = p[:-2]
        msg += f" {base} is already oriented for this product: {base} @ {q} has shape {_fmt((sp[1], sq[1]))}."
    elif sq[-1] == sp[-1]:
        msg += f" {q} is oriented the other way for this product: {p} @ {q}.T has shape {_fmt((sp[0], sq[0]))}."
    elif sp[0] == sq[0]:
        msg += f" {p} is oriented the other way for this product: {p}.T @ {q} has shape {_fmt((sp[1], sq[1]))}."
    elif sq[-1] == sp[0]:
        msg += f" The operands are in the wrong order: {q} @ {p} fits."
    return "shape_error", msg + _contract_text(con)


def _broadcast(err, shapes, con):
    m = re.search(r"broadcast together with (?:remapped )?shapes ((?:\([\d,]*\) ?)+)", err.message)
    if not m:
        return None
    found = [tuple(int(v) for v in s.split(",") if v) for s in re.findall(r"\(([\d,]*)\)", m.group(1))]
    if len(found) < 2:
        return None
    s1, s2 = found[0], found[1]
    sizes = _size_letters(con)
    n1 = (_named(shapes, s1) or ["an array"])[0]
    n2 = (_named(shapes, s2) or ["an array"])[0]
    msg = (f"Your elementwise operation mixes {_describe(n1, s1, sizes)}, with {_describe(n2, s2, sizes)}: "
           "these shapes do not broadcast together.")
    small, big, nsmall = (s2, s1, n2) if len(s2) <= len(s1) else (s1, s2, n1)
    nsmall = "That array" if nsmall == "an array" else nsmall
    if len(small) == 1 and len(big) == 2 and small[0] == big[0] != big[1]:
        msg += (f" {nsmall} has one entry per row ({big[0]}) but lost its axis: a sum or max over axis 1 "
                f"needs keepdims=True (shape {_fmt((big[0], 1))}) to broadcast along the rows.")
    elif len(small) == 2 and small[1] == 1 and len(big) == 2 and small[0] == big[1]:
        msg += (f" {nsmall} is a column of {small[0]} entries; along the columns it must be a row: "
                f"shape {_fmt((small[0],))} or {_fmt((1, small[0]))}.")
    elif len(small) == 2 and len(big) == 2 and small == big[::-1]:
        msg += f" {nsmall} is oriented the other way (transposed)."
    return "shape_error", msg + _contract_text(con)


#: (regex on "Type: message", name, advice) for other learner errors
ERROR_PATTERNS = (
    (r"AttributeError: '(float|int)' object has no attribute '(data|grad|_prev)'", "number_not_value",
     "A plain number reached your Value code where a Value was expected ({0} has no .{1}): wrap numbers "
     "first, other = other if isinstance(other, Value) else Value(other), so that a + 2.0 works."),
    (r"TypeError: unsupported operand type\(s\) for ([^:]+): '(float|int)' and '(\w+)'", "reverse_op",
     "number {0} {2} is not defined: Python calls the reflected method of your {2} when the number comes "
     "first (__radd__, __rmul__, __rsub__, __rtruediv__)."),
    (r"IndexError: arrays used as indices must be of integer", "index_dtype",
     "You indexed with a float array: labels used as indices must be integers (y.astype(int))."),
)


def explain_error(ctx):
    """``(name, message)`` for the learner's exception, when the shapes or a pattern explain it."""
    err = ctx.outcome.error
    if err is None or err.kind != "exception":
        return None
    shapes = dict(getattr(err, "shapes", {}) or {})
    con = contract(ctx.exercise, ctx.case)
    for name, (_, shape) in con.items():  # the arguments' own shapes, where the frame's are unknown
        shapes.setdefault(name, tuple(shape))
    for fn in (_matmul, _broadcast):
        found = fn(err, shapes, con) if ("matmul" in err.message or "aligned" in err.message or
                                         "broadcast" in err.message) else None
        if found:
            return found
    text = f"{err.type}: {err.message}"
    for pattern, name, advice in ERROR_PATTERNS:
        m = re.search(pattern, text)
        if m:
            return name, advice.format(*m.groups())
    return None


#: (operation, NumPy's error kind) -> advice, for NaN or inf made by learner code
NONFINITE_ADVICE = {
    ("exp", "overflow"): "exp of a large number overflows to inf (exp(710) already does): compute it in a "
                         "stable way, e.g. subtract the maximum before exp, or use the identity that keeps "
                         "the exponent <= 0.",
    ("log", "divide by zero"): "log of 0 is -inf: take the log of something that cannot be 0 (work in log "
                               "space, e.g. log-softmax = x - max - log(sum(exp(x - max))), or log1p/logaddexp).",
    ("log", "invalid value"): "log of a negative number is NaN: check what you take the log of.",
    ("sqrt", "invalid value"): "the square root of a negative number is NaN: what goes into sqrt must be >= 0 "
                               "(a running average of g * g, a variance), not of g itself.",
    ("divide", "invalid value"): "0/0 is NaN: a denominator is exactly 0 here (a constant column's std, "
                                 "|a| + |b| for two zeros); keep it away from 0 (add eps, or max(denominator, "
                                 "tiny)).",
    ("divide", "divide by zero"): "a division by zero gives inf: a denominator is 0 here; keep it away from 0.",
    ("multiply", "invalid value"): "0 * inf is NaN: an inf made earlier (often by exp overflowing) met a 0.",
    ("subtract", "invalid value"): "inf - inf is NaN: two overflowed values were subtracted; keep the "
                                   "exponents small (subtract the maximum first).",
    ("power", "overflow"): "a power overflows to inf: the base or the exponent is too large.",
}


def explain_nonfinite(ctx):
    """``(name, message)`` naming the operation that made NaN/inf and the learner's line."""
    fp = ctx.outcome.extra.get("fp")
    if not fp:
        return None
    op, kind, line = fp.get("op", ""), fp.get("kind", ""), fp.get("line", "")
    advice = NONFINITE_ADVICE.get((op, kind))
    if advice is None:
        return None
    at = f" at `{line}`" if line else ""
    note = f' for the case "{ctx.case.note}"' if ctx.case.note else ""
    return "nonfinite_op", f"NumPy reports {kind} in {op}{at}{note}: {advice}"
