"""The run phase: every call into learner code, and into the grader's wrong variants, happens here.

:func:`run` calls a learner's function on every case through the exercise's protocol
(:mod:`course.grader.protocols`) and returns one :class:`~course.grader.outcome.Outcome` per
case: plain data only, so it can be computed in another process. :func:`run_reference` does
the same for the reference and also runs each deliberately wrong *variant* on each case: their
outputs become data of the reference outcome (``extra["variants"]``), and the compare phase
names a variant the learner's outputs match without running any code itself.
"""

from __future__ import annotations

from .calling import LearnerMistake, call_learner, capture, fd_gradient, plain
from .cases import Case, same_data
from .outcome import ErrorInfo, Opaque, Outcome
from .probes import run_probes
from .protocols import Backward, Call, Protocol, Sweep, Trajectory

__all__ = [
    "ErrorInfo",
    "Outcome",
    "Opaque",
    "LearnerMistake",
    "Protocol",
    "Call",
    "Backward",
    "Trajectory",
    "Sweep",
    "run",
    "run_case",
    "run_reference",
    "run_variants",
    "call_learner",
    "capture",
    "plain",
    "fd_gradient",
]


def run_case(exercise, fn, case: Case, options: dict | None = None) -> Outcome:
    """One case through the exercise's protocol."""
    return exercise.protocol.run(exercise, fn, case, options or {})


def run(exercise, fn, case_list: list[Case], *, forward=None) -> list[Outcome]:
    """Call ``fn`` on every case (the run phase). Never raises for the learner's mistakes.

    The first case is run twice (when the protocol allows it) to catch non-deterministic
    results; after a ``NotImplementedError`` the remaining cases are not run.
    """
    options = {"forward": forward}
    outcomes: list[Outcome] = []
    for i, case in enumerate(case_list):
        out = run_case(exercise, fn, case, options)
        if out.error is not None and out.error.not_implemented:
            outcomes.extend([out] * (len(case_list) - i))
            break
        if i == 0 and out.error is None and exercise.protocol.repeat_first:
            again = run_case(exercise, fn, case, options)
            if again.error is None and not same_data(again.outputs, out.outputs):
                out.extra["nondeterministic"] = True
        outcomes.append(out)
    if any(o.error is None for o in outcomes):  # probes: designed inputs beside the cases
        for case, out in zip(case_list, outcomes):
            probes = run_probes(exercise, fn, case)
            if probes:
                out.extra["probes"] = probes
    return outcomes


def run_variants(exercise, case: Case) -> dict:
    """``{variant name: outputs}`` of every variant of ``exercise`` on ``case`` (``None`` where a
    variant raises or returns nothing: it then names nothing on that case)."""
    found = {}
    for variant in exercise.variants:
        try:
            v = run_case(exercise, variant.fn, case, dict(variant.options or {}))
        except Exception:  # a variant that cannot run on this case says nothing here
            v = None
        found[variant.name] = None if v is None or v.error is not None else v.outputs
    return found


def run_reference(exercise, case_list: list[Case], *, variants: bool = True) -> list[Outcome]:
    """The reference's outcomes, each carrying the grader's candidates for the diagnosis engine
    (``extra["candidates"]``) and, unless ``variants=False``, its case's variant outputs
    (``extra["variants"]``)."""
    from .candidates import run_candidates  # grader side only: not in the sandbox's view

    outcomes = run(exercise, exercise.reference, case_list)
    for case, out in zip(case_list, outcomes):
        if variants and exercise.variants:
            out.extra["variants"] = run_variants(exercise, case)
        if out.error is None:  # the grader's own candidates, as data
            out.extra["candidates"] = run_candidates(exercise, case, out)
    return outcomes
