"""Tests for course.functions: values at known points, derivatives against finite differences,
vectorisation over grids, and run_optimizer."""

from __future__ import annotations

import numpy as np
import pytest

from course import functions as F
from course.optim import adam, sgd

ALL = list(F.FUNCTIONS.values())
IDS = [f.name for f in ALL]


def _num_grad(f, w, h=1e-6):
    """Central differences of a scalar function of w (2,)."""
    g = np.zeros(2)
    for i in range(2):
        e = np.zeros(2)
        e[i] = h
        g[i] = (float(f(w + e)) - float(f(w - e))) / (2 * h)
    return g


def _num_hessian(grad, w, h=1e-6):
    """Central differences of the gradient: column j is d grad / d w_j."""
    H = np.zeros((2, 2))
    for j in range(2):
        e = np.zeros(2)
        e[j] = h
        H[:, j] = (grad(w + e) - grad(w - e)) / (2 * h)
    return H


def _points(fn, n=6, seed=0):
    rng = np.random.default_rng(seed)
    (x0, x1), (y0, y1) = fn.bounds
    # stay a little inside the window (Beale grows like y^6 at its edges)
    return np.stack([rng.uniform(x0, x1, n), rng.uniform(y0, y1, n) * (0.5 if fn is F.beale else 1)],
                    axis=1)


def test_registry():
    assert set(F.FUNCTIONS) == {"quadratic", "rosenbrock", "beale", "saddle"}
    for name, fn in F.FUNCTIONS.items():
        assert fn.name == name and fn.formula.startswith("$")
        (x0, x1), (y0, y1) = fn.bounds
        assert x0 < fn.w0[0] < x1 and y0 < fn.w0[1] < y1
        if fn.minimum is not None:
            assert x0 < fn.minimum[0] < x1 and y0 < fn.minimum[1] < y1


def test_known_values():
    assert float(F.quadratic.value(np.array([1.0, 1.0]))) == 5.5
    assert float(F.rosenbrock.value(np.array([-1.2, 1.0]))) == pytest.approx(24.2)
    assert float(F.rosenbrock.value(np.array([0.0, 0.0]))) == 1.0
    # Beale at (0, 0): 1.5^2 + 2.25^2 + 2.625^2
    assert float(F.beale.value(np.array([0.0, 0.0]))) == pytest.approx(2.25 + 5.0625 + 6.890625)
    assert float(F.saddle.value(np.array([2.0, 3.0]))) == -5.0


@pytest.mark.parametrize("fn", [f for f in ALL if f.minimum is not None],
                         ids=[f.name for f in ALL if f.minimum is not None])
def test_minimum_has_zero_gradient_and_positive_definite_hessian(fn):
    w = np.array(fn.minimum)
    assert float(fn.value(w)) == pytest.approx(0.0, abs=1e-14)
    np.testing.assert_allclose(fn.grad(w), [0.0, 0.0], atol=1e-12)
    assert np.all(np.linalg.eigvalsh(fn.hessian(w)) > 0)


def test_saddle_is_a_saddle():
    w = np.zeros(2)
    np.testing.assert_array_equal(F.saddle.grad(w), [0.0, 0.0])
    eig = np.linalg.eigvalsh(F.saddle.hessian(w))
    assert eig.min() < 0 < eig.max()
    assert F.saddle.minimum is None


@pytest.mark.parametrize("fn", ALL, ids=IDS)
def test_gradient_matches_finite_differences(fn):
    for w in _points(fn):
        num = _num_grad(fn.value, w)
        np.testing.assert_allclose(fn.grad(w), num, rtol=1e-6, atol=1e-6 * max(1.0, np.abs(num).max()))


@pytest.mark.parametrize("fn", ALL, ids=IDS)
def test_hessian_matches_finite_differences(fn):
    for w in _points(fn):
        H = fn.hessian(w)
        num = _num_hessian(fn.grad, w)
        np.testing.assert_allclose(H, num, rtol=1e-6, atol=1e-6 * max(1.0, np.abs(num).max()))
        np.testing.assert_array_equal(H, H.T)


