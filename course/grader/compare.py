"""The compare phase: the learner's outputs against the reference's, and what is wrong, in words.

Nothing here calls learner code: it works on the plain data of :mod:`course.grader.runner`
(deliberately wrong *reference* variants are run here, they are the grader's own code).

Diagnoses are small named functions. Those in :data:`DIAGNOSES` look at one output of one case
(expected vs got) and return a message or ``None``; :func:`compare_case` adds the case-level ones
(exceptions, "not attempted yet", inputs changed in place, non-deterministic results, the
backward-vs-finite-differences verdict, named variants, and the exercise's own).

Names a learner may see: none, type, count, transposed, shape, nan, dtype, sign, factor, region,
values, exception, not_attempted, mutated, nondeterministic, forward_backward, trajectory,
plus the names of each exercise's variants (e.g. bias_axis, no_bias_correction, eps_inside_sqrt).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..backend import is_array, to_numpy
from .cases import Case
from .runner import ErrorInfo, Opaque, Outcome, run_case

__all__ = [
    "Diagnosis",
    "OutputCheck",
    "CaseResult",
    "Context",
    "Slot",
    "DIAGNOSES",
    "compare",
    "compare_case",
    "close",
    "preview",
    "fmt_shape",
]

_FD_TOL = (1e-4, 1e-6)  # finite differences are accurate to about 1e-8 relative; be generous


@dataclass
class Diagnosis:
    """A named finding. ``fails`` is False for a remark that costs no points."""

    name: str
    message: str
    fails: bool = True


@dataclass
class OutputCheck:
    """One output of one case: whether it matches, and small previews of expected and got."""

    name: str
    ok: bool
    expected: str = ""
    got: str = ""


@dataclass
class CaseResult:
    index: int
    note: str
    passed: bool
    diagnoses: list = field(default_factory=list)
    outputs: list = field(default_factory=list)
    error: ErrorInfo | None = None
    plot: dict | None = None


@dataclass
class Context:
    """Everything the case-level diagnoses may look at."""

    exercise: Any
    case: Case
    outcome: Outcome
    reference: Outcome
    passed: bool = False
    failing: list = field(default_factory=list)  # names of outputs that did not match
    plot: dict | None = None


@dataclass
class Slot:
    """One output of one case, as the per-output diagnoses see it."""

    name: str
    label: str  # "Your dW" / "Your output"
    expected: Any
    got: Any
    case: Case
    exercise: Any
    rtol: float = 1e-6
    atol: float = 1e-9
    arr: np.ndarray | None = None  # got as a NumPy array once the type is known to be right
    exp: np.ndarray | None = None


# ---------------------------------------------------------------------------------------------
# Small helpers


def fmt_shape(shape) -> str:
    shape = tuple(int(s) for s in shape)
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


def _num(v) -> str:
    v = float(v)
    if v == 0:
        return "0"
    if np.isfinite(v) and 1e-3 <= abs(v) < 1e5:
        return f"{v:.4g}"
    return f"{v:.3e}"


def preview(x, max_rows: int = 3, max_cols: int = 4) -> str:
    """A small slice of a value, for "expected vs got"."""
    if isinstance(x, Opaque):
        return x.text
    if x is None or isinstance(x, (str, bool)):
        return repr(x)
    if isinstance(x, (int, float, np.integer, np.floating)):
        return _num(x)
    if isinstance(x, (list, tuple)) and not all(isinstance(v, (int, float)) for v in x):
        return type(x).__name__ + " of " + str(len(x))
    if isinstance(x, dict):
        return "{" + ", ".join(f"{k!r}: {preview(v)}" for k, v in list(x.items())[:4]) + "}"
    try:
        a = np.asarray(to_numpy(x) if is_array(x) else x)
    except Exception:
        return repr(x)[:80]
    if a.dtype.kind not in "biuf":
        return repr(x)[:80]
    sl = a
    cut = False
    if a.ndim >= 1 and a.shape[0] > max_rows:
        sl, cut = sl[:max_rows], True
    if a.ndim >= 2 and a.shape[1] > max_cols:
        sl, cut = sl[:, :max_cols], True
    if a.ndim > 2:
        return f"array of shape {fmt_shape(a.shape)}: " + np.array2string(a.reshape(-1)[:6], precision=4) + " ..."
    with np.printoptions(precision=4, suppress=True, linewidth=70):
        text = np.array2string(sl)
    shape = f"  (shape {fmt_shape(a.shape)}{', first rows/columns' if cut else ''})" if a.ndim else ""
    return text + shape


def close(a, b, rtol: float = 1e-6, atol: float = 1e-9) -> bool:
    """Same shape and close values; non-finite entries must sit in the same places."""
    try:
        a = np.asarray(to_numpy(a) if is_array(a) else a, dtype=np.float64)
        b = np.asarray(to_numpy(b) if is_array(b) else b, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    if a.shape != b.shape:
        return False
    with np.errstate(all="ignore"):
        fa, fb = np.isfinite(a), np.isfinite(b)
        if not np.array_equal(fa, fb):
            return False
        return bool(np.allclose(a[fa], b[fa], rtol=rtol, atol=atol))


def _is_number(x) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, (bool, np.bool_))


def _index(idx) -> str:
    return "(" + ", ".join(str(int(i)) for i in idx) + ")" if len(idx) != 1 else f"[{int(idx[0])}]"


# ---------------------------------------------------------------------------------------------
# Per-output diagnoses: slot -> message or None


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
        if _is_number(got):
            return (
                f"{s.label} is a single number ({_num(got)}), but should be an array of shape "
                f"{fmt_shape(exp.shape)}: did you sum or average over everything?"
            )
        return f"{s.label} is a {type(got).__name__}, but should be a NumPy array of shape {fmt_shape(exp.shape)}."
    # a scalar is expected
    if _is_number(got) or (is_array(got) and got.ndim == 0):
        return None
    if is_array(got):
        return None  # shape diagnosis explains it
    return f"{s.label} is a {type(got).__name__}, but should be a number."


def diag_transposed(s: Slot) -> str | None:
    a, e = s.arr, s.exp
    if a.ndim != 2 or e.ndim != 2 or a.shape != e.shape[::-1]:
        return None
    if a.shape == e.shape and close(a, e, s.rtol, s.atol):
        return None
    if close(a.T, e, s.rtol, s.atol) or a.shape != e.shape:
        tail = "" if close(a.T, e, s.rtol, s.atol) else " (and its values differ too)"
        return (
            f"{s.label} has shape {fmt_shape(a.shape)} but should have shape {fmt_shape(e.shape)}: "
            f"it looks transposed{tail} — did you swap the operands of @ or forget .T?"
        )
    return None


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
            f" The inputs here are large (up to {_num(big)}): exp of a large number overflows — "
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
    if np.all(np.abs(s.exp) <= s.atol):
        return None
    if close(-s.arr, s.exp, s.rtol, s.atol):
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
    if not close(a, c * e, 1e-6, s.atol):
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
    if N is not None and N > 1 and abs(c * N - 1.0) < 1e-6:
        return f"{msg} (N = {N}): you divide by the batch size N once too often (or where no mean is taken)."
    return f"{msg}: a constant factor is missing or extra somewhere."


def diag_region(s: Slot) -> str | None:
    x = s.case.args[0] if s.case.args else None
    if not isinstance(x, np.ndarray) or x.shape != s.exp.shape or x.size < 2:
        return None
    bad = ~_isclose(s.arr, s.exp, s.rtol, s.atol)
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


def _isclose(a, e, rtol, atol):
    with np.errstate(all="ignore"):
        return np.isclose(a.astype(np.float64), e.astype(np.float64), rtol=rtol, atol=atol, equal_nan=False)


def diag_values(s: Slot) -> str | None:
    a, e = s.arr.astype(np.float64), s.exp.astype(np.float64)
    bad = ~_isclose(a, e, s.rtol, s.atol)
    if not bad.any():
        return None
    if e.ndim == 0:
        return f"{s.label} is {_num(a)}, but the expected value is {_num(e)}."
    with np.errstate(all="ignore"):
        err = np.where(bad, np.abs(a - e), -1.0)
    err = np.where(np.isnan(err), np.inf, err)
    idx = np.unravel_index(int(np.argmax(err)), e.shape)
    return (
        f"{s.label} differs from the expected values in {int(bad.sum())} of {e.size} entries; "
        f"the largest difference is at index {_index(idx)}: expected {_num(e[idx])}, got {_num(a[idx])}."
    )


#: Per-output diagnoses by name, in the order they are tried.
DIAGNOSES: dict[str, Callable[[Slot], str | None]] = {
    "none": diag_none,
    "type": diag_type,
    "transposed": diag_transposed,
    "shape": diag_shape,
    "nan": diag_nan,
    "dtype": diag_dtype,
    "sign": diag_sign,
    "factor": diag_factor,
    "region": diag_region,
    "values": diag_values,
}


def check_output(s: Slot) -> tuple[bool, list[Diagnosis]]:
    """Compare one output; returns (ok, diagnoses)."""
    found: list[Diagnosis] = []

    def fire(name) -> bool:
        msg = DIAGNOSES[name](s)
        if msg:
            found.append(Diagnosis(name, msg))
        return bool(msg)

    if fire("none") or fire("type"):
        return False, found
    s.exp = np.asarray(s.expected)
    try:
        s.arr = np.asarray(to_numpy(s.got) if is_array(s.got) else s.got)
    except Exception:
        found.append(Diagnosis("type", f"{s.label} could not be read as a number or array."))
        return False, found
    if s.arr.dtype.kind not in "biuf":
        found.append(Diagnosis("type", f"{s.label} has dtype {s.arr.dtype}; numbers were expected."))
        return False, found
    if fire("transposed") or fire("shape") or fire("nan"):
        return False, found
    ok = True
    if fire("dtype"):
        ok = False
        if s.arr.dtype.kind == "f":
            s.rtol, s.atol = s.exercise.tolerance(str(s.arr.dtype))
    if close(s.arr, s.exp, s.rtol, s.atol):
        return ok, found
    if not (fire("transposed") or fire("sign") or fire("factor")):
        fire("values")
        fire("region")
    return False, found


# ---------------------------------------------------------------------------------------------
# Whole outputs of a case


def _label(exercise, name) -> str:
    return "Your output" if name == "out" and exercise.single_output else f"Your {name}"


def _pick(exercise, outputs, name):
    if exercise.single_output:
        return outputs
    return outputs[list(exercise.outputs).index(name)]


def _tol_for(exercise, expected) -> tuple[float, float]:
    if isinstance(expected, (np.ndarray, np.generic)) and expected.dtype.kind == "f":
        return exercise.tolerance(str(expected.dtype))
    return exercise.tolerance("float64")


def _count_message(exercise, got) -> str:
    names = ", ".join(n or "cache" for n in exercise.outputs)
    want = f"{len(exercise.outputs)} values: ({names})"
    if got is None:
        return f"Your function returned None: did you forget the `return` statement? It should return {want}."
    if isinstance(got, (tuple, list)):
        return f"Your function returned {len(got)} values but should return {want}."
    return f"Your function returned a single {type(got).__name__} but should return {want}."


def compare_outputs(exercise, case: Case, expected, got) -> tuple[bool, list, list]:
    """All graded outputs of one case: (ok, diagnoses, checks)."""
    names = exercise.outputs
    if not exercise.single_output:
        if not isinstance(got, (tuple, list)) or len(got) != len(names):
            return False, [Diagnosis("count", _count_message(exercise, got))], []
    elif isinstance(got, tuple) and not isinstance(expected, tuple) and len(got) > 1:
        msg = (
            f"Your function returned a tuple of {len(got)} values, but should return a single value "
            f"({names[0]})."
        )
        return False, [Diagnosis("count", msg)], []
    ok, diags, checks = True, [], []
    for name in names:
        if name is None:
            continue
        exp, g = _pick(exercise, expected, name), _pick(exercise, got, name)
        o, d = compare_value(exercise, case, name, exp, g)
        ok &= o
        diags += d
        checks.append(OutputCheck(name, o, preview(exp), preview(g)))
    return ok, diags, checks


def compare_value(exercise, case, name, expected, got) -> tuple[bool, list]:
    """One named output (an array, a number, or a list/tuple/dict of them)."""
    label = _label(exercise, name)
    if isinstance(expected, dict):
        if not isinstance(got, dict):
            return False, [Diagnosis("type", f"{label} should be a dict, got {type(got).__name__}.")]
        missing = [k for k in expected if k not in got]
        if missing:
            return False, [Diagnosis("type", f"{label} is missing the key(s) {', '.join(map(repr, missing))}.")]
        ok, diags = True, []
        for k in expected:
            o, d = compare_value(exercise, case, f"{name}[{k!r}]", expected[k], got[k])
            ok, diags = ok and o, diags + d
        return ok, diags
    if isinstance(expected, (list, tuple)) and not (expected and _is_number(expected[0])):
        if not isinstance(got, (list, tuple)) or len(got) != len(expected):
            n = len(got) if isinstance(got, (list, tuple)) else type(got).__name__
            return False, [Diagnosis("count", f"{label} should hold {len(expected)} items, got {n}.")]
        ok, diags = True, []
        for i, (e, g) in enumerate(zip(expected, got)):
            o, d = compare_value(exercise, case, f"{name}[{i}]", e, g)
            ok, diags = ok and o, diags + d
        return ok, diags
    rtol, atol = _tol_for(exercise, expected)
    if isinstance(expected, (float, int)):
        expected = np.asarray(expected, dtype=np.float64)
    return check_output(Slot(name, label, np.asarray(expected), got, case, exercise, rtol, atol))


# ---------------------------------------------------------------------------------------------
# Case-level diagnoses


def _error_diagnosis(err: ErrorInfo) -> Diagnosis:
    where = f" {err.where}" if err.where else ""
    if err.kind == "not_attempted":
        return Diagnosis(
            "not_attempted",
            "not attempted yet: replace `raise NotImplementedError` with your code, then run the check again.",
        )
    if err.kind == "mistake":
        return Diagnosis(err.type, err.message)
    return Diagnosis("exception", f"Your function raised {err.type}{where}: {err.message}")


def diag_mutated(ctx: Context) -> Diagnosis | None:
    names = ctx.outcome.mutated
    if not names:
        return None
    what = " and ".join(names)
    return Diagnosis(
        "mutated",
        f"Your function changed its input {what} in place (e.g. with x[...] = ..., x += ... or "
        f"np.maximum(x, 0, out=x)). Work on a copy (.copy()) or build a new array: the caller "
        "still needs the original.",
    )


def diag_nondeterministic(ctx: Context) -> Diagnosis | None:
    if not ctx.outcome.extra.get("nondeterministic"):
        return None
    return Diagnosis(
        "nondeterministic",
        "Calling your function twice with the same inputs gave different results. "
        "Is it using random numbers (np.random) or keeping results from an earlier call?",
    )


def diag_forward_backward(ctx: Context) -> Diagnosis | None:
    fd = ctx.outcome.extra.get("fd")
    if not fd:
        note = ctx.outcome.extra.get("forward_note")
        if note:
            return Diagnosis(
                "forward_backward",
                f"Your forward {note}, so your backward was checked with the reference forward's cache.",
                fails=False,
            )
        return None
    fwd, bwd = ctx.exercise.fd_words
    got, exp = ctx.outcome.outputs, ctx.reference.outputs
    try:
        fd_ok = all(close(fd[n], _pick(ctx.exercise, exp, n), *_FD_TOL) for n in fd)
        got_fd = all(close(_pick(ctx.exercise, got, n), fd[n], *_FD_TOL) for n in fd)
    except Exception:  # the learner's outputs have the wrong structure: no verdict
        return None
    if ctx.passed:
        if fd_ok:
            return None
        return Diagnosis(
            "forward_backward",
            f"Your {bwd} is right, but finite differences of your own {fwd} give other values: "
            f"your {fwd} has a bug (check it on its own).",
            fails=False,
        )
    if fd_ok:
        msg = (
            f"Finite differences of your own {fwd} agree with the expected gradient, so your {fwd} is "
            f"right: the bug is in your {bwd}."
        )
    elif got_fd:
        msg = (
            f"Your {bwd} agrees with finite differences of your own {fwd}, but both differ from the "
            f"expected values: the bug is in your {fwd}, not in your {bwd} — fix the {fwd} first."
        )
    else:
        msg = (
            f"Your {bwd} differs both from the expected gradient and from finite differences of your "
            f"own {fwd}, and your {fwd} does not match the reference either: fix the {fwd} first, "
            f"then the {bwd}."
        )
    return Diagnosis("forward_backward", msg)


def diag_variants(ctx: Context) -> list[Diagnosis]:
    """Deliberately wrong reference variants that the learner's outputs match."""
    ex = ctx.exercise
    if ctx.passed or not ex.variants or ctx.outcome.outputs is None:
        return []
    found = []
    for variant in ex.variants:
        try:
            v = run_case(ex, variant.fn, ctx.case, {})
        except Exception:  # a variant that cannot run on this case says nothing here
            continue
        if v.error is not None or v.outputs is None:
            continue
        if _matches(ex, ctx.outcome.outputs, v.outputs, ctx.failing) and not _matches(
            ex, ctx.reference.outputs, v.outputs, ctx.failing
        ):
            found.append(Diagnosis(variant.name, variant.message))
    return found


