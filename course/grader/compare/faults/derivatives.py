"""Backward passes read as derivatives (compare phase, plain data only).

- *linear in dout*: the run phase calls the learner's backward with dout = 0 as a probe
  (:func:`course.grader.run.probes.backward_probe`); anything but 0 means a term does not multiply
  dout (``dout * 1 - out**2``: the parentheses).
- *the local derivative*: for an elementwise layer, dx / dout is the local derivative. It is
  compared with :data:`LOCAL_FORMS`, written in terms of what the cache holds (the input x or
  the output), so a learner hears "your dx / dout is 1 - out**2, tanh's derivative; the right one
  is out * (1 - out)".
- *a perturbation not restored*: an input changed in place by about h (1e-5), not by a real
  update, is a finite-difference loop that does not put x[i] back.
"""

from __future__ import annotations

import numpy as np

__all__ = ["LOCAL_FORMS", "diagnose_backward", "diagnose_mutation"]

#: local derivative forms in terms of the cache value c: (text, fn(c))
LOCAL_FORMS = (
    ("c * (1 - c)", lambda c: c * (1 - c)),
    ("1 - c**2", lambda c: 1 - c**2),
    ("(1 - c)**2", lambda c: (1 - c) ** 2),
    ("1 - c", lambda c: 1 - c),
    ("c", lambda c: c),
    ("c**2", lambda c: c**2),
    ("1", lambda c: np.ones_like(c)),
    ("s * (1 - s) with s = sigmoid(c)", lambda c: _sig(c) * (1 - _sig(c))),
    ("1 - tanh(c)**2", lambda c: 1 - np.tanh(c) ** 2),
    ("c > 0", lambda c: (c > 0).astype(float)),
    ("max(c, 0)", lambda c: np.maximum(c, 0.0)),
)


def _sig(c):
    with np.errstate(all="ignore"):
        return 1 / (1 + np.exp(-c))


def _cache_array(ctx, shape):
    """The array the forward's cache holds (a candidate of the run phase), and what to call it."""
    cand = ctx.reference.extra.get("candidates") or {}
    first = cand.get("cache")
    if not isinstance(first, np.ndarray) or first.shape != shape:
        return None, ""
    return first, ("x (the input)" if cand.get("cache_is_input") else "out (the forward's output)")


def _form(local, c, mask):
    for text, fn in LOCAL_FORMS:
        with np.errstate(all="ignore"):
            want = fn(c)
        if np.allclose(local[mask], want[mask], rtol=1e-6, atol=1e-9):
            return text
    return None


def diagnose_backward(ctx):
    """``(name, message)`` for a backward that is not linear in dout, or whose local derivative is
    another function's."""
    probes = ctx.outcome.extra.get("probes") or {}
    zero = probes.get("zero_dout")
    if isinstance(zero, np.ndarray) and zero.size and np.any(np.abs(zero) > 1e-12) and np.all(np.isfinite(zero)):
        return ("not_linear_in_dout",
                f"With dout = 0 your backward returns nonzero values (up to {float(np.max(np.abs(zero))):.3g}): "
                "a term is not multiplied by dout. Check the parentheses: dx = dout * (local derivative).")
    spread = _spread(probes.get("onehot_dx"), (ctx.reference.extra.get("candidates") or {}).get("onehot_dx"))
    if spread:
        return spread
    exp, got = ctx.reference.outputs, ctx.outcome.outputs
    dout = ctx.case.extra.get("dout")
    if not (isinstance(exp, np.ndarray) and isinstance(dout, np.ndarray) and exp.shape == dout.shape):
        return None
    try:
        got = np.asarray(got, dtype=float)
    except (TypeError, ValueError):
        return None
    if got.shape != exp.shape:
        return None
    c, what = _cache_array(ctx, exp.shape)
    if c is None:
        return None
    mask = np.abs(dout) > 1e-3
    if mask.sum() < 2:
        return None
    with np.errstate(all="ignore"):
        mine, right = _form(got / dout, c, mask), _form(exp / dout, c, mask)
    if mine is None or right is None or mine == right:
        return None
    name = what.split(" ")[0]
    return ("local_derivative",
            f"Your dx / dout is {mine.replace('c', name)}, where the cache holds {what}; the local derivative "
            f"here is {right.replace('c', name)}: dx = dout * ({right.replace('c', name)}).")


def _spread(mine, right):
    """With a single entry of dout set to 1: the entries of dx that respond where they should not."""
    if not (isinstance(mine, np.ndarray) and isinstance(right, np.ndarray)) or mine.shape != right.shape:
        return None
    if not np.all(np.isfinite(mine)) or mine.ndim != 2:
        return None
    extra = (np.abs(mine) > 1e-12) & (np.abs(right) <= 1e-12)
    if not extra.any():
        return None
    k = np.unravel_index(mine.size // 2, mine.shape)
    rows, cols = set(np.where(extra)[0]), set(np.where(extra)[1])
    where = (f"in row {k[0]}" if rows == {k[0]} else f"in column {k[1]}" if cols == {k[1]}
             else "all over dx")
    return ("dout_spread",
            f"With a single entry of dout set to 1 (at {tuple(int(i) for i in k)}), your dx changes {where}, where "
            "the right dx is 0: your backward mixes entries of dout (a sum or mean over an axis, or a "
            "broadcast along the other dimension). Each entry of dx gets dout at the same place times the "
            "local derivative.")


def diagnose_mutation(ctx):
    """An input changed in place by about a finite-difference step and not put back."""
    sizes = ctx.outcome.extra.get("mutation") or {}
    for name, (change, scale) in dict(sizes).items():
        if 0 < change <= 1e-3 * max(1.0, scale):
            return ("not_restored",
                    f"Your function leaves {name} changed by up to {change:.1e}: a perturbation (x[i] += h) that is "
                    f"not put back. Restore {name}[i] to its old value after evaluating f at x[i] + h and x[i] - h.")
    return None
