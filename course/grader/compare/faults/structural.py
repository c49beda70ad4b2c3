"""Structural array diagnoses, general over exercises (compare phase).

For an output that is wrong, in order:

1. *another axis*: the reference computed over the other axis (on the transposed input, result
   transposed back), over every entry at once, or row by row, reproduces the learner's output;
2. *a complement*: the output is 1 minus the expected one (a sign inside exp);
3. *a sub-block*: only one row, one column, the first or last element, the label entries
   ``[n, y[n]]``, the columns named by the labels, or the entries where an input is beyond a
   scalar argument (``g < -clip_value``) differ.

The reference over other axes is computed in the run phase (:mod:`course.grader.models.candidates`);
here only data is compared.
"""

from __future__ import annotations

import numpy as np

__all__ = ["diagnose_structure", "locate"]


def _close(a, b, rtol=1e-6, atol=1e-9) -> bool:
    try:
        a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    except (TypeError, ValueError):
        return False
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol))


def _failing(ctx):
    """(name, expected, got) of the first wrong array output of the case."""
    from ..output_compare import pick as _pick

    ex = ctx.exercise
    try:
        for name in ctx.failing or [n for n in ex.outputs if n is not None]:
            e, g = _pick(ex, ctx.reference.outputs, name), _pick(ex, ctx.outcome.outputs, name)
            pairs = [(name, e, g)]
            if isinstance(e, (list, tuple)) and isinstance(g, (list, tuple)) and len(e) == len(g):
                pairs = [(f"{name}[{i}]", a, b) for i, (a, b) in enumerate(zip(e, g))]
            elif isinstance(e, dict) and isinstance(g, dict):
                pairs = [(f"{name}[{k!r}]", e[k], g.get(k)) for k in e]
            for label, a, b in pairs:
                if isinstance(a, np.ndarray) and a.dtype.kind == "f":
                    b = np.asarray(b, dtype=float)
                    if b.shape != a.shape or not np.allclose(a, b, rtol=1e-6, atol=1e-9):
                        return label, a, b
    except Exception:
        return None
    return None


def _other_axis(ctx, name, exp, got):
    """The reference over another axis or on a scaled input (candidates of the run phase)."""
    from ..output_compare import pick

    ex, case = ctx.exercise, ctx.case
    axes = (ctx.reference.extra.get("candidates") or {}).get("axes") or ()
    x = case.args[0] if case.args else None
    arg = ex.arg_names[0] if ex.arg_names else "x"
    for kind, words, outputs in axes:
        try:
            cand = np.asarray(pick(ex, outputs, name), dtype=float)
        except Exception:
            continue
        if not (_close(got, cand) and not _close(cand, exp)):
            continue
        if kind == "scaled":
            return ("scaled_input", f"Your {name} is the right function evaluated {words} not at {arg}: a "
                                    "factor 2 is missing or extra inside (e.g. tanh(x) = 2 * sigmoid(2x) - 1).")
        shape = tuple(x.shape) if isinstance(x, np.ndarray) else ()
        return ("wrong_axis", f"Your {name} is what the right computation gives {words} of {arg} "
                              f"(shape {shape}): check the axis= of your reductions, and keepdims.")
    return None


def _labels(case):
    for a in case.args:
        if isinstance(a, np.ndarray) and a.ndim == 1 and a.dtype.kind in "iu":
            return a
    return None


def _scalars(ctx):
    names = ctx.exercise.arg_names
    out = []
    for i, a in enumerate(ctx.case.args):
        if isinstance(a, (int, float)) and not isinstance(a, bool) and a > 0:
            out.append((names[i] if i < len(names) else f"argument {i + 1}", float(a)))
    return out