def _same_values(ex, got, expected) -> bool:
    """``got`` equals ``expected`` within tolerance, structure included (dicts by key, sequences
    element by element, numbers and arrays with :func:`close`)."""
    if isinstance(expected, dict):
        return isinstance(got, dict) and got.keys() == expected.keys() and all(
            _same_values(ex, got[k], expected[k]) for k in expected
        )
    if isinstance(expected, (list, tuple)) and not (expected and _is_number(expected[0])):
        return isinstance(got, (list, tuple)) and len(got) == len(expected) and all(
            _same_values(ex, a, b) for a, b in zip(got, expected)
        )
    return (_is_number(got) or is_array(got)) and close(got, expected, *_tol_for(ex, expected))


def _matches(ex, got, variant, failing) -> bool:
    names = failing or [n for n in ex.outputs if n is not None]
    try:
        return all(_same_values(ex, _pick(ex, got, n), _pick(ex, variant, n)) for n in names)
    except Exception:  # a wrong structure matches no variant
        return False


#: Case-level diagnoses by name (the per-output ones are in DIAGNOSES).
CASE_DIAGNOSES: dict[str, Callable] = {
    "mutated": diag_mutated,
    "nondeterministic": diag_nondeterministic,
    "forward_backward": diag_forward_backward,
}


