"""Linear layer and activations: finite differences, hand-computed cases, stability, bad input,
under every backend (NumPy, the strict Array-API stand-in, and CuPy where a GPU is present)."""

import numpy as np
import pytest
from _backends import xp  # noqa: F401
from _exercises import elementwise_layers

from course.gradcheck import numerical_gradient_array, relative_error
from course.layers import (
    leaky_relu_forward,
    linear_backward,
    linear_forward,
    log_softmax,
    relu_backward,
    relu_forward,
    sigmoid_backward,
    sigmoid_forward,
    softmax,
    tanh_backward,
    tanh_forward,
)

SHAPES = [(1, 3, 2), (4, 5, 3), (3, 2, 7), (6, 4, 4)]  # (N, D, M): N=1, non-square, square


def _rng(*key):
    return np.random.default_rng(list(key) + [7])


@pytest.mark.parametrize("N,D,M", SHAPES)
def test_linear_backward_matches_finite_differences(xp, N, D, M):  # noqa: F811
    rng = _rng(N, D, M)
    x, W, b = (xp.asarray(rng.standard_normal(s)) for s in [(N, D), (D, M), (M,)])
    dout = xp.asarray(rng.standard_normal((N, M)))
    out, cache = linear_forward(x, W, b)
    assert xp.is_native(out) and out.shape == (N, M)
    dx, dW, db = linear_backward(dout, cache)
    assert xp.is_native(dx) and xp.is_native(dW) and xp.is_native(db)
    assert relative_error(dx, numerical_gradient_array(lambda v: linear_forward(v, W, b)[0], x, dout)) < 1e-7
    assert relative_error(dW, numerical_gradient_array(lambda v: linear_forward(x, v, b)[0], W, dout)) < 1e-7
    assert relative_error(db, numerical_gradient_array(lambda v: linear_forward(x, W, v)[0], b, dout)) < 1e-7


def test_linear_flattens_extra_dimensions(xp):  # noqa: F811
    rng = _rng(1)
    x = xp.asarray(rng.standard_normal((2, 3, 4)))
    W, b = xp.asarray(rng.standard_normal((12, 5))), xp.asarray(rng.standard_normal(5))
    out, cache = linear_forward(x, W, b)
    expected = xp.to_numpy(x).reshape(2, 12) @ xp.to_numpy(W) + xp.to_numpy(b)
    np.testing.assert_allclose(xp.to_numpy(out), expected, rtol=1e-12)
    dout = xp.asarray(rng.standard_normal((2, 5)))
    dx, dW, db = linear_backward(dout, cache)
    assert dx.shape == (2, 3, 4)
    assert relative_error(dx, numerical_gradient_array(lambda v: linear_forward(v, W, b)[0], x, dout)) < 1e-7


def test_linear_hand_computed():
    x = np.array([[1.0, 2.0]])
    W = np.array([[1.0, 0.0, -1.0], [0.5, 2.0, 1.0]])
    b = np.array([0.1, 0.2, 0.3])
    out, cache = linear_forward(x, W, b)
    np.testing.assert_allclose(out, [[2.1, 4.2, 1.3]])
    dx, dW, db = linear_backward(np.array([[1.0, -1.0, 2.0]]), cache)
    np.testing.assert_allclose(dx, [[1 * 1 + 0 * -1 + -1 * 2, 0.5 - 2 + 2]])
    np.testing.assert_allclose(dW, [[1, -1, 2], [2, -2, 4]])
    np.testing.assert_allclose(db, [1, -1, 2])


ACTIVATIONS = elementwise_layers()  # from the registry: relu, leaky_relu, sigmoid, tanh, ...


def test_the_activations_come_from_the_registry():
    assert {"relu", "leaky_relu", "sigmoid", "tanh"} <= set(ACTIVATIONS)


@pytest.mark.parametrize("name", ACTIVATIONS)
@pytest.mark.parametrize("shape", [(1, 1), (3, 5), (4, 2, 3)])
def test_activation_backward_matches_finite_differences(xp, name, shape):  # noqa: F811
    forward, backward = ACTIVATIONS[name]
    rng = _rng(len(shape), shape[-1])
    x = rng.standard_normal(shape)
    x = xp.asarray(np.where(np.abs(x) < 1e-3, 0.5, x))  # keep away from the kink at 0
    dout = xp.asarray(rng.standard_normal(shape))
    out, cache = forward(x)
    assert xp.is_native(out) and out.shape == shape
    dx = backward(dout, cache)
    assert xp.is_native(dx)
    assert relative_error(dx, numerical_gradient_array(lambda v: forward(v)[0], x, dout)) < 1e-7


