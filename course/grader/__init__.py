"""The autograder: ``check(exercise_id, fn)`` tells a learner, in words, what is right or wrong.

Learner view (a notebook check cell)::

    from course.grader import check
    check("layers.relu_forward", relu_forward)
    check("layers.relu_backward", relu_backward, forward=relu_forward)   # also blames fwd vs bwd

The result shows itself (HTML in Jupyter, text elsewhere), never raises for the learner's
mistakes, scores the exercise (cases weigh equally) and is recorded by :mod:`course.progress`.
``COURSE_CHECK_STRICT=1`` turns a check that does not pass into an ``AssertionError``.

How a check works, in three phases that can run in different processes:

1. ``cases(exercise, seed)``: the inputs, pure data (arrays, numbers, strings, small tuples and
   dicts), from a seeded generator: the same seed gives the same cases, another seed other values.
2. ``run(exercise, fn, cases)``: *every* call into the learner's code, turned into plain data
   (:class:`~course.grader.run.runner.Outcome`: outputs, or the exception with the learner's own
   traceback; which inputs were changed in place; for backwards, finite differences of the
   learner's forward; for optimizers, the whole trajectory; for a learner's ``Value`` class, the
   numbers it produced). Instructor grading runs this phase in an isolated kernel.
   The reference's run (:func:`~course.grader.models.reference.run_reference`) also runs the exercise's
   deliberately wrong *variants*: their outputs become data too.
3. ``compare(exercise, cases, outcomes, reference_outcomes)``: no code runs; per-case verdicts
   and named diagnoses, by walking the one ordered diagnosis table of
   :mod:`course.grader.compare.diagnoses` (it says how to add a diagnosis), including the variants
   whose outputs the learner's match, which names the bug (e.g. ``eps_inside_sqrt``).
4. ``report``: a :class:`~course.grader.report.Result` shows itself and turns into JSON;
   subscribers (:mod:`course.progress`) hear of every checked result.

``check`` = 1 + 2 + 3 in the learner's process, plus display and progress.

The phases are folders (``course/grader/``): ``run/`` (what the sandbox holds), ``models/`` (the
grader's bug models, run on its side), ``compare/`` (the table and the diagnosis engine), and
``report.py``; ``cases.py``, ``registry.py`` and ``topics/`` (one module per topic: references,
cases, variants) beside them. ``course.grader.run`` and ``course.grader.compare`` are also the
phases' functions, so import from the folders with ``from course.grader.run import runner``
(``import course.grader.run.runner as runner`` finds the function).

Adding an exercise (instructor view) is one declaration in the topic's module under
``course/grader/topics/`` (a new module there is picked up automatically)::

    import numpy as np
    from course.grader import Case, Variant, register, randn, sizes

    def square(x):                         # the reference (usually imported from course.*)
        return x * x

    def _cases(rng):                       # seeded: use only rng for randomness
        N, D = sizes(rng, 2)               # distinct sizes: no accidental square shapes
        return [
            Case((randn(rng, N, D),), note=f"N = {N}, D = {D}", N=N),
            Case((randn(rng, 1, D),), note="N = 1", N=1),
            Case((randn(rng, 2, 3, scale=1e3),), note="large values", N=2),
        ]

    register(
        "warmup.square",                   # stable id: "topic.name"
        lesson="00_getting_started",
        title="Square every entry",
        reference=square,
        cases=_cases,
        points=1,
        outputs=("out",),                  # one name: one value returned; ("out", None): a tuple
        arg_names=("x",),                  # for messages such as "changed x in place"
        variants=(Variant("doubled", lambda x: 2 * x, "You doubled x instead of squaring it."),),
        hints=("x * x or x ** 2, element by element.",),
    )

Other protocols (how the function is called) live in :mod:`course.grader.run.protocols`:
``Backward(forward)`` for ``fn(dout, cache)``, ``Trajectory(lookup)`` for optimizer updates,
``Sweep()`` for schedules, ``Call(inplace=..., self_fd=...)`` for in-place updates and losses.
Tolerances default to rtol 1e-6 / atol 1e-9 for float64 (``tolerances=`` overrides per dtype).
The tests check automatically that the reference scores full marks on every case.
"""

from __future__ import annotations

from . import cases as _cases
from .cases import Case, FnRef, away_from_zero, randn, sizes
from .compare.core import DIAGNOSES, CaseResult, Diagnosis, compare
from .compare.diagnoses import TABLE, Entry
from .grading import check, grade_outcomes, reference_outcomes, subscribe
from .models.reference import run_reference
from .registry import Exercise, Variant, all_lessons, get, lessons, load_errors, register
from .registry import exercises as _exercises
from .report import Result
from .run.runner import Backward, Call, Outcome, Sweep, Trajectory, run

__all__ = [
    "check",
    "exercises",
    "get",
    "lessons",
    "register",
    "Exercise",
    "Variant",
    "Case",
    "FnRef",
    "cases",
    "run",
    "run_reference",
    "compare",
    "subscribe",
    "TABLE",
    "Entry",
    "grade_outcomes",
    "reference_outcomes",
    "Result",
    "CaseResult",
    "Diagnosis",
    "Outcome",
    "DIAGNOSES",
    "all_lessons",
    "Call",
    "Backward",
    "Trajectory",
    "Sweep",
    "randn",
    "sizes",
    "away_from_zero",
    "load_errors",
]


def exercises(lesson: str | None = None) -> list[Exercise]:
    """All registered exercises (records with id, lesson, points, title, hints), in course order;
    only those of ``lesson`` when given (e.g. ``"03_backprop"``)."""
    return _exercises(lesson)


def cases(exercise, seed: int = 0) -> list[Case]:
    """The cases of ``exercise`` (an id such as ``"layers.relu_forward"``, or the exercise) for ``seed``."""
    return _cases.cases(get(exercise) if isinstance(exercise, str) else exercise, seed)


def __getattr__(name):
    if name == "LESSONS":  # every lesson, derived (see registry.all_lessons); never edited by hand
        return all_lessons()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
