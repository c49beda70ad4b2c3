"""``check``, in the learner's own process, in one direction:

1. the cases of the seed (:mod:`course.grader.cases`);
2. the learner's function on every case (the run phase, :mod:`course.grader.run`);
3. the reference's outcomes on the same cases, run once per exercise and seed; a failing answer
   also gets the variants' outputs and the engine's candidates beside them, run once, when an
   answer first fails (:mod:`course.grader.models.reference`);
4. the compare phase (:mod:`course.grader.compare`): no code runs;
5. the result (:mod:`course.grader.report`), shown in the notebook and published to the
   subscribers of results (progress).
"""

from __future__ import annotations

import importlib
import os
import sys

from .cases import cases
from .compare.core import compare
from .models.reference import has_extras, reference_outcomes
from .registry import Exercise, get
from .report import Result
from .run.runner import run

__all__ = ["check", "reference_outcomes", "default_seed", "grade_outcomes", "subscribe", "SUBSCRIBERS"]

def default_seed() -> int:
    """The seed used when ``check`` is not given one: ``$COURSE_CHECK_SEED`` or 0."""
    try:
        return int(os.environ.get("COURSE_CHECK_SEED", "0"))
    except ValueError:
        return 0


def grade_outcomes(exercise: Exercise, seed: int, case_list, outcomes) -> Result:
    """Steps 3 to 5 of ``check`` (see the module docstring), from outcomes computed anywhere.

    A check that passes never needs the variants: the reference's own outputs decide. An answer
    that fails is compared with the variants and candidates too (step 3's second half)."""
    refs = reference_outcomes(exercise, seed, variants=False)
    results = compare(exercise, case_list, outcomes, refs)
    if not all(r.passed for r in results) and not has_extras(exercise, refs[0]):
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
        case_list = cases(exercise, seed)  # 1
        outcomes = run(exercise, fn, case_list, forward=forward)  # 2
        result = grade_outcomes(exercise, seed, case_list, outcomes)  # 3, 4, 5
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
