"""Second-order methods for full-batch problems: one Newton step, and L-BFGS with a Wolfe line search."""

from __future__ import annotations

import math

from ..backend import namespace
from ..validation import check_ndim, check_same_shape, check_shape, float_array
from .checks import hyper_non_negative

__all__ = ["newton_step", "lbfgs"]


def newton_step(w, grad, hessian):
    """One Newton step: jump to the minimum of the local quadratic model.

        w_new = w - H^{-1} g       computed by solving H d = g (never inverting H)

    - w: (D,) current point; grad: (D,) gradient at w; hessian: (D, D) Hessian at w.

    Returns the new point (D,) (w itself is not modified). On a quadratic with a positive
    definite Hessian this lands on the minimum in one step; where H is indefinite (a saddle)
    the step goes to the stationary point, which is why plain Newton is attracted to saddles.
    Raises ValueError when H is singular (or numerically so).
    """
    fn = "newton_step"
    w = float_array("w", w, fn=fn)
    grad = float_array("grad", grad, fn=fn, like=w)
    hessian = float_array("hessian", hessian, fn=fn, like=w)
    xp = namespace(w, grad, hessian)
    check_ndim("w", w, 1, "(D,)", fn=fn)
    D = w.shape[0]
    check_shape("grad", grad, (D,), "(D,)", fn=fn, why="like w")
    check_shape("hessian", hessian, (D, D), "(D, D)", fn=fn, why="to match w")
    s = xp.linalg.svdvals(hessian)
    s_max, s_min = float(xp.max(s)), float(xp.min(s))
    if not math.isfinite(s_max) or s_min <= s_max * D * 2.220446049250313e-16:
        raise ValueError(f"{fn}: hessian is singular (singular values from {s_min:.3g} to {s_max:.3g}), "
                         "so the Newton step is not defined; use a gradient step or add a damping "
                         "term lam * I to the Hessian")
    d = xp.linalg.solve(hessian, grad[:, None])[:, 0]
    return w - d


def _dot(a, b):
    return float(namespace(a, b).sum(a * b))


