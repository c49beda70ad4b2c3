"""Per-output diagnoses: one output of one case (a :class:`~course.grader.compare.findings.Slot`,
expected vs got) to a message, or ``None`` when the diagnosis does not apply.

Each function here is the *test* of one entry of the diagnosis table
(:mod:`course.grader.compare.diagnoses`), which says when it runs and in which order.
"""

from __future__ import annotations

import numpy as np

from ...backend import is_array
from ..cases import Case
from ..run.values import close, fmt_shape, index_text, is_number, isclose, num
from .findings import Slot

__all__ = [
    "diag_none",
    "diag_type",
    "diag_unreadable",
    "diag_not_numeric",
    "diag_transposed",
    "diag_transposed_square",
    "diag_shape",
    "diag_nan",
    "diag_dtype",
    "diag_sign",
    "diag_factor",
    "diag_region",
    "diag_values",
]


def diag_none(s: Slot) -> str | None:
    if s.got is None:
        return f"{s.label} is None: did you forget the `return` statement?"
    return None


def diag_type(s: Slot) -> str | None:
    got, exp = s.got, s.expected
    if isinstance(exp, np.ndarray) and exp.ndim > 0:
        if is_array(got):
            return None
        if isinstance(got, (list, tuple)):
            return (
                f"{s.label} is a Python {type(got).__name__}, but should be a NumPy array of shape "
                f"{fmt_shape(exp.shape)}: build it with NumPy operations (or np.array(...))."
            )
        if is_number(got):
            return (
                f"{s.label} is a single number ({num(got)}), but should be an array of shape "
                f"{fmt_shape(exp.shape)}: did you sum or average over everything?"
            )
        return f"{s.label} is a {type(got).__name__}, but should be a NumPy array of shape {fmt_shape(exp.shape)}."
    # a scalar is expected
    if is_number(got) or (is_array(got) and got.ndim == 0):
        return None
    if is_array(got):
        return None  # shape diagnosis explains it
    return f"{s.label} is a {type(got).__name__}, but should be a number."


def diag_unreadable(s: Slot) -> str | None:
    try:
        s.arr  # noqa: B018 (reading it converts the output once)
    except Exception:
        return f"{s.label} could not be read as a number or array."
    return None


def diag_not_numeric(s: Slot) -> str | None:
    if s.arr.dtype.kind not in "biuf":
        return f"{s.label} has dtype {s.arr.dtype}; numbers were expected."
    return None


def _transposed(s: Slot, rtol: float, atol: float) -> str | None:
    a, e = s.arr, s.exp
    if a.ndim != 2 or e.ndim != 2 or a.shape != e.shape[::-1]:
        return None
    if a.shape == e.shape and close(a, e, rtol, atol):
        return None
    if close(a.T, e, rtol, atol) or a.shape != e.shape:
        tail = "" if close(a.T, e, rtol, atol) else " (and its values differ too)"
        return (
            f"{s.label} has shape {fmt_shape(a.shape)} but should have shape {fmt_shape(e.shape)}: "
            f"it looks transposed{tail} — did you swap the operands of @ or forget .T?"
        )
    return None


def diag_transposed(s: Slot) -> str | None:
    """Shape (M, N) where (N, M) is expected (the tolerance of the expected dtype)."""
    return _transposed(s, s.rtol, s.atol)


def diag_transposed_square(s: Slot) -> str | None:
    """A square output equal to the expected one transposed (at the values' tolerance)."""
    return _transposed(s, *s.tol)


def diag_shape(s: Slot) -> str | None:
    a, e = s.arr, s.exp
    if a.shape == e.shape:
        return None
    if e.ndim == 0:
        return (
            f"{s.label} has shape {fmt_shape(a.shape)} but should be a single number: "
            "reduce it to a scalar (e.g. with .sum() or .mean(), without keepdims)."
        )
    msg = f"{s.label} has shape {fmt_shape(a.shape)} but should have shape {fmt_shape(e.shape)}"
    squeezed = tuple(d for d in a.shape if d != 1)
    if squeezed == tuple(d for d in e.shape if d != 1) and a.ndim > e.ndim:
        return msg + ": it has an extra axis of length 1 — did you use keepdims=True where it is not needed?"
    if squeezed == tuple(d for d in e.shape if d != 1) and a.ndim < e.ndim:
        return msg + ": an axis of length 1 is missing — use keepdims=True (or reshape)."
    if a.size == e.size:
        return msg + ": the number of entries is right; check reshapes and the order of the axes."
    if s.case.N is not None and (a.shape[:1] == (s.case.N,)) != (e.shape[:1] == (s.case.N,)):
        return msg + f": check which axis you sum over (the batch axis 0 has N = {s.case.N} entries)."
    return msg + "."


def diag_nan(s: Slot) -> str | None:
    a, e = s.arr, s.exp
    if a.dtype.kind not in "fc":
        return None
    with np.errstate(all="ignore"):
        bad = ~np.isfinite(a) & np.isfinite(e)
    if not bad.any():
        return None
    kinds = []
    if np.isnan(a[bad]).any():
        kinds.append("NaN")
    if np.isinf(a[bad]).any():
        kinds.append("inf")
    where = f' for the case "{s.case.note}"' if s.case.note else ""
    msg = (
        f"{s.label} contains {' and '.join(kinds)} ({int(bad.sum())} of {a.size} entries){where}, "
        "where the expected values are all finite."
    )
    big = _largest_input(s.case)
    if big is not None and big > 50:
        msg += (
            f" The inputs here are large (up to {num(big)}): exp of a large number overflows — "
            "compute it in a stable way (e.g. subtract the maximum before exp)."
        )
    else:
        msg += " Look for a division by zero or a log of 0."
    return msg