def test_activation_values_hand_computed():
    x = np.array([-2.0, -0.5, 0.0, 0.5, 2.0])
    np.testing.assert_array_equal(relu_forward(x)[0], [0, 0, 0, 0.5, 2])
    np.testing.assert_allclose(leaky_relu_forward(x)[0], [-0.02, -0.005, 0, 0.5, 2])
    np.testing.assert_allclose(leaky_relu_forward(x, negative_slope=0.2)[0], [-0.4, -0.1, 0, 0.5, 2])
    np.testing.assert_allclose(sigmoid_forward(x)[0], 1 / (1 + np.exp(-x)), rtol=1e-15)
    np.testing.assert_allclose(tanh_forward(x)[0], np.tanh(x))
    # derivatives: relu' = 1[x > 0] (0 at the kink), sigmoid'(0) = 1/4, tanh'(0) = 1
    np.testing.assert_array_equal(relu_backward(np.ones(5), relu_forward(x)[1]), [0, 0, 0, 1, 1])
    np.testing.assert_allclose(sigmoid_backward(np.ones(5), sigmoid_forward(x)[1])[2], 0.25)
    np.testing.assert_allclose(tanh_backward(np.ones(5), tanh_forward(x)[1])[2], 1.0)


def test_sigmoid_stable_for_large_inputs():
    x = np.array([-1e3, -800.0, -40.0, 0.0, 40.0, 800.0, 1e3])
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        out, cache = sigmoid_forward(x)
        dx = sigmoid_backward(np.ones_like(x), cache)
    assert np.all(np.isfinite(out)) and np.all(np.isfinite(dx))
    assert out[0] == 0.0 and out[-1] == 1.0
    np.testing.assert_allclose(out[2], np.exp(-40.0) / (1 + np.exp(-40.0)), rtol=1e-12)


def test_softmax_and_log_softmax_hand_computed(xp):  # noqa: F811
    x = xp.asarray([[0.0, np.log(2.0), np.log(3.0)], [1.0, 1.0, 1.0]])
    np.testing.assert_allclose(xp.to_numpy(softmax(x)), [[1 / 6, 2 / 6, 3 / 6], [1 / 3] * 3], rtol=1e-12)
    np.testing.assert_allclose(
        xp.to_numpy(log_softmax(x)), np.log([[1 / 6, 2 / 6, 3 / 6], [1 / 3] * 3]), rtol=1e-12
    )
    col = softmax(x, axis=0)
    np.testing.assert_allclose(xp.to_numpy(col).sum(axis=0), 1.0)


def test_softmax_stable_for_logits_of_magnitude_1e4(xp):  # noqa: F811
    x = xp.asarray([[1e4, 0.0, -1e4], [-1e4, -1e4 + 1.0, -1e4]])
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        p = xp.to_numpy(softmax(x))
        lp = xp.to_numpy(log_softmax(x))
    assert np.all(np.isfinite(p)) and np.all(np.isfinite(lp))
    np.testing.assert_allclose(p[0], [1, 0, 0])
    np.testing.assert_allclose(lp[0], [0, -1e4, -2e4])
    e = np.exp([-1.0, 0.0, -1.0])
    np.testing.assert_allclose(p[1], e / e.sum(), rtol=1e-12)


def test_linear_rejects_mismatched_shapes_with_named_arguments():
    x, W, b = np.ones((4, 5)), np.ones((3, 2)), np.ones(2)
    with pytest.raises(ValueError, match=r"linear_forward: W must have shape \(D, M\) = \(5, \?\).*got \(3, 2\)"):
        linear_forward(x, W, b)
    with pytest.raises(ValueError, match=r"b must have shape \(M,\) = \(2,\).*got \(3,\)"):
        linear_forward(x, np.ones((5, 2)), np.ones(3))
    with pytest.raises(ValueError, match=r"W must have shape \(D, M\) \(2-D\), got shape \(5,\)"):
        linear_forward(x, np.ones(5), b)
    _, cache = linear_forward(x, np.ones((5, 2)), b)
    with pytest.raises(ValueError, match=r"dout must have shape \(N, M\) = \(4, 2\).*got \(2, 4\)"):
        linear_backward(np.ones((2, 4)), cache)


def test_layers_reject_wrong_types():
    with pytest.raises(TypeError, match="x must be a floating-point array.*int64"):
        relu_forward(np.arange(3))
    with pytest.raises(TypeError, match="x must be an array, got NoneType"):
        sigmoid_forward(None)
    with pytest.raises(ValueError, match="dout and the forward's input x must have the same shape"):
        tanh_backward(np.ones(3), tanh_forward(np.ones(4))[1])
    out, _ = relu_forward([[1, -1]])  # plain lists of numbers are accepted as float64
    assert out.dtype == np.float64


def test_float32_stays_float32():
    rng = _rng(3)
    x = rng.standard_normal((2, 3)).astype(np.float32)
    W = rng.standard_normal((3, 4)).astype(np.float32)
    b = np.zeros(4, np.float32)
    out, cache = linear_forward(x, W, b)
    assert out.dtype == np.float32
    assert all(g.dtype == np.float32 for g in linear_backward(out, cache))
    assert sigmoid_forward(x)[0].dtype == np.float32
