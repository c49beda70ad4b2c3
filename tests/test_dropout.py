"""Inverted dropout: p is the DROP probability; expectation kept; backward uses the same mask."""

import math

import array_api_strict as xs
import numpy as np
import pytest

from course.gradcheck import numerical_gradient_array, relative_error
from course.layers import dropout_backward, dropout_forward

SHAPE = (200, 500)  # n = 100_000 units for the statistical tests


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_expectation_and_drop_fraction(p):
    """Fixed seed; tolerance 5 standard errors of each sample mean.

    For x = 1 each output is 0 (probability p) or 1 / (1 - p): mean 1, variance p / (1 - p).
    The dropped fraction has standard error sqrt(p (1 - p) / n).
    """
    n = math.prod(SHAPE)
    x = np.ones(SHAPE)
    out, mask = dropout_forward(x, p, train=True, rng=0)
    assert abs(float(out.mean()) - 1.0) < 5 * math.sqrt(p / (1 - p) / n)
    dropped = float(np.mean(out == 0))
    assert abs(dropped - p) < 5 * math.sqrt(p * (1 - p) / n)  # p is the DROP probability


def test_expectation_for_general_input():
    rng = np.random.default_rng(1)
    x = rng.standard_normal(SHAPE) + 3.0
    p = 0.3
    outs = [dropout_forward(x, p, rng=seed)[0] for seed in range(20)]
    mean_out = np.mean(outs, axis=0)
    # per-unit mean of 20 draws: error sd = |x| sqrt(p / (1 - p) / 20); check the average error
    err = (mean_out - x) / (np.abs(x) * math.sqrt(p / (1 - p) / 20))
    assert abs(float(err.mean())) < 5 / math.sqrt(x.size)
    assert float(err.std()) == pytest.approx(1.0, rel=0.02)


def test_kept_values_are_scaled_and_dropped_are_zero():
    x = np.random.default_rng(2).standard_normal((30, 40))
    p = 0.25
    out, mask = dropout_forward(x, p, rng=3)
    kept = mask != 0
    np.testing.assert_allclose(out[kept], x[kept] / (1 - p), rtol=1e-15)
    assert np.all(out[~kept] == 0)
    np.testing.assert_allclose(mask[kept], 1 / (1 - p), rtol=1e-15)


def test_scaling_convention_matches_torch():
    torch = pytest.importorskip("torch")
    p = 0.25
    theirs = torch.nn.functional.dropout(torch.ones(1000, dtype=torch.float64), p=p, training=True)
    ours, _ = dropout_forward(np.ones(1000), p, rng=0)
    # same kept value 1 / (1 - p): both use p as the drop probability and inverted scaling
    assert set(np.unique(ours)) == set(np.unique(theirs.numpy())) == {0.0, 1 / (1 - p)}


def test_backward_uses_the_forward_mask_finite_differences():
    rng = np.random.default_rng(4)
    x, dout = rng.standard_normal((6, 7)), rng.standard_normal((6, 7))
    p = 0.4
    out, cache = dropout_forward(x, p, rng=5)
    dx = dropout_backward(dout, cache)
    np.testing.assert_array_equal(dx == 0, out == 0)
    # a fixed seed makes the forward a fixed linear function of x
    num = numerical_gradient_array(lambda v: dropout_forward(v, p, rng=5)[0], x, dout)
    assert relative_error(dx, num) < 1e-9


def test_eval_mode_and_p_zero_are_identity():
    x = np.random.default_rng(6).standard_normal((4, 5))
    dout = np.ones((4, 5))
    for p, train in [(0.5, False), (0.0, True), (1.0, False)]:
        out, cache = dropout_forward(x, p, train=train, rng=0)
        assert out is x and cache is None
        np.testing.assert_array_equal(dropout_backward(dout, cache), dout)


def test_p_one_drops_everything_without_dividing_by_zero():
    x = np.ones((3, 4))
    out, cache = dropout_forward(x, 1.0, rng=0)  # RuntimeWarnings are errors in this suite
    assert np.all(out == 0) and np.all(np.isfinite(cache))
    assert np.all(dropout_backward(np.ones((3, 4)), cache) == 0)


def test_randomness_reproducible_and_not_global():
    x = np.ones((10, 10))
    a, _ = dropout_forward(x, 0.5, rng=7)
    b, _ = dropout_forward(x, 0.5, rng=7)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, dropout_forward(x, 0.5, rng=8)[0])
    gen = np.random.default_rng(7)
    np.testing.assert_array_equal(dropout_forward(x, 0.5, rng=gen)[0], a)
    assert not np.array_equal(dropout_forward(x, 0.5, rng=gen)[0], a)  # the Generator advanced
    np.random.seed(0)
    state = np.random.get_state()[1].copy()
    dropout_forward(x, 0.5, rng=None)
    np.testing.assert_array_equal(np.random.get_state()[1], state)


def test_float32_and_array_api_strict():
    x32 = np.ones((5, 6), dtype=np.float32)
    out, mask = dropout_forward(x32, 0.5, rng=0)
    assert out.dtype == np.float32 and mask.dtype == np.float32
    sx = xs.ones((5, 6), dtype=xs.float64)
    out, mask = dropout_forward(sx, 0.5, rng=0)
    assert isinstance(out, type(sx))
    np.testing.assert_array_equal(np.asarray(out), dropout_forward(np.ones((5, 6)), 0.5, rng=0)[0])
    dx = dropout_backward(xs.ones((5, 6), dtype=xs.float64), mask)
    np.testing.assert_array_equal(np.asarray(dx), np.asarray(mask))


@pytest.mark.parametrize("p", [-0.1, 1.5, True, "0.5", None, float("nan")])
def test_bad_p(p):
    with pytest.raises(ValueError, match="DROPPING"):
        dropout_forward(np.ones(3), p)


def test_bad_input():
    with pytest.raises(TypeError, match="train must be True or False"):
        dropout_forward(np.ones(3), 0.5, train="yes")
    with pytest.raises(TypeError, match="rng must be"):
        dropout_forward(np.ones(3), 0.5, rng=np.random.RandomState(0))
    _, mask = dropout_forward(np.ones((2, 3)), 0.5, rng=0)
    with pytest.raises(ValueError, match="dout and the forward's input x must have the same shape"):
        dropout_backward(np.ones((3, 2)), mask)
