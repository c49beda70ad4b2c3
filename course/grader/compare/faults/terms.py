"""Which term is off: the learner's numbers matched against the grader's candidates (compare phase).

The candidates are computed in the run phase (:mod:`course.grader.models.candidates`) and reach this
module as data (``ctx.reference.extra["candidates"]``); nothing here runs code.

- schedules: the reference with one argument off by one or left at its default, and the family's
  formula slips (rounding, base, unit, the cosine's form);
- optimizers: each fault of :mod:`course.grader.models.optim_models` on the designed probe inputs; a
  fault is named only when it reproduces every probed number (four steps, g = 0, a doubled
  learning rate) and the right update does not; a registered variant that does not reproduce
  the probes is not named either (a match on one case alone can be chance);
- plain calls: an argument ignored, a number returned that is one of the arguments, the
  exercise's usual formula slips.
"""

from __future__ import annotations

import numpy as np

from ...run.values import is_number

__all__ = [
    "diagnose_schedule",
    "diagnose_trajectory",
    "diagnose_call_arguments",
    "diagnose_formula",
    "describe_first_step",
    "diagnose_probe_path",
]


def _close(a, b) -> bool:
    try:
        a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    except (TypeError, ValueError):
        return False
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=1e-6, atol=1e-12, equal_nan=True))


def _candidates(ctx) -> dict:
    return ctx.reference.extra.get("candidates") or {}


def diagnose_schedule(ctx):
    got = ctx.outcome.outputs
    if not isinstance(got, np.ndarray):
        return None
    for name, values, message in _candidates(ctx).get("faults", ()):
        if _close(got, values) and not _close(values, ctx.reference.outputs):
            return name, message
    return _schedule_span(ctx, got)


def _schedule_span(ctx, got):
    """Where a schedule goes wrong, when that is one span of steps next to a boundary (an int
    argument such as step_size, T_max or total_iters)."""
    exp = np.asarray(ctx.reference.outputs, dtype=float)
    steps = list(ctx.case.extra.get("steps", ()))
    if got.shape != exp.shape or len(steps) != exp.size:
        return None
    with np.errstate(all="ignore"):
        bad = ~np.isclose(got, exp, rtol=1e-6, atol=1e-12)
    idx = np.where(bad)[0]
    if not idx.size or bad.size - idx.size < 2 or idx[-1] - idx[0] + 1 != idx.size:
        return None  # one span, with at least two right steps beside it
    first, last = int(steps[idx[0]]), int(steps[idx[-1]])
    import inspect

    try:
        names = list(inspect.signature(ctx.exercise.reference).parameters)[1:]
    except (TypeError, ValueError):
        names = []
    bounds = [(n, v) for n, v in zip(names, ctx.case.args) if isinstance(v, int) and not isinstance(v, bool)]
    bounds += [(k, v) for k, v in ctx.case.kwargs.items() if isinstance(v, int) and not isinstance(v, bool)]
    span = f"steps {first} to {last}" if first != last else f"step {first}"
    tail = last == int(steps[-1])
    for n, v in bounds:
        if tail and first in (v, v + 1):
            return "schedule_span", (f"Your schedule is right up to step {first - 1} and wrong from step {first} on "
                                     f"({n} = {v}): check what your formula does once step reaches {n} (clamp, "
                                     "restart or keep the last value as the schedule says).")
        if first == 0 and last in (v - 1, v):
            return "schedule_span", (f"Your schedule is wrong for {span} and right from then on ({n} = {v}): "
                                     f"check the formula before step reaches {n} (where it starts, at step 0).")
    where = "the first steps" if first == int(steps[0]) else ("the last steps" if tail else span)
    return "schedule_span", f"Your schedule is right everywhere except {span} ({where})."


def _vec(x) -> str:
    return np.array2string(np.asarray(x, dtype=float), precision=4, separator=", ")


def describe_first_step(probes, ref, g) -> str:
    """What the learner's first step from a fresh state did, beside the right one, in numbers."""
    try:
        got = probes["path"][1] - probes["path"][0]
        want = ref["path"][1] - ref["path"][0]
    except (KeyError, IndexError, TypeError, ValueError):
        return ""
    if np.allclose(got, want, rtol=1e-6, atol=1e-12):
        k = next((i for i in range(1, len(ref["path"]))
                  if not np.allclose(probes["path"][i], ref["path"][i], rtol=1e-6, atol=1e-12)), None)
        return f"Probed from a fresh state, your first step is right, step {k} is not." if k else ""
    return (f"Probed from a fresh state with g = {_vec(g)}, your first step moves w by {_vec(got)}; "
            f"the right one is {_vec(want)}.")