@pytest.mark.parametrize("fn", ALL, ids=IDS)
def test_vectorised_over_a_grid(fn):
    X, Y = np.meshgrid(np.linspace(-1, 1, 4), np.linspace(-0.5, 1.5, 3))
    W = np.stack([X, Y])  # (2, 3, 4)
    V, G, H = fn.value(W), fn.grad(W), fn.hessian(W)
    assert V.shape == (3, 4) and G.shape == (2, 3, 4) and H.shape == (2, 2, 3, 4)
    for i in range(3):
        for j in range(4):
            w = np.array([X[i, j], Y[i, j]])
            assert V[i, j] == pytest.approx(float(fn.value(w)), rel=1e-14)
            np.testing.assert_allclose(G[:, i, j], fn.grad(w), rtol=1e-14)
            np.testing.assert_allclose(H[:, :, i, j], fn.hessian(w), rtol=1e-14)


def test_single_point_shapes_and_list_input():
    assert F.rosenbrock.value([1.0, 2.0]).shape == ()
    assert F.rosenbrock.grad([1.0, 2.0]).shape == (2,)
    assert F.rosenbrock.hessian([1.0, 2.0]).shape == (2, 2)
    with pytest.raises(ValueError, match=r"w must have shape \(2,\)"):
        F.rosenbrock.value(np.zeros(3))


def test_make_quadratic_condition_number():
    q = F.make_quadratic(100.0)
    H = q.hessian(np.array([0.3, -0.2]))
    assert np.linalg.cond(H) == pytest.approx(100.0)
    assert float(q.value(np.array([0.0, 1.0]))) == 50.0
    with pytest.raises(ValueError, match="condition"):
        F.make_quadratic(-1.0)


def test_grid_for_contour_plots():
    X, Y, Z = F.rosenbrock.grid(n=11)
    assert X.shape == Y.shape == Z.shape == (11, 11)
    assert X[0, 0] == -2.0 and Y[-1, -1] == 3.0
    assert Z[5, 7] == pytest.approx(float(F.rosenbrock.value(np.array([X[5, 7], Y[5, 7]]))))


# ---------------------------------------------------------------------------------------------
# run_optimizer
# ---------------------------------------------------------------------------------------------


def test_run_optimizer_gradient_descent_on_the_quadratic_by_hand():
    # f = 0.5 (x^2 + 10 y^2), lr = 0.1: x *= 0.9 and y *= 0 each step
    path = F.run_optimizer(lambda w, g: sgd(w, g, {}, lr=0.1), np.array([1.0, 1.0]), 3, grad=F.quadratic)
    np.testing.assert_allclose(path, [[1, 1], [0.9, 0], [0.81, 0], [0.729, 0]], atol=1e-15)


def test_run_optimizer_step_fn_may_return_a_new_array_or_use_a_closure():
    w0 = np.array([1.0, 1.0])
    in_place = F.run_optimizer(lambda w, g: sgd(w, g, {}, lr=0.1), w0, 5, grad=F.quadratic.grad)
    returned = F.run_optimizer(lambda w, g: w - 0.1 * g, w0, 5, grad=F.quadratic)
    closure = F.run_optimizer(lambda w: w - 0.1 * F.quadratic.grad(w), w0, 5)
    np.testing.assert_allclose(returned, in_place, rtol=1e-15)
    np.testing.assert_allclose(closure, in_place, rtol=1e-15)
    np.testing.assert_array_equal(w0, [1.0, 1.0])  # the start is never modified
    assert in_place.shape == (6, 2)


def test_run_optimizer_rows_are_snapshots():
    state = {}
    path = F.run_optimizer(lambda w, g: adam(w, g, state, lr=0.1), F.beale.w0, 4, grad=F.beale)
    assert len({tuple(row) for row in path}) == 5  # every row differs: not views of one array
    np.testing.assert_array_equal(path[0], F.beale.w0)


def test_saddle_escape_is_slow_then_fast():
    # gradient descent from near the x axis: x shrinks towards the saddle while y grows
    path = F.run_optimizer(lambda w, g: sgd(w, g, {}, lr=0.1), F.saddle.w0, 20, grad=F.saddle)
    assert abs(path[10, 0]) < 0.2 and abs(path[10, 1]) < 0.01 and abs(path[20, 1]) > 0.03


def test_run_optimizer_argument_errors():
    with pytest.raises(TypeError, match="step_fn"):
        F.run_optimizer(None, [0.0, 0.0], 3)
    with pytest.raises(ValueError, match="n_steps"):
        F.run_optimizer(lambda w: w, [0.0, 0.0], -1)
    with pytest.raises(TypeError, match="grad"):
        F.run_optimizer(lambda w, g: w, [0.0, 0.0], 1, grad=3)
