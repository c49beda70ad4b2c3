"""The reference's outcomes, and beside them, as data, what a failing answer is compared with.

Grader side only (never in the sandbox): the reference runs through the same run phase as the
learner's function (:func:`course.grader.run.runner.run`), then each deliberately wrong *variant*
runs on each case and the diagnosis engine's candidates are computed
(:mod:`course.grader.models.candidates`). Their outputs become data of the reference outcome
(``extra["variants"]``, ``extra["candidates"]``), and the compare phase names a variant the
learner's outputs match without running any code itself.
"""

from __future__ import annotations

from ..cases import Case
from ..run.outcome import Outcome
from ..run.runner import run, run_case
from .candidates import run_candidates

__all__ = ["run_reference", "run_variants", "add_reference_extras"]


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


def add_reference_extras(exercise, case: Case, out: Outcome) -> None:
    """What the diagnoses compare a failing answer with, beside the reference's own outputs, as
    data in ``out.extra``: the variants' outputs and the diagnosis engine's candidates."""
    if exercise.variants:
        out.extra["variants"] = run_variants(exercise, case)
    if out.error is None:
        out.extra["candidates"] = run_candidates(exercise, case, out)
    out.extra["extras"] = True


def run_reference(exercise, case_list: list[Case]) -> list[Outcome]:
    """The reference's outcomes, each with its case's extras (:func:`add_reference_extras`)."""
    outcomes = run(exercise, exercise.reference, case_list)
    for case, out in zip(case_list, outcomes):
        add_reference_extras(exercise, case, out)
    return outcomes
