"""course.quasi_newton: Hessian-vector products, line searches, BFGS, the two-loop recursion
(against torch.optim.LBFGS's own iterates) and the minimiser."""

import numpy as np
import pytest

from course.functions import beale, make_quadratic, rosenbrock
from course.quasi_newton import armijo, bfgs_update, hessian_vector_product, minimize, two_loop, wolfe


def _fg(obj):
    return lambda w: (float(obj.value(w)), obj.grad(w))


@pytest.mark.parametrize("obj, w", [(rosenbrock, (0.3, 0.2)), (beale, (1.0, 0.8)), (rosenbrock, (-1.2, 1.0))])
def test_hessian_vector_product_matches_the_hessian(obj, w):
    w, v = np.array(w), np.array([0.7, -1.3])
    np.testing.assert_allclose(hessian_vector_product(obj.grad, w, v), obj.hessian(w) @ v, rtol=1e-8, atol=1e-6)


def test_hessian_vector_product_is_exact_on_a_quadratic_and_linear_in_v():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((5, 5))
    A = A @ A.T
    grad = lambda w: A @ w  # noqa: E731
    w, v = rng.standard_normal(5), rng.standard_normal(5)
    np.testing.assert_allclose(hessian_vector_product(grad, w, v), A @ v, rtol=1e-9)
    np.testing.assert_allclose(hessian_vector_product(grad, w, 3 * v), 3 * (A @ v), rtol=1e-9)