def _input_like(ctx, name, shape):
    """The input array this output corresponds to (same shape, same position in a container)."""
    first = ctx.case.args[0] if ctx.case.args else None
    if isinstance(first, (list, tuple, dict)) and "[" in name:
        key = name[name.index("[") + 1:-1].strip("'\"")
        try:
            item = first[int(key)] if isinstance(first, (list, tuple)) else first[key]
        except (ValueError, KeyError, IndexError):
            item = None
        if isinstance(item, np.ndarray) and item.shape == shape:
            return item, f"{ctx.exercise.arg_names[0] if ctx.exercise.arg_names else 'the input'}"
    for i, a in enumerate(ctx.case.args):
        if isinstance(a, np.ndarray) and a.shape == shape:
            return a, ctx.exercise.arg_names[i] if i < len(ctx.exercise.arg_names) else "x"
    return None, ""


def locate(ctx, name, exp, got):
    """Where the wrong entries are, when that is a recognisable sub-block."""
    with np.errstate(all="ignore"):
        bad = ~np.isclose(got, exp, rtol=1e-6, atol=1e-9)
    if not bad.any() or bad.all() or bad.size < 3:
        return None
    label = f"Your {name}"
    if bad.ndim == 2:
        rows, cols = np.where(bad.any(axis=1))[0], np.where(bad.any(axis=0))[0]
        y = _labels(ctx.case)
        if y is not None and len(y) == bad.shape[0] and y.max(initial=-1) < bad.shape[1]:
            onehot = np.zeros(bad.shape, dtype=bool)
            onehot[np.arange(len(y)), y] = True
            in_y = np.isin(np.arange(bad.shape[1]), y)
            if not in_y.all() and not bad[:, ~in_y].any() and bad[~onehot & in_y[None, :]].any():
                return "label_entries", (f"{label} differs in whole columns, those named by the labels y, in "
                                         "every row: [:, y] picks columns for all rows; the label entries are "
                                         "[np.arange(N), y].")
            if np.array_equal(bad, onehot):
                return "label_entries", (f"{label} is wrong exactly at the label entries [n, y[n]] and right "
                                         "elsewhere: check what you do at the correct class (e.g. - 1 there).")
            if np.array_equal(bad, ~onehot):
                return "label_entries", (f"{label} is right at the label entries [n, y[n]] but wrong everywhere "
                                         "else: something meant for the correct class only (the - 1) was applied "
                                         "to every entry (or to whole columns, [:, y]).")
        if len(rows) == 1 and bad.shape[0] > 1:
            return "sub_block", f"{label} is right except in row {rows[0]} (of {bad.shape[0]})."
        if len(cols) == 1 and bad.shape[1] > 1:
            return "sub_block", f"{label} is right except in column {cols[0]} (of {bad.shape[1]})."
    flat = bad.reshape(-1)
    if flat.sum() == 1 and (flat[0] or flat[-1]):
        which = "first" if flat[0] else "last"
        return "sub_block", f"{label} is right except at its {which} element: check the loop's bounds."
    x, xname = _input_like(ctx, name, bad.shape)
    if x is not None and x.dtype.kind == "f":
        for sname, c in _scalars(ctx):
            for cond, text in ((x < -c, f"< -{sname}"), (x > c, f"> {sname}"), (np.abs(x) > c, f"beyond ±{sname}"),
                               (x < 0, "< 0 (the lower bound is -" + sname + ")")):
                if np.array_equal(bad, cond):
                    return "region", (f"{label} is right elsewhere, but wrong exactly where {xname} {text} "
                                      f"({sname} = {c:g}).")
    return None


def diagnose_structure(ctx):
    found = _failing(ctx)
    if found is None:
        return None
    name, exp, got = found
    if got.shape != exp.shape or not np.all(np.isfinite(got)):
        return None
    hit = _other_axis(ctx, name, exp, got)
    if hit:
        return hit
    if exp.size >= 2 and _close(got, 1.0 - exp) and not _close(exp, 0.5):
        return ("complement", f"Your {name} is 1 - (the expected values) everywhere: a sign is flipped inside "
                              "(e.g. exp(x) where exp(-x) belongs).")
    return locate(ctx, name, exp, got)
