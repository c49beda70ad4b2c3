"""course.grader.cases: cases are plain data from a seed; the copy/compare/resolve helpers."""

from __future__ import annotations

import numpy as np
import pytest

from course.grader import cases as cases_by_id
from course.grader import get
from course.grader.cases import (
    FUNCTIONS,
    Case,
    FnRef,
    away_from_zero,
    cases,
    copy_data,
    randn,
    resolve,
    rng_for,
    same_data,
    sizes,
)


def test_same_seed_same_cases_other_seed_other_values():
    ex = get("layers.relu_forward")
    a, b, c = cases(ex, 0), cases(ex, 0), cases(ex, 1)
    assert all(same_data(x.args, y.args) for x, y in zip(a, b))
    assert not all(same_data(x.args, y.args) for x, y in zip(a, c))


def test_cases_by_id_and_by_exercise_agree():
    ex = get("layers.linear_forward")
    assert all(same_data(x.args, y.args) for x, y in zip(cases_by_id(ex.id, 3), cases(ex, 3)))


def test_cases_module_takes_exercises_not_ids():
    with pytest.raises(TypeError, match="course.grader.cases"):
        cases("layers.relu_forward", 0)


def test_an_empty_generator_is_an_error():
    class Ex:
        id = "demo.empty"

        @staticmethod
        def make_cases(rng):
            return []

    with pytest.raises(ValueError, match="demo.empty"):
        cases(Ex(), 0)


def test_rng_for_depends_on_id_and_seed():
    x = rng_for("a.b", 0).standard_normal(3)
    assert np.array_equal(x, rng_for("a.b", 0).standard_normal(3))
    assert not np.array_equal(x, rng_for("a.c", 0).standard_normal(3))
    assert not np.array_equal(x, rng_for("a.b", 1).standard_normal(3))


def test_helpers_shapes_and_ranges():
    rng = np.random.default_rng(0)
    assert randn(rng, 2, 3, scale=5.0).shape == (2, 3)
    assert np.all(np.abs(away_from_zero(rng, 50, 4, low=0.2)) >= 0.2)
    s = sizes(rng, 4, 2, 7)
    assert len(set(s)) == 4 and all(2 <= v <= 7 for v in s)
    with pytest.raises(ValueError, match="distinct sizes"):
        sizes(rng, 5, 2, 4)


def test_copy_data_is_deep_and_same_data_is_exact():
    data = (np.ones(3), [np.zeros(2), {"k": np.arange(3)}], 1.5)
    copy = copy_data(data)
    copy[1][1]["k"][0] = 7
    assert not same_data(copy, data) and data[1][1]["k"][0] == 0
    assert same_data(copy_data(data), data)
    assert same_data(float("nan"), float("nan"))
    assert same_data(np.array([np.nan]), np.array([np.nan]))
    assert not same_data(np.ones(2), np.ones(2, dtype=np.float32))  # dtype counts
    assert not same_data((1, 2), [1, 2])  # so does the container


def test_fnref_is_data_until_resolved():
    ref = FnRef("matmul", (("A", ((1.0, 0.0), (0.0, 2.0))),))
    case = Case(args=(ref, np.ones(2)))
    assert repr(ref) == "<function matmul>" and same_data(case.args[0], ref)
    f, x = resolve(case.args)
    np.testing.assert_allclose(f(x), [1.0, 2.0])
    assert set(FUNCTIONS) >= {"sum_squares", "tanh", "matmul"}
