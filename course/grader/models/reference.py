"""The reference's outcomes, and beside them, as data, what a failing answer is compared with.

Grader side only (never in the sandbox): the reference runs through the same run phase as the
learner's function (:func:`course.grader.run.runner.run`), then each deliberately wrong *variant*
runs on each case and the diagnosis engine's candidates are computed
(:mod:`course.grader.models.candidates`). Their outputs become data of the reference outcome
(``extra["variants"]``, ``extra["candidates"]``), and the compare phase names a variant the
learner's outputs match without running any code itself.
"""

from __future__ import annotations

from ..cases import Case, cases
from ..run.outcome import NEEDS_EXTRA, Outcome
from ..run.runner import run, run_case
from .candidates import run_candidates

__all__ = ["run_reference", "run_variants", "add_reference_extras", "reference_outcomes", "has_extras"]


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


_REFERENCE_CACHE: dict = {}


def has_extras(exercise, out) -> bool:
    """Whether a cached reference outcome carries what a failing answer is compared with (the
    variants of the exercise as it is now: a test may have swapped them)."""
    return "extras" in out.extra and (not exercise.variants or "variants" in out.extra)


def reference_outcomes(exercise, seed: int, case_list=None, *, variants: bool = True):
    """The reference's outcomes for the cases of ``seed`` (cached: the reference never changes),
    with the variants' outputs and the candidates unless ``variants=False`` (they are run once,
    when a failing answer first asks for them)."""
    if case_list is not None:  # cases from elsewhere (hidden tests): not cached under the seed
        return run_reference(exercise, case_list) if variants else run(exercise, exercise.reference, case_list)
    key = (exercise.id, seed)
    outs = _REFERENCE_CACHE.get(key)
    if outs is None:
        outs = run(exercise, exercise.reference, cases(exercise, seed))
        if len(_REFERENCE_CACHE) > 256:
            _REFERENCE_CACHE.clear()
        if not any(o.error is not None and o.error.type == NEEDS_EXTRA for o in outs):
            _REFERENCE_CACHE[key] = outs  # an extra missing now may be installed before the next check
    if variants and outs and not has_extras(exercise, outs[0]):
        for case, out in zip(cases(exercise, seed), outs):
            add_reference_extras(exercise, case, out)
    return outs
