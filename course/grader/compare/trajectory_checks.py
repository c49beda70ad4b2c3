"""Diagnoses of an optimizer's path (the :class:`~course.grader.run.protocols.Trajectory` protocol):
the verdict (the first step where the learner's path leaves the expected one) and remarks on how
the update function returns w and keeps its state. Entries of :mod:`course.grader.compare.diagnoses`."""

from __future__ import annotations

import numpy as np

from ..run.values import close, preview
from .findings import Context, Diagnosis, OutputCheck

__all__ = ["judge_trajectory", "diag_returned_none", "diag_not_in_place", "diag_state_names"]


def _hp_text(kwargs) -> str:
    return ", " + ", ".join(f"{k}={v}" for k, v in kwargs.items()) if kwargs else ""


def judge_trajectory(ctx: Context):
    """``(ok, diagnoses, checks)``: the path compared step by step."""
    exp, got = ctx.reference.outputs, ctx.outcome.outputs
    if not isinstance(got, np.ndarray) or got.shape != exp.shape:
        return False, [Diagnosis("type", "Your updates did not produce a path of the right shape.")], []
    rtol, atol = ctx.exercise.tolerance("float64")
    for k in range(exp.shape[0]):
        if not close(got[k], exp[k], rtol, atol):
            break
    else:
        return True, [], [OutputCheck("path", True, preview(exp[-1]), preview(got[-1]))]
    extra = ctx.case.extra
    steps = exp.shape[0] - 1
    msg = (
        f"Your path first leaves the expected one at step {k} of {steps} "
        f"(on {extra['function']}, from w0 = {np.array2string(np.asarray(extra['w0']), precision=3)}"
        f"{_hp_text(ctx.case.kwargs)}): expected w = {np.array2string(exp[k], precision=6)}, "
        f"got {np.array2string(got[k], precision=6)}."
    )
    if not np.all(np.isfinite(got[k])):
        msg += " Your update produced NaN or inf there (a division by zero?)."
    ctx.plot = {"expected": exp, "got": got, "function": extra["function"], "step": k}
    check = OutputCheck(f"w after step {k}", False, preview(exp[k]), preview(got[k]))
    return False, [Diagnosis("trajectory", msg)], [check]


def diag_returned_none(ctx: Context) -> Diagnosis | None:
    if not ctx.outcome.extra.get("returned_none"):
        return None
    return Diagnosis("none", "Your function returned None: update w in place and `return w` at the end.", fails=False)


def diag_not_in_place(ctx: Context) -> Diagnosis | None:
    extra = ctx.outcome.extra
    if extra.get("returned_none") or not extra.get("not_in_place"):
        return None
    return Diagnosis(
        "not_in_place",
        "Your function returned a new array instead of updating w in place (w -= ...): "
        "callers that keep a reference to w would not see the update.",
        fails=False,
    )


def diag_state_names(ctx: Context) -> Diagnosis | None:
    ref_state = ctx.reference.extra.get("state") or {}
    state = ctx.outcome.extra.get("state")
    if not isinstance(state, dict) or ctx.passed:
        return None
    missing = [k for k in ref_state if k not in state]
    if not missing:
        return None
    return Diagnosis(
        "state_names",
        f"Your state has no {', '.join(map(repr, missing))}: keep the running buffers in "
        f"the state dict under these names (it has {sorted(map(str, state)) or 'nothing'}).",
        fails=False,
    )
