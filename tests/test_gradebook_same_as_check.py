"""Class grading and a learner's check name the same mistakes: for every bug (and every correct
but unusual answer) of tests/bugs, the gradebook's diagnoses (the instructor pipeline's compare of
a test set, on the outcomes as they cross the sandbox's wire format) equal those of ``check``'s
compare (:func:`course.grader.grade_outcomes`, what ``check`` does after running the function) on
the same outcomes: a run of some bugs is not deterministic (a set's order), so both compare one."""

from __future__ import annotations

import warnings

import pytest

from course.grader import cases, get, grade_outcomes, reference_outcomes, run
from course.instructor.pipeline import plan, stages
from course.instructor.sandbox.inside import wire
from tests.bugs.measure import HOLDOUT, MODULES, suite

_BUGS, _CORRECT = suite(MODULES + HOLDOUT)
ALL = [(ex, fn, opts) for ex, fn, _, opts in _BUGS] + list(_CORRECT)


def _names(result):
    return [[(d.name, d.message) for d in c.diagnoses] for c in result.cases]


@pytest.fixture(autouse=True)
def _quiet(monkeypatch):
    monkeypatch.setenv("COURSE_PROGRESS_FILE", "off")
    monkeypatch.delenv("COURSE_CHECK_STRICT", raising=False)


def test_the_suite_is_every_bug():
    assert len(_BUGS) >= 160 and _CORRECT


@pytest.mark.parametrize("k", range(len(ALL)), ids=[f"{b[0]}-{getattr(b[1], '__name__', '?')}" for b in ALL])
def test_the_gradebook_names_what_check_names(k):
    exercise_id, fn, opts = ALL[k]
    ex, seed = get(exercise_id), int(opts.get("seed", 0))
    case_list = cases(ex, seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        outcomes = run(ex, fn, case_list, forward=opts.get("forward"))
    mine = grade_outcomes(ex, seed, case_list, outcomes)
    sent, _ = wire.decode(*wire.encode(outcomes, {}))  # what the sandbox sends back
    ts = plan.TestSet("tests", False, "visible", seed, case_list, reference_outcomes(ex, seed))
    graded = stages._compare(ex, ts, sent)
    assert graded.passed == mine.passed
    assert _names(graded) == _names(mine), (exercise_id, getattr(fn, "__name__", "?"))