def lbfgs(f_and_grad, w0, *, history=10, max_iter=100, tol=1e-8, line_search="wolfe"):
    """Minimise a smooth function with L-BFGS (limited-memory BFGS), full batch.

    - f_and_grad: callable w -> (f, g) with f a number and g the gradient, shape (D,).
    - w0: (D,) starting point (not modified).
    - history: number m of recent pairs (s, y) kept; s = w_new - w, y = g_new - g.
    - max_iter: most iterations; tol: stop once ||g||_2 <= tol.
    - line_search: ``"wolfe"`` (from t = 1, halve t while f does not decrease enough, double it
      while the slope along p is still steep: the weak Wolfe conditions, which guarantee
      s.y > 0) or ``None`` (always t = 1, the bare quasi-Newton step).

    Each iteration finds the direction p = -H g, H approximating the inverse Hessian, with the
    two-loop recursion over the stored pairs (newest first, then oldest first)::

        q = g
        for (s, y) newest to oldest:  rho = 1 / (y.s);  a = rho * s.q;  q = q - a * y
        r = gamma * q                 gamma = s.y / y.y of the newest pair (1 / ||g|| if none)
        for (s, y) oldest to newest:  b = rho * y.r;  r = r + (a - b) * s
        p = -r

    A pair is stored only if s.y > 0 (the curvature condition keeping H positive definite).
    The search stops early (``converged`` False) if the line search finds no acceptable step.

    Returns ``(w, trace)``: w (D,) the last iterate, and trace a dict with ``"w"`` (K+1, D) all
    iterates, ``"f"`` (K+1,) and ``"grad_norm"`` (K+1,) at each, ``"n_iter"`` = K,
    ``"n_evals"`` (calls of f_and_grad) and ``"converged"`` (True if ||g|| <= tol was reached).
    """
    fn = "lbfgs"
    w = float_array("w0", w0, fn=fn)
    check_ndim("w0", w, 1, "(D,)", fn=fn)
    if not isinstance(history, int) or history < 1:
        raise ValueError(f"{fn}: history must be an int >= 1, got {history!r}")
    if not isinstance(max_iter, int) or max_iter < 0:
        raise ValueError(f"{fn}: max_iter must be an int >= 0, got {max_iter!r}")
    hyper_non_negative("tol", tol, fn)
    if line_search not in ("wolfe", None):
        raise ValueError(f"{fn}: line_search must be 'wolfe' or None, got {line_search!r}")
    xp = namespace(w)
    w = xp.asarray(w, copy=True)

    n_evals = 0

    def evaluate(x):
        nonlocal n_evals
        n_evals += 1
        f, g = f_and_grad(x)
        g = float_array("gradient returned by f_and_grad", g, fn=fn, like=x)
        check_same_shape("w", x, "gradient returned by f_and_grad", g, fn=fn)
        return float(f), g

    f, g = evaluate(w)
    pairs = []  # (s, y, rho), oldest first
    iterates, values, norms = [w], [f], [math.sqrt(_dot(g, g))]
    converged = norms[-1] <= tol
    while not converged and len(iterates) <= max_iter:
        # Two-loop recursion: r = H g without ever forming H.
        q = g
        alphas = []
        for s, y, rho in reversed(pairs):
            a = rho * _dot(s, q)
            q = q - a * y
            alphas.append(a)
        if pairs:
            gamma = _dot(pairs[-1][0], pairs[-1][1]) / _dot(pairs[-1][1], pairs[-1][1])
        else:
            gamma = 1.0 / math.sqrt(_dot(g, g))  # first step: length 1 along -g
        r = gamma * q
        for (s, y, rho), a in zip(pairs, reversed(alphas)):
            b = rho * _dot(y, r)
            r = r + (a - b) * s
        p = -r
        slope = _dot(g, p)
        if slope >= 0:  # not a descent direction (should not happen): restart from -g
            pairs.clear()
            p, slope = -g, -_dot(g, g)

        if line_search is None:
            w_new = w + p
            f_new, g_new = evaluate(w_new)
        else:
            found = _wolfe(evaluate, w, f, p, slope)
            if found is None:  # no acceptable step along p: stop
                break
            w_new, f_new, g_new = found

        s, y = w_new - w, g_new - g
        sy = _dot(s, y)
        if sy > 0:
            pairs.append((s, y, 1.0 / sy))
            if len(pairs) > history:
                pairs.pop(0)
        w, f, g = w_new, f_new, g_new
        iterates.append(w)
        values.append(f)
        norms.append(math.sqrt(_dot(g, g)))
        converged = norms[-1] <= tol
    return w, _trace(iterates, values, norms, n_evals, converged, xp)


def _wolfe(evaluate, w, f, p, slope, c1=1e-4, c2=0.9, max_trials=60):
    """A step t along p meeting the weak Wolfe conditions, by doubling and bisection:

        f(w + t p) <= f(w) + c1 t g.p          (sufficient decrease: else t is too long)
        g(w + t p).p >= c2 g.p                 (curvature: else t is too short)

    The second condition makes s.y > 0, so the new pair can always be stored.
    Returns (w_new, f_new, g_new), or None when no such t was found.
    """
    lo, hi, t = 0.0, math.inf, 1.0
    for _ in range(max_trials):
        w_new = w + t * p
        f_new, g_new = evaluate(w_new)
        if not f_new <= f + c1 * t * slope:
            hi = t
        elif _dot(g_new, p) < c2 * slope:
            lo = t
        else:
            return w_new, f_new, g_new
        t = 2 * lo if math.isinf(hi) else (lo + hi) / 2
    return None


def _trace(iterates, values, norms, n_evals, converged, xp):
    return {
        "w": xp.stack(iterates),
        "f": xp.asarray(values, dtype=xp.float64),
        "grad_norm": xp.asarray(norms, dtype=xp.float64),
        "n_iter": len(iterates) - 1,
        "n_evals": n_evals,
        "converged": bool(converged),
    }
