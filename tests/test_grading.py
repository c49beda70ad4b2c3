"""course.grader.grading: check = cases + run + compare in the learner's process; results go to
the subscribers (progress among them), never breaking a check."""

from __future__ import annotations

import pytest

from course.grader import check, get, grading
from course.grader.cases import cases
from course.layers import relu_forward


def test_subscribers_hear_every_recorded_result(monkeypatch):
    heard = []
    monkeypatch.setattr(grading, "SUBSCRIBERS", [heard.append])
    check("layers.relu_forward", relu_forward)
    check("layers.relu_forward", relu_forward, record=False)
    assert [r.exercise_id for r in heard] == ["layers.relu_forward"]


def test_a_broken_subscriber_never_breaks_a_check(monkeypatch):
    def broken(result):
        raise RuntimeError("disk full")

    monkeypatch.setattr(grading, "SUBSCRIBERS", [broken, "no.such.module:record"])
    assert check("layers.relu_forward", relu_forward).passed


def test_progress_is_a_subscriber_named_as_data(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_PROGRESS_FILE", str(tmp_path / "p.json"))
    monkeypatch.setattr(grading, "SUBSCRIBERS", list(grading.SUBSCRIBERS))
    check("layers.relu_forward", relu_forward)
    from course import progress

    assert progress.load()["layers.relu_forward"]["passed"] is True


def test_reference_outcomes_are_cached_per_seed_and_hidden_cases_are_not():
    ex = get("layers.relu_forward")
    a = grading.reference_outcomes(ex, 5)
    assert grading.reference_outcomes(ex, 5) is a
    other = cases(ex, 6)
    b = grading.reference_outcomes(ex, 5, other)
    assert b is not a and grading.reference_outcomes(ex, 5) is a


def test_not_a_function_is_said_plainly():
    r = check("layers.relu_forward", (1.0, None), record=False)  # relu_forward(x) called, not passed
    assert not r.passed and "without calling it" in r.message


def test_strict_mode_raises(monkeypatch):
    monkeypatch.setenv("COURSE_CHECK_STRICT", "1")
    with pytest.raises(AssertionError, match="FAILED"):
        check("layers.relu_forward", lambda x: (x, x), record=False)


def test_variants_run_only_once_a_check_fails():
    ex = get("layers.linear_backward")
    seed = 11
    check(ex.id, ex.reference, seed=seed, record=False)
    refs = grading.reference_outcomes(ex, seed, variants=False)  # the one cached list, completed in place
    assert "variants" not in refs[0].extra  # a passing check never needed them
    v = ex.variants[0]
    r = check(ex.id, v.fn, seed=seed, record=False)
    assert v.name in r.diagnosis_names
    assert set(refs[0].extra["variants"]) == {x.name for x in ex.variants}  # run once, kept with the reference
