"""``check``: cases + run + compare, in the learner's own process, shown in the notebook, and
published to the subscribers of results (progress)."""

from __future__ import annotations

import importlib
import os
import sys

from .cases import cases
from .compare.core import compare
from .models.reference import add_reference_extras, run_reference
from .registry import Exercise, get
from .report import Result
from .run.runner import run

__all__ = ["check", "reference_outcomes", "default_seed", "grade_outcomes", "subscribe", "SUBSCRIBERS"]

_REFERENCE_CACHE: dict = {}


def default_seed() -> int:
    """The seed used when ``check`` is not given one: ``$COURSE_CHECK_SEED`` or 0."""
    try:
        return int(os.environ.get("COURSE_CHECK_SEED", "0"))
    except ValueError:
        return 0


def _has_extras(exercise: Exercise, out) -> bool:
    """Whether a cached reference outcome carries what a failing answer is compared with (the
    variants of the exercise as it is now: a test may have swapped them)."""
    return "extras" in out.extra and (not exercise.variants or "variants" in out.extra)


def reference_outcomes(exercise: Exercise, seed: int, case_list=None, *, variants: bool = True):
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
        _REFERENCE_CACHE[key] = outs
    if variants and outs and not _has_extras(exercise, outs[0]):
        for case, out in zip(cases(exercise, seed), outs):
            add_reference_extras(exercise, case, out)
    return outs


def grade_outcomes(exercise: Exercise, seed: int, case_list, outcomes) -> Result:
    """The compare phase and the result, from outcomes computed anywhere (e.g. in another process).

    A check that passes never needs the variants; the first one that fails runs them (the run
    phase, once per exercise and seed) and is compared again with their outputs."""
    refs = reference_outcomes(exercise, seed, variants=False)
    results = compare(exercise, case_list, outcomes, refs)
    if not all(r.passed for r in results) and not _has_extras(exercise, refs[0]):
        results = compare(exercise, case_list, outcomes, reference_outcomes(exercise, seed))
    return Result(exercise.id, exercise.title, exercise.lesson, exercise.points, results, exercise.hints, seed)


def check(exercise_id: str, fn, *, forward=None, seed: int | None = None, record: bool = True) -> Result:
    """Check the learner's ``fn`` for the exercise ``exercise_id`` and show what is right or wrong.

    - forward: for a backward exercise, the learner's forward; finite differences of it are
      compared with the backward, to tell which of the two is at fault.
    - seed: which cases (default ``$COURSE_CHECK_SEED`` or 0).
    - record: save the result in the progress file (see :mod:`course.progress`).

    Never raises for the learner's mistakes; with ``COURSE_CHECK_STRICT=1`` a check that does not
    pass raises ``AssertionError`` (used when running the solution notebooks in tests).
    """
    exercise = get(exercise_id)
    seed = default_seed() if seed is None else int(seed)
    if not callable(fn):
        result = Result(exercise.id, exercise.title, exercise.lesson, exercise.points, [], exercise.hints, seed)
        what = type(fn).__name__
        result.message = (
            f"check expects your function as its second argument, got a {what} — pass the function "
            f"itself, without calling it: check({exercise.id!r}, my_function)"
        )
    else:
        case_list = cases(exercise, seed)
        outcomes = run(exercise, fn, case_list, forward=forward)
        result = grade_outcomes(exercise, seed, case_list, outcomes)
    if record:
        _record(result)
    _show(result)
    if os.environ.get("COURSE_CHECK_STRICT", "") == "1" and not result.passed:
        raise AssertionError(result.headline + "\n" + str(result))
    return result


#: Who hears of every checked result (when ``record=True``): callables ``result -> None``, or
#: ``"module:function"`` names imported on first use. :mod:`course.progress` is a subscriber,
#: named here as data: the grader does not import it, and progress imports the grader.
SUBSCRIBERS: list = ["course.progress:record"]


def subscribe(fn) -> None:
    """Call ``fn(result)`` after every recorded check (e.g. a class dashboard)."""
    SUBSCRIBERS.append(fn)


def _record(result: Result) -> None:
    for i, sub in enumerate(list(SUBSCRIBERS)):
        try:
            if isinstance(sub, str):
                module, _, name = sub.partition(":")
                sub = getattr(importlib.import_module(module), name)
                SUBSCRIBERS[i] = sub
            sub(result)
        except Exception:  # a subscriber (progress is a convenience) must never break a check
            pass


def _show(result: Result) -> None:
    """In a Jupyter kernel, display the result now (so several checks in one cell all show);
    the same object is then not shown a second time if it is the cell's last expression."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return
    try:
        ip = ipython.get_ipython()
        if ip is None or "IPKernelApp" not in getattr(ip, "config", {}):
            return
        from IPython.display import display

        display(result)
        result._shown_in = ip.execution_count
    except Exception:
        pass