def _largest_input(case: Case):
    vals = [np.max(np.abs(v)) for v in case.args if isinstance(v, np.ndarray) and v.size and v.dtype.kind == "f"]
    return float(max(vals)) if vals else None


def diag_dtype(s: Slot) -> str | None:
    a, e = s.arr, s.exp
    if e.dtype == np.float64 and a.dtype in (np.float32, np.float16):
        return (
            f"{s.label} has dtype {a.dtype} but float64 was expected: somewhere your computation "
            "drops to single precision (e.g. np.float32(...) or .astype(np.float32)); keep float64."
        )
    if e.dtype.kind == "f" and a.dtype.kind in "biu":
        return (
            f"{s.label} has the integer dtype {a.dtype} but should hold floats: "
            "use float literals (0.0, not 0) or np.zeros_like on a float array."
        )
    return None


def diag_sign(s: Slot) -> str | None:
    rtol, atol = s.tol
    if np.all(np.abs(s.exp) <= atol):
        return None
    if close(-s.arr, s.exp, rtol, atol):
        return f"{s.label} values are exactly -1 times the expected ones: check the sign."
    return None


def _factor_text(c: float) -> str:
    for k in range(2, 1001):
        if abs(c - k) < 1e-6 * k:
            return str(k)
        if abs(c - 1.0 / k) < 1e-6 / k:
            return f"1/{k}"
    return f"{c:.4g}"


def diag_factor(s: Slot) -> str | None:
    atol = s.tol[1]
    a, e = s.arr.astype(np.float64), s.exp.astype(np.float64)
    finite = np.isfinite(e)  # an expected inf (an overflow) must not make every entry "small"
    scale = float(np.max(np.abs(e[finite]))) if finite.any() else 0.0
    if scale == 0.0:
        return None
    mask = finite & (np.abs(e) > 1e-6 * scale)
    with np.errstate(all="ignore"):
        c = float(np.median(a[mask] / e[mask]))
    if not np.isfinite(c) or c == 0.0 or abs(c - 1.0) < 1e-6 or abs(c + 1.0) < 1e-6:
        return None
    if not close(a, c * e, 1e-6, atol):
        return None
    text = _factor_text(c)
    msg = f"{s.label} is {text} times the expected one"
    N = s.case.N
    hints = {**s.exercise.factor_hints, **s.case.extra.get("factors", {})}
    for factor, advice in hints.items():
        if abs(c - factor) < 1e-6 * abs(factor):
            return f"{msg}: {advice}"
    if N is not None and N > 1 and abs(c - N) < 1e-6 * N:
        return f"{msg} (N = {N}): did you forget to divide by the batch size N?"
    if N is not None and N > 1 and abs(c * N - 1.0) < 1e-6 and int(mask.sum()) > 1:
        return f"{msg} (N = {N}): you divide by the batch size N once too often (or where no mean is taken)."
    # a factor is claimed only where it means something: a whole number or 1/k, or the same ratio
    # over many entries (a single entry always is "some factor" times the expected one)
    if not ("/" in text or text.isdigit()) and int(mask.sum()) < 4:
        return None
    return f"{msg}: a constant factor is missing or extra somewhere."


def diag_region(s: Slot) -> str | None:
    rtol, atol = s.tol
    x = s.case.args[0] if s.case.args else None
    if not isinstance(x, np.ndarray) or x.shape != s.exp.shape or x.size < 2:
        return None
    bad = ~isclose(s.arr, s.exp, rtol, atol)
    if not bad.any() or bad.all():
        return None
    name = s.exercise.arg_names[0] if s.exercise.arg_names else "x"
    conds = ((x < 0, "< 0"), (x <= 0, "<= 0"), (x > 0, "> 0"), (x >= 0, ">= 0"), (x == 0, "== 0"))
    for cond, text in conds:
        if np.array_equal(bad, cond):
            msg = f"{s.label} is right elsewhere, but wrong exactly where {name} {text}."
            if text == "== 0":
                msg += " At exactly 0 the course takes the derivative of a kink as 0 (compare with > 0, not >= 0)."
            return msg
    return None


def diag_values(s: Slot) -> str | None:
    rtol, atol = s.tol
    a, e = s.arr.astype(np.float64), s.exp.astype(np.float64)
    bad = ~isclose(a, e, rtol, atol)
    if not bad.any():
        return None
    if e.ndim == 0:
        return f"{s.label} is {num(a)}, but the expected value is {num(e)}."
    with np.errstate(all="ignore"):
        err = np.where(bad, np.abs(a - e), -1.0)
    err = np.where(np.isnan(err), np.inf, err)
    idx = np.unravel_index(int(np.argmax(err)), e.shape)
    return (
        f"{s.label} differs from the expected values in {int(bad.sum())} of {e.size} entries; "
        f"the largest difference is at index {index_text(idx)}: expected {num(e[idx])}, got {num(a[idx])}."
    )
