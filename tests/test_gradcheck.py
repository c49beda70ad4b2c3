"""Gradient checking: numerical gradients vs known derivatives, input restoration, relative error,
and gradcheck's exact and fast modes (including the O(1) cost of the fast mode)."""

import numpy as np
import pytest
from _backends import xp  # noqa: F401

from course.gradcheck import gradcheck, numerical_gradient, numerical_gradient_array, relative_error
from course.layers import linear_backward, linear_forward


def test_numerical_gradient_of_known_functions(xp):  # noqa: F811
    x = xp.asarray([[0.3, -1.2, 2.0], [0.5, 0.0, -0.7]])
    xn = xp.to_numpy(x).copy()
    m = xp.module
    g = numerical_gradient(lambda v: m.sum(v * v * v), x)
    np.testing.assert_allclose(xp.to_numpy(g), 3 * xn**2, rtol=1e-8, atol=1e-9)
    g2 = numerical_gradient(lambda v: m.sum(m.sin(v)), x)
    np.testing.assert_allclose(xp.to_numpy(g2), np.cos(xn), rtol=1e-8, atol=1e-10)
    np.testing.assert_array_equal(xp.to_numpy(x), xn)  # restored


def test_numerical_gradient_array_is_a_vector_jacobian_product(xp):  # noqa: F811
    rng = np.random.default_rng(0)
    x, dout = xp.asarray(rng.standard_normal((3, 2))), xp.asarray(rng.standard_normal((3, 2)))
    m = xp.module
    dx = numerical_gradient_array(lambda v: m.tanh(v) * 2.0, x, dout)
    expected = xp.to_numpy(dout) * 2 * (1 - np.tanh(xp.to_numpy(x)) ** 2)
    np.testing.assert_allclose(xp.to_numpy(dx), expected, rtol=1e-8)


def test_input_restored_after_exception_in_f():
    x = np.array([1.0, 2.0, 3.0])
    calls = []

    def f(v):
        calls.append(v.copy())
        if len(calls) == 3:
            raise RuntimeError("boom")
        return float(v.sum())

    with pytest.raises(RuntimeError, match="boom"):
        numerical_gradient(f, x)
    np.testing.assert_array_equal(x, [1.0, 2.0, 3.0])
    assert calls[0][0] == pytest.approx(1.0 + 1e-5)  # perturbed in place, one element at a time


def test_relative_error_definition():
    a, b = np.array([1.0, 0.0, 2.0]), np.array([1.1, 0.0, 2.0])
    assert relative_error(a, b) == pytest.approx(0.1 / 2.1)
    assert relative_error(np.zeros(3), np.full(3, 1e-9)) == pytest.approx(1e-9 / 1e-8)
    assert relative_error(np.zeros(0), np.zeros(0)) == 0.0
    with pytest.raises(ValueError, match="a and b must have the same shape"):
        relative_error(np.ones(3), np.ones(4))


def _linear_problem(seed=0, N=4, D=6, M=3):
    rng = np.random.default_rng(seed)
    x, W, b = rng.standard_normal((N, D)), rng.standard_normal((D, M)), rng.standard_normal(M)
    dout = rng.standard_normal((N, M))
    _, cache = linear_forward(x, W, b)
    dx, dW, db = linear_backward(dout, cache)
    return {"x": x, "W": W, "b": b}, {"x": dx, "W": dW, "b": db}, dout


@pytest.mark.parametrize("mode", ["exact", "fast"])
def test_gradcheck_passes_correct_gradients(mode):
    inputs, grads, dout = _linear_problem()
    report = gradcheck(lambda x, W, b: linear_forward(x, W, b)[0], inputs, grads, dout=dout, mode=mode)
    assert report.passed and bool(report)
    assert max(report.errors.values()) < 1e-8
    assert "PASSED" in str(report)


def test_gradcheck_exact_names_worst_input_and_index():
    inputs, grads, dout = _linear_problem()
    grads["W"] = grads["W"].copy()
    grads["W"][4, 1] += 0.5
    report = gradcheck(lambda x, W, b: linear_forward(x, W, b)[0], inputs, grads, dout=dout)
    assert not report.passed
    assert report.worst[:2] == ("W", (4, 1))
    assert "worst: W at (4, 1)" in str(report)


def test_gradcheck_fast_finds_a_wrong_gradient_with_constant_cost():
    inputs, grads, dout = _linear_problem(N=50, D=40, M=30)
    grads["b"] = grads["b"] * 0.5  # e.g. a forgotten factor
    report = gradcheck(lambda x, W, b: linear_forward(x, W, b)[0], inputs, grads, dout=dout, mode="fast")
    assert not report.passed and report.worst[0] == "b"
    assert report.evaluations == 3 * 2 * 3  # 3 inputs x 3 directions x 2 evaluations, whatever the size
    exact = gradcheck(lambda x, W, b: linear_forward(x, W, b)[0], inputs, grads, dout=dout)
    assert exact.evaluations == 2 * (50 * 40 + 40 * 30 + 30)


def test_gradcheck_bad_arguments():
    inputs, grads, dout = _linear_problem()
    del grads["b"]
    with pytest.raises(ValueError, match="grads must have the same names as inputs"):
        gradcheck(lambda x, W, b: x, inputs, grads)
    with pytest.raises(ValueError, match="mode must be 'exact' or 'fast'"):
        gradcheck(lambda x: x, {"x": np.ones(2)}, {"x": np.ones(2)}, mode="quick")