def compare_case(exercise, index: int, case: Case, outcome: Outcome, reference: Outcome) -> CaseResult:
    """The verdict and diagnoses for one case."""
    if reference.error is not None:  # a bug in the grader, not the learner's
        raise RuntimeError(
            f"reference for {exercise.id} failed on case {index + 1}: {reference.error.message}\n"
            f"{reference.error.traceback}"
        )
    res = CaseResult(index, case.note, False)
    if outcome.error is not None:
        res.error = outcome.error
        res.diagnoses.append(_error_diagnosis(outcome.error))
        return res
    ctx = Context(exercise, case, outcome, reference)
    verdict = (exercise.judge or exercise.protocol.judge)(ctx)
    if verdict is None:
        verdict = compare_outputs(exercise, case, reference.outputs, outcome.outputs)
    ok, diags, checks = verdict
    ctx.failing = [c.name for c in checks if not c.ok]
    for fn in CASE_DIAGNOSES.values():
        if fn is diag_forward_backward:
            continue
        d = fn(ctx)
        if d is not None:
            diags.append(d)
            ok = ok and not d.fails
    ctx.passed = ok
    diags += diag_variants(ctx)
    extra = [diag_forward_backward(ctx)]
    extra += list(exercise.protocol.diagnose(ctx))
    extra += [d(ctx) for d in exercise.diagnoses]
    for d in extra:
        if d is not None:
            diags.append(d)
            ok = ok and not d.fails
    res.passed = ok
    res.diagnoses = diags
    res.outputs = checks
    res.plot = ctx.plot
    return res


def compare(exercise, case_list, outcomes, reference_outcomes) -> list[CaseResult]:
    """The compare phase for all cases (no learner code runs here)."""
    return [
        compare_case(exercise, i, c, o, r)
        for i, (c, o, r) in enumerate(zip(case_list, outcomes, reference_outcomes))
    ]
