"""Tests for course.averages: hand-computed EMA (with and without bias correction) and moving average."""

from __future__ import annotations

import numpy as np
import pytest

from course.averages import ema, moving_average


def test_ema_hand_computed():
    # beta = 0.5: v1 = 0.5*1 = 0.5, v2 = 0.25 + 1 = 1.25, v3 = 0.625 + 2 = 2.625
    np.testing.assert_allclose(ema([1.0, 2.0, 4.0], 0.5), [0.5, 1.25, 2.625], rtol=1e-15)


def test_ema_bias_correction_hand_computed():
    # divide by 1 - 0.5^t = 0.5, 0.75, 0.875
    np.testing.assert_allclose(ema([1.0, 2.0, 4.0], 0.5, bias_correction=True),
                               [1.0, 1.25 / 0.75, 2.625 / 0.875], rtol=1e-15)


def test_ema_of_a_constant():
    x = np.full(50, 3.0)
    t = np.arange(1, 51)
    np.testing.assert_allclose(ema(x, 0.9), 3.0 * (1 - 0.9**t), rtol=1e-12)  # biased towards 0
    np.testing.assert_allclose(ema(x, 0.9, bias_correction=True), x, rtol=1e-12)  # exact


def test_ema_matches_the_weighted_sum_form():
    # v_t = (1 - beta) * sum_k beta^(t-k) x_k
    rng = np.random.default_rng(0)
    x, beta = rng.standard_normal(20), 0.8
    expected = [(1 - beta) * sum(beta ** (t - k) * x[k] for k in range(t + 1)) for t in range(20)]
    np.testing.assert_allclose(ema(x, beta), expected, rtol=1e-12, atol=1e-14)


def test_ema_matches_adam_first_moment():
    # Adam's exp_avg is this EMA of the gradients (beta1 = 0.9)
    from course.optim import adam

    g = np.random.default_rng(1).standard_normal(10)
    state, ms = {}, []
    for gt in g:
        adam(np.zeros(1), np.array([gt]), state, lr=1e-3)
        ms.append(state["exp_avg"][0])
    np.testing.assert_allclose(ema(g, 0.9), ms, rtol=1e-12)


def test_ema_edge_cases():
    np.testing.assert_array_equal(ema([1.0, 2.0], 0.0), [1.0, 2.0])
    assert ema(np.zeros(0), 0.9).shape == (0,)
    with pytest.raises(ValueError, match="beta"):
        ema([1.0], 1.0)
    with pytest.raises(ValueError, match=r"x must have shape \(T,\)"):
        ema(np.ones((2, 2)), 0.5)


def test_moving_average_hand_computed():
    x = [1.0, 2.0, 3.0, 4.0, 5.0]
    np.testing.assert_allclose(moving_average(x, 3), [1.0, 1.5, 2.0, 3.0, 4.0], rtol=1e-15)
    np.testing.assert_array_equal(moving_average(x, 1), x)
    np.testing.assert_allclose(moving_average(x, 10), [1.0, 1.5, 2.0, 2.5, 3.0], rtol=1e-15)


def test_moving_average_errors():
    with pytest.raises(ValueError, match="window"):
        moving_average([1.0, 2.0], 0)
    with pytest.raises(ValueError, match=r"x must have shape \(T,\)"):
        moving_average(np.ones((2, 2)), 2)


def test_under_the_strict_array_api():
    xs = pytest.importorskip("array_api_strict")
    x = xs.asarray([1.0, 2.0, 4.0])
    np.testing.assert_allclose(np.asarray(ema(x, 0.5, bias_correction=True)),
                               ema(np.asarray(x), 0.5, bias_correction=True))
    np.testing.assert_allclose(np.asarray(moving_average(x, 2)), [1.0, 1.5, 3.0])