def _lbfgs_iterates(torch, history, iters):
    w = torch.tensor([-1.2, 1.0], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([w], lr=1, max_iter=iters, history_size=history, tolerance_grad=0,
                            tolerance_change=0, line_search_fn=None)
    seen = []

    def closure():
        opt.zero_grad()
        seen.append(w.detach().numpy().copy())
        loss = (1 - w[0]) ** 2 + 100 * (w[1] - w[0] ** 2) ** 2
        loss.backward()
        return loss

    opt.step(closure)
    return np.array(seen)


@pytest.mark.torch
@pytest.mark.parametrize("history", [1, 3, 10])
def test_two_loop_gives_torch_lbfgs_steps(history):
    """Every step of torch.optim.LBFGS (unit steps, no line search) after the first is -two_loop(g, S, Y)
    with the pairs it keeps: those with s.y > 1e-10, the last `history` of them."""
    torch = pytest.importorskip("torch")
    W = _lbfgs_iterates(torch, history, 25)
    G = np.array([rosenbrock.grad(w) for w in W])
    S, Y = [], []
    assert len(W) == 25
    for k in range(1, len(W) - 1):
        s, y = W[k] - W[k - 1], G[k] - G[k - 1]
        if s @ y > 1e-10:
            S, Y = (S + [s])[-history:], (Y + [y])[-history:]
        np.testing.assert_allclose(W[k + 1] - W[k], -two_loop(G[k], np.array(S), np.array(Y)), rtol=1e-9, atol=1e-12)


def test_two_loop_equals_repeated_bfgs_updates():
    rng = np.random.default_rng(1)
    D, m = 6, 4
    A = rng.standard_normal((D, D))
    A = A @ A.T + D * np.eye(D)
    S = rng.standard_normal((m, D))
    Y = S @ A  # y = A s: s.y > 0
    H = (S[-1] @ Y[-1]) / (Y[-1] @ Y[-1]) * np.eye(D)
    for s, y in zip(S, Y):
        H = bfgs_update(H, s, y)
    g = rng.standard_normal(D)
    np.testing.assert_allclose(two_loop(g, S, Y), H @ g, rtol=1e-10)
    np.testing.assert_allclose(H @ Y[-1], S[-1], rtol=1e-10)  # the secant equation
    s, y, B = S[0], Y[0], np.eye(D) + 0.1 * (A / D)
    V = np.eye(D) - np.outer(s, y) / (y @ s)  # the textbook product form
    np.testing.assert_allclose(bfgs_update(B, s, y), V @ B @ V.T + np.outer(s, s) / (y @ s), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(two_loop(g, np.zeros((0, D)), np.zeros((0, D))), g)


def test_armijo_backtracks_to_the_first_sufficient_decrease():
    f = lambda w: float(w @ w)  # noqa: E731
    w = np.array([1.0, 0.0])
    g = 2 * w
    # along p = -g: f(w + t p) = (1 - 2t)^2; t = 1 gives 1 (no decrease), t = 0.5 gives 0
    assert armijo(f, w, g, -g) == 0.5
    assert armijo(f, w, g, -g, t0=0.5) == 0.5
    assert armijo(f, w, g, -10 * g, beta=0.1) == pytest.approx(0.01)
    with pytest.raises(ValueError, match="not a descent direction"):
        armijo(f, w, g, g)


def test_wolfe_step_satisfies_both_conditions():
    fg = _fg(rosenbrock)
    w = np.array([-1.2, 1.0])
    f0, g0 = fg(w)
    p = -g0
    t, f1, g1, n = wolfe(fg, w, f0, g0, p)
    assert f1 <= f0 + 1e-4 * t * (g0 @ p) and g1 @ p >= 0.9 * (g0 @ p) and n >= 1


@pytest.mark.parametrize("method", ["newton", "bfgs", "lbfgs"])
@pytest.mark.parametrize("line_search", ["wolfe", "armijo"])
def test_minimize_reaches_the_rosenbrock_minimum(method, line_search):
    w, trace = minimize(_fg(rosenbrock), rosenbrock.w0, method=method, line_search=line_search,
                        hessian=rosenbrock.hessian, max_iter=200)
    assert trace["converged"]
    np.testing.assert_allclose(w, [1.0, 1.0], atol=1e-6)
    assert trace["w"].shape == (trace["n_iter"] + 1, 2) and trace["n_evals"] >= trace["n_iter"]
    assert trace["time"].shape == trace["f"].shape and np.all(np.diff(trace["time"]) >= 0)


def test_newton_solves_a_quadratic_in_one_step_and_is_drawn_to_a_saddle():
    q = make_quadratic(100.0)
    w, trace = minimize(_fg(q), q.w0, method="newton", line_search=None, hessian=q.hessian)
    assert trace["n_iter"] == 1 and trace["converged"]
    saddle_fg = lambda w: (float(w[0] ** 2 - w[1] ** 2), np.array([2 * w[0], -2 * w[1]]))  # noqa: E731
    w, trace = minimize(saddle_fg, [0.5, 0.3], method="newton", line_search=None,
                        hessian=lambda w: np.diag([2.0, -2.0]))
    np.testing.assert_allclose(w, [0.0, 0.0], atol=1e-12)  # a maximum along y, reached in one step


def test_minimize_errors():
    with pytest.raises(ValueError, match="method"):
        minimize(_fg(rosenbrock), [0.0, 0.0], method="adam")
    with pytest.raises(ValueError, match="hessian="):
        minimize(_fg(rosenbrock), [0.0, 0.0], method="newton")
    with pytest.raises(ValueError, match=r"v .*\(D,\)"):
        hessian_vector_product(rosenbrock.grad, np.zeros(2), np.zeros(3))


def test_two_loop_and_armijo_errors_name_the_argument():
    g = np.ones(3)
    with pytest.raises(ValueError, match=r"S must have shape \(m, D\) with D = 3"):
        two_loop(g, np.ones((2, 4)), np.ones((2, 4)))
    with pytest.raises(ValueError, match=r"Y .*\(m, D\)"):
        two_loop(g, np.ones((2, 3)), np.ones((1, 3)))
    with pytest.raises(ValueError, match=r"p .*\(D,\)"):
        armijo(lambda w: 0.0, np.zeros(3), g, -np.ones(2))
