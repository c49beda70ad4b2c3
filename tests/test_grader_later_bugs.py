"""The bug suite written for lessons 09, 10 and 16 before their exercises were registered
(tests/bugs/lesson09.py, lesson10.py, lesson16.py; ``python -m tests.bugs.measure --later``): every bug
fails, every correct-but-unusual solution passes, and the contracts' own messages hold."""

import numpy as np
import pytest
from bugs import lesson09, lesson10, lesson16
from bugs.measure import judge

from course.grader import check
from course.layers import lstm_step_forward
from course.symmetry import distinct_hidden_units

BUGS = lesson09.BUGS + lesson10.BUGS + lesson16.BUGS
CORRECT = lesson09.CORRECT + lesson10.CORRECT + lesson16.CORRECT


@pytest.fixture(autouse=True)
def _progress_off(monkeypatch):
    monkeypatch.setenv("COURSE_PROGRESS_FILE", "off")
    monkeypatch.delenv("COURSE_CHECK_STRICT", raising=False)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("exercise_id, bug, words, opts", BUGS, ids=[b[1].__name__ for b in BUGS])
def test_each_bug_fails(exercise_id, bug, words, opts):
    result = check(exercise_id, bug, record=False, **opts)
    assert not result.passed


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_the_suite_is_named_as_the_readme_says():
    named = worded = 0
    for exercise_id, bug, words, opts in BUGS:
        n, w = judge(check(exercise_id, bug, record=False, **opts), words)
        named, worded = named + n, worded + w
    assert (len(BUGS), named, worded) == (25, 24, 21)


@pytest.mark.parametrize("exercise_id, fn, opts", CORRECT, ids=[c[1].__name__ for c in CORRECT])
def test_correct_but_unusual_solutions_pass(exercise_id, fn, opts):
    assert check(exercise_id, fn, record=False, **opts).passed


def test_an_lstm_forward_in_cs231n_form_is_told_the_contract():
    def cs231n_style(x, prev_h, prev_c, Wx, Wh, b):
        (h, c), cache = lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b)
        return h, c, cache

    result = check("rnn.lstm_step_forward", cs231n_style, record=False)
    assert not result.passed and "((next_h, next_c), cache)" in str(result)


def test_a_count_may_be_a_numpy_integer():
    assert check("init.distinct_hidden_units", lambda *a, **k: np.int64(distinct_hidden_units(*a, **k)),
                 record=False).passed
