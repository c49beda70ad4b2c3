"""Case-level diagnoses: one whole case (a :class:`~course.grader.compare.findings.Context`) to a
:class:`~course.grader.compare.findings.Diagnosis`, a list of them, or ``None``.

Each function here is the *test* of one entry of the diagnosis table
(:mod:`course.grader.compare.diagnoses`), which says when it runs and in which order. None of them
runs code: the variants' outputs were computed in the run phase.
"""

from __future__ import annotations

from ...backend import is_array
from ..run.values import close, is_number
from .findings import Context, Diagnosis
from .output_compare import pick, tol_for

__all__ = [
    "diag_error",
    "diag_mutated",
    "diag_nondeterministic",
    "diag_forward_backward",
    "diag_variants",
    "diag_exercise",
    "judge_declared",
    "matches",
]

_FD_TOL = (1e-4, 1e-6)  # finite differences are accurate to about 1e-8 relative; be generous


def diag_error(ctx: Context) -> Diagnosis | None:
    """The learner's function raised (or was not attempted yet, or returned something unusable)."""
    err = ctx.outcome.error
    if err is None:
        return None
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
        fd_ok = all(close(fd[n], pick(ctx.exercise, exp, n), *_FD_TOL) for n in fd)
        got_fd = all(close(pick(ctx.exercise, got, n), fd[n], *_FD_TOL) for n in fd)
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
    """Deliberately wrong variants whose outputs (computed in the run phase, kept in the
    reference outcome as data) the learner's outputs match, where the reference's do not."""
    ex = ctx.exercise
    if ctx.passed or not ex.variants or ctx.outcome.outputs is None:
        return []
    outputs = ctx.reference.extra.get("variants") or {}
    found = []
    for variant in ex.variants:
        v = outputs.get(variant.name)
        if v is None or not variant_reproduces_probes(ctx, variant.name):  # probes rule it out
            continue
        if matches(ex, ctx.outcome.outputs, v, ctx.failing) and not matches(
            ex, ctx.reference.outputs, v, ctx.failing
        ):
            found.append(Diagnosis(variant.name, variant.message))
    return found


def variant_reproduces_probes(ctx, name) -> bool:
    """Whether the registered variant ``name`` gives the learner's probe path (True without probes)."""
    probes = ctx.outcome.extra.get("probes") or {}
    paths = (ctx.reference.extra.get("candidates") or {}).get("variants") or {}
    if "path" not in probes or name not in paths:
        return True
    return close(paths[name], probes["path"], 1e-6, 1e-12)


def _same_values(ex, got, expected) -> bool:
    """``got`` equals ``expected`` within tolerance, structure included (dicts by key, sequences
    element by element, numbers and arrays with :func:`close`)."""
    if isinstance(expected, dict):
        return isinstance(got, dict) and got.keys() == expected.keys() and all(
            _same_values(ex, got[k], expected[k]) for k in expected
        )
    if isinstance(expected, (list, tuple)) and not (expected and is_number(expected[0])):
        return isinstance(got, (list, tuple)) and len(got) == len(expected) and all(
            _same_values(ex, a, b) for a, b in zip(got, expected)
        )
    return (is_number(got) or is_array(got)) and close(got, expected, *tol_for(ex, expected))


def matches(ex, got, variant, failing) -> bool:
    names = failing or [n for n in ex.outputs if n is not None]
    try:
        return all(_same_values(ex, pick(ex, got, n), pick(ex, variant, n)) for n in names)
    except Exception:  # a wrong structure matches no variant
        return False


def diag_exercise(ctx: Context) -> list[Diagnosis]:
    """The exercise's own diagnoses (``register(..., diagnoses=(fn, ...))``, each ``ctx ->
    Diagnosis | None``), in the order declared."""
    return [d for d in (fn(ctx) for fn in ctx.exercise.diagnoses) if d is not None]


def judge_declared(ctx: Context):
    """The exercise's own judge (``register(..., judge=fn)``), when it declares one."""
    return ctx.exercise.judge(ctx) if ctx.exercise.judge is not None else None
