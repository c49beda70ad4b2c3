"""Lesson 00's NumPy warm-up exercises (course/grader/topics/numpy_basics.py): the reference
functions against loop oracles, under every backend, and the grader's verdicts on typical mistakes."""

from __future__ import annotations

import numpy as np
import pytest
from _backends import xp  # noqa: F401

from course.grader import cases, get, grade_outcomes, run
from course.grader.topics.numpy_basics import add_bias, pairwise_sq_dists, standardize

IDS = ("numpy.add_bias", "numpy.standardize", "numpy.pairwise_sq_dists")


def _grade(exercise_id, fn, seed=0):
    ex = get(exercise_id)
    case_list = cases(ex, seed)
    return grade_outcomes(ex, seed, case_list, run(ex, fn, case_list))


def test_add_bias_matches_a_loop(xp):  # noqa: F811
    rng = np.random.default_rng(0)
    X, b = rng.standard_normal((4, 3)), rng.standard_normal(3)
    expected = np.array([[X[n, d] + b[d] for d in range(3)] for n in range(4)])
    got = xp.to_numpy(add_bias(xp.asarray(X), xp.asarray(b)))
    np.testing.assert_allclose(got, expected, rtol=0, atol=0)


def test_standardize_matches_hand_computation(xp):  # noqa: F811
    X = np.array([[1.0, 10.0], [3.0, 10.0], [5.0, 10.0]])  # column 0: mean 3, var 8/3; column 1 constant
    got = xp.to_numpy(standardize(xp.asarray(X), eps=1e-8))
    expected0 = (X[:, 0] - 3.0) / np.sqrt(8.0 / 3.0 + 1e-8)
    np.testing.assert_allclose(got[:, 0], expected0, rtol=1e-12)
    np.testing.assert_array_equal(got[:, 1], 0.0)  # constant column: 0 / sqrt(eps), no NaN


def test_standardize_gives_mean_0_std_1():
    X = np.random.default_rng(1).normal(5.0, 3.0, (50, 4))
    out = standardize(X)
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(out.std(axis=0), 1.0, rtol=1e-6)


def test_pairwise_sq_dists_matches_a_double_loop(xp):  # noqa: F811
    rng = np.random.default_rng(2)
    A, B = rng.standard_normal((5, 3)), rng.standard_normal((2, 3))
    expected = np.array([[np.sum((A[i] - B[j]) ** 2) for j in range(2)] for i in range(5)])
    got = xp.to_numpy(pairwise_sq_dists(xp.asarray(A), xp.asarray(B)))
    assert got.shape == (5, 2)
    np.testing.assert_allclose(got, expected, rtol=1e-12)


@pytest.mark.parametrize("exercise_id", IDS)
@pytest.mark.parametrize("seed", [0, 1, 7])
def test_reference_gets_full_marks(exercise_id, seed):
    result = _grade(exercise_id, get(exercise_id).reference, seed)
    assert result.passed, str(result)
    assert get(exercise_id).lesson == "00_getting_started"


@pytest.mark.parametrize("exercise_id", IDS)
def test_cases_include_a_single_example(exercise_id):
    notes = [c.note for c in cases(exercise_id, 0)]
    assert any("N = 1" in note for note in notes), notes


def test_expansion_formula_passes_pairwise():
    def expanded(A, B):
        return (A * A).sum(1)[:, None] - 2.0 * A @ B.T + (B * B).sum(1)[None, :]

    assert _grade("numpy.pairwise_sq_dists", expanded).passed


def test_add_bias_in_place_is_named():
    def in_place(X, b):
        X += b
        return X

    result = _grade("numpy.add_bias", in_place)
    assert not result.passed and "mutated" in result.diagnosis_names


def test_standardize_mistakes_are_named():
    def no_eps(X, eps=1e-8):
        return (X - X.mean(axis=0)) / X.std(axis=0)

    def rows(X, eps=1e-8):
        return (X - X.mean(axis=1, keepdims=True)) / np.sqrt(X.var(axis=1, keepdims=True) + eps)

    result = _grade("numpy.standardize", no_eps)
    assert not result.passed and "no_eps" in result.diagnosis_names
    assert result.n_passed == 2  # only the N = 1 and constant-column cases fail
    assert "rows_not_columns" in _grade("numpy.standardize", rows).diagnosis_names


def test_pairwise_distances_not_squared_is_named():
    def not_squared(A, B):
        return np.sqrt(np.sum((A[:, None, :] - B[None, :, :]) ** 2, axis=-1))

    result = _grade("numpy.pairwise_sq_dists", not_squared)
    assert not result.passed and "not_squared" in result.diagnosis_names


def test_stub_is_not_attempted():
    def stub(A, B):
        raise NotImplementedError("write your solution here")

    assert _grade("numpy.pairwise_sq_dists", stub).status == "not_attempted"


# ---------------------------------------------------------------------------------------------
# Lesson 01's loss values


@pytest.mark.parametrize("exercise_id", ["forward.mse_loss", "forward.cross_entropy_loss"])
@pytest.mark.parametrize("seed", [0, 3])
def test_loss_value_references_get_full_marks(exercise_id, seed):
    assert _grade(exercise_id, get(exercise_id).reference, seed).passed
    assert get(exercise_id).lesson == "01_forward_pass"


def test_mse_value_by_hand():
    pred, target = np.array([2.5, 0.0, 2.0]), np.array([3.0, -0.5, 2.0])
    assert get("forward.mse_loss").reference(pred, target) == pytest.approx(0.5 / 3.0, rel=1e-12)


def test_cross_entropy_value_by_hand():
    logits = np.array([[2.0, 1.0, 0.1], [0.0, 0.0, 0.0]])
    p0 = np.exp(2.0) / (np.exp(2.0) + np.exp(1.0) + np.exp(0.1))
    expected = -(np.log(p0) + np.log(1.0 / 3.0)) / 2.0
    assert get("forward.cross_entropy_loss").reference(logits, np.array([0, 2])) == pytest.approx(expected, rel=1e-12)


def test_cross_entropy_naive_log_of_softmax_fails_on_large_scores():
    def naive(logits, y):
        p = np.exp(logits)
        p = p / p.sum(axis=1, keepdims=True)
        return float(-np.mean(np.log(p[np.arange(len(y)), y])))

    result = _grade("forward.cross_entropy_loss", naive)
    assert not result.passed and "nan" in result.diagnosis_names
    assert result.n_passed == len(result.cases) - 1  # only the large-scores case


def test_mse_value_sum_instead_of_mean_is_named():
    result = _grade("forward.mse_loss", lambda pred, target: float(np.sum((pred - target) ** 2)))
    assert "factor" in result.diagnosis_names
