"""The run phase: every call into learner code, and into the grader's wrong variants, happens here.

:func:`run` calls a learner's function on every case through the exercise's protocol
(:mod:`course.grader.run.protocols`) and returns one :class:`~course.grader.run.outcome.Outcome` per
case: plain data only, so it can be computed in another process. The reference is run by
the same :func:`run`, on the grader's side, with its variants and candidates beside it
(:mod:`course.grader.models.reference`).
"""

from __future__ import annotations

from ..cases import Case, same_data
from .calling import LearnerMistake, call_learner, capture, fd_gradient, plain
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