def diagnose_trajectory(ctx):
    """The optimizer fault that reproduces the learner's probes, in the learner's terms."""
    probes = ctx.outcome.extra.get("probes") or {}
    ref = ctx.reference.extra.get("probes") or {}
    faults = _candidates(ctx).get("faults") or {}
    if "path" not in probes or "path" not in ref:
        return None
    for name, rec in faults.items():
        if not _close(probes["path"], rec["path"]) or _close(rec["path"], ref["path"]):
            continue
        if not _close(probes.get("zero_g"), rec["zero_g"]):
            continue
        if "double_lr" in rec and "double_lr" in probes and not _close(probes["double_lr"], rec["double_lr"]):
            continue
        first = describe_first_step(probes, ref, probes.get("g0", ()))
        return name, (first + " " if first else "") + rec["message"]
    return None


def diagnose_call_arguments(ctx):
    """An argument ignored, or a number returned that is one of the arguments."""
    from ..case_checks import matches
    from ..output_compare import pick

    ex, case = ctx.exercise, ctx.case
    if ctx.outcome.outputs is None:
        return None
    for outputs, message in _candidates(ctx).get("arguments", ()):
        if matches(ex, ctx.outcome.outputs, outputs, ctx.failing) and not matches(
                ex, ctx.reference.outputs, outputs, ctx.failing):
            return "argument_ignored", message
    names = ex.arg_names
    for out_name in ctx.failing:
        try:
            got, exp = pick(ex, ctx.outcome.outputs, out_name), pick(ex, ctx.reference.outputs, out_name)
        except Exception:
            continue
        if not (is_number(got) and is_number(exp)):
            continue
        for i, a in enumerate(case.args):
            if is_number(a) and a != 0 and np.isfinite(a) and abs(float(got) - float(a)) <= 1e-12 * max(1.0, abs(a)):
                arg = names[i] if i < len(names) else f"argument {i + 1}"
                return "returns_argument", (
                    f"Your {out_name} equals {arg} ({a:g}) where {float(exp):.4g} is expected: you return the "
                    f"value after it was clipped (or {arg} itself); return the one measured before any change.")
    return None


def diagnose_formula(ctx):
    """A plain call's usual formula slips, for a single output."""
    if not ctx.exercise.single_output:
        return None
    for name, values, message in _candidates(ctx).get("formulas", ()):
        if _close(ctx.outcome.outputs, values) and not _close(values, ctx.reference.outputs):
            return name, message
    return None


def diagnose_probe_path(ctx):
    """A case whose trajectory matched, but whose probes (designed gradients, not the test
    function's) do not: the update is still wrong somewhere the test function cannot see (e.g.
    weight decay on a quadratic bowl, which Adagrad's normalisation hides)."""
    probes = ctx.outcome.extra.get("probes") or {}
    ref = ctx.reference.extra.get("probes") or {}
    if "path" not in probes or "path" not in ref:
        return None
    same = _close(probes["path"], ref["path"]) and _close(probes.get("zero_g"), ref.get("zero_g"))
    if same and "double_lr" in ref:
        same = _close(probes.get("double_lr"), ref["double_lr"])
    if same:
        return None
    named = diagnose_trajectory(ctx)
    hp = ", ".join(f"{k}={v}" for k, v in (probes.get("hp") or {}).items())
    lead = (f"Your path on this test function is right, but on designed gradients ({hp}) your update is not: "
            "the test function hides the difference.")
    if named:
        return named[0], lead + " " + named[1]
    k = next((i for i in range(1, len(ref["path"])) if not _close(probes["path"][i], ref["path"][i])), None)
    g0 = _vec(probes.get("g0", ()))
    where = (f" From a fresh state with g = {g0}, step {k} gives w = {_vec(probes['path'][k])}, "
             f"expected {_vec(ref['path'][k])}." if k else " With g = 0 or a doubled lr it differs.")
    return "probe_path", lead + where


