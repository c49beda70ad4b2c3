"""Second-order and quasi-Newton methods for smooth full-batch problems (lesson 15).

- :func:`hessian_vector_product`: H v without H, from two gradients (central differences).
- :func:`armijo` (backtracking) and :func:`wolfe`: how far to go along a descent direction p.
- :func:`bfgs_update`: the BFGS update of a dense inverse-Hessian approximation.
- :func:`two_loop`: L-BFGS's two-loop recursion, H g from the last m pairs (s, y), never forming H.
- :func:`minimize`: Newton (with :func:`course.optim.newton_step`), BFGS or L-BFGS, with either
  line search, recording the path.

Notation: f the function, g its gradient, s = w_new - w the step, y = g_new - g the change of
gradient. A quasi-Newton method keeps an approximation H of the INVERSE Hessian that satisfies
the secant equation H y = s for the newest pair; it exists (positive definite) when s.y > 0.

NumPy arrays only: these modules have no CuPy path (other backends' arrays are rejected).
"""

from __future__ import annotations

import math
import time

import numpy as np

from .optim import newton_step
from .validation import check_ndim, check_shape, float_array

__all__ = ["hessian_vector_product", "armijo", "wolfe", "bfgs_update", "two_loop", "minimize"]


def _vec(name, a, fn):
    a = np.asarray(float_array(name, a, fn=fn), dtype=np.float64)
    check_ndim(name, a, 1, "(D,)", fn=fn)
    return a


def hessian_vector_product(grad, w, v, eps=1e-5):
    """H(w) v from two gradient calls, central differences along v:

        H v  ~  (grad(w + eps v) - grad(w - eps v)) / (2 eps)          error O(eps^2)

    - grad: callable w -> (D,) gradient; w: (D,) point; v: (D,) direction (any length: the
      result scales with it); eps > 0 the step along v.
    Returns (D,). Costs two gradients whatever D, where forming H costs D of them (or D^2 entries).
    """
    fn = "hessian_vector_product"
    w, v = _vec("w", w, fn), _vec("v", v, fn)
    check_shape("v", v, w.shape, "(D,)", fn=fn, why="like w")
    if not eps > 0:
        raise ValueError(f"{fn}: eps must be > 0, got {eps!r}")
    return (np.asarray(grad(w + eps * v)) - np.asarray(grad(w - eps * v))) / (2.0 * eps)


def armijo(f, w, g, p, t0=1.0, c=1e-4, beta=0.5, max_steps=50):
    """Backtracking line search: the first t in t0, beta t0, beta^2 t0, ... with

        f(w + t p) <= f(w) + c t g.p          (sufficient decrease; g.p < 0 for a descent direction)

    - f: callable w -> number; w, g (gradient at w), p: (D,); 0 < c < 1; 0 < beta < 1.
    Returns t (a float); after max_steps reductions, the last t tried. Raises ValueError if p is
    not a descent direction (g.p >= 0): no t > 0 would then decrease f to first order.
    """
    fn = "armijo"
    w, g, p = _vec("w", w, fn), _vec("g", g, fn), _vec("p", p, fn)
    check_shape("g", g, w.shape, "(D,)", fn=fn, why="like w")
    check_shape("p", p, w.shape, "(D,)", fn=fn, why="like w")
    slope = float(g @ p)
    if not slope < 0:
        raise ValueError(f"{fn}: p is not a descent direction (g.p = {slope:.3g} >= 0)")
    f0, t = float(f(w)), float(t0)
    for _ in range(max_steps):
        if float(f(w + t * p)) <= f0 + c * t * slope:
            break
        t *= beta
    return t


def wolfe(f_and_grad, w, f0, g0, p, c1=1e-4, c2=0.9, max_trials=60):
    """A step t meeting the weak Wolfe conditions, by doubling and bisection from t = 1:

        f(w + t p) <= f0 + c1 t g0.p        (not too long)      g(w + t p).p >= c2 g0.p   (not too short)

    The second one guarantees s.y > 0, so BFGS can always use the new pair.
    Returns (t, f_new, g_new, n_evals), with t = None if no such step was found.
    """
    slope = float(g0 @ p)
    lo, hi, t = 0.0, math.inf, 1.0
    for n in range(1, max_trials + 1):
        f_new, g_new = f_and_grad(w + t * p)
        if not f_new <= f0 + c1 * t * slope:
            hi = t
        elif float(g_new @ p) < c2 * slope:
            lo = t
        else:
            return t, float(f_new), np.asarray(g_new, dtype=np.float64), n
        t = 2 * lo if math.isinf(hi) else (lo + hi) / 2
    return None, None, None, max_trials


def bfgs_update(H, s, y):
    """The BFGS update of an inverse-Hessian approximation H (D, D), with rho = 1 / (y.s):

        H_new = (I - rho s y^T) H (I - rho y s^T) + rho s s^T

    H_new satisfies the secant equation H_new y = s and stays symmetric positive definite when
    y.s > 0 (the caller skips the update otherwise). Returns H_new (H is not modified).

    Multiplied out (H symmetric, Hy = H @ y), the same matrix costs O(D^2) instead of O(D^3):
    H_new = H - rho (Hy s^T + s Hy^T) + (rho^2 y.Hy + rho) s s^T.
    """
    rho = 1.0 / float(y @ s)
    Hy = H @ y
    return H - rho * (np.outer(Hy, s) + np.outer(s, Hy)) + (rho * rho * float(y @ Hy) + rho) * np.outer(s, s)


def _pairs(name, a, g, fn):
    """S or Y as a float (m, D) array; an empty list or array is m = 0 pairs."""
    if np.size(a) == 0:
        return np.zeros((0, g.shape[0]))
    a = np.asarray(float_array(name, a, fn=fn), dtype=np.float64)
    if a.ndim != 2 or a.shape[1] != g.shape[0]:
        raise ValueError(f"{fn}: {name} must have shape (m, D) with D = {g.shape[0]} from g, got {a.shape}")
    return a


def two_loop(g, S, Y):
    """L-BFGS's two-loop recursion: r = H g for the inverse-Hessian approximation defined by m pairs.

    - g: (D,) the gradient; S, Y: (m, D) the last m steps s_i and gradient changes y_i,
      OLDEST FIRST (row m - 1 is the newest pair), each with s_i.y_i > 0.

        q = g
        for i = m-1 down to 0 (newest first):  rho_i = 1 / (y_i.s_i);  a_i = rho_i s_i.q;  q = q - a_i y_i
        r = gamma q,   gamma = s.y / y.y of the newest pair (the initial H0 = gamma I)
        for i = 0 up to m-1 (oldest first):    b = rho_i y_i.r;  r = r + (a_i - b) s_i

    Returns r (D,); the search direction is p = -r. With m = 0 pairs, r = g. Costs O(m D), and
    equals m BFGS updates of gamma I applied to g.
    """
    fn = "two_loop"
    g = _vec("g", g, fn)
    S, Y = _pairs("S", S, g, fn), _pairs("Y", Y, g, fn)
    check_shape("Y", Y, S.shape, "(m, D)", fn=fn, why="like S")
    m = S.shape[0]
    if m == 0:
        return g.copy()
    rho = 1.0 / np.einsum("ij,ij->i", Y, S)
    q, a = g.copy(), np.zeros(m)
    for i in reversed(range(m)):
        a[i] = rho[i] * (S[i] @ q)
        q -= a[i] * Y[i]
    r = (S[-1] @ Y[-1]) / (Y[-1] @ Y[-1]) * q
    for i in range(m):
        b = rho[i] * (Y[i] @ r)
        r += (a[i] - b) * S[i]
    return r


def minimize(f_and_grad, w0, *, method="lbfgs", line_search="wolfe", hessian=None, history=10,
             max_iter=100, tol=1e-8):
    """Minimise a smooth function, recording the path.

    - f_and_grad: callable w -> (f, g); w0: (D,) start (not modified).
    - method: "newton" (needs ``hessian``: w -> (D, D); the step solves H d = g), "bfgs"
      (dense inverse Hessian, :func:`bfgs_update`, starting from the identity scaled as L-BFGS does)
      or "lbfgs" (:func:`two_loop` over the last ``history`` pairs).
    - line_search: "wolfe", "armijo" (backtracking from t = 1) or None (always t = 1).
    - stops when ||g|| <= tol, after max_iter iterations, when the line search fails, or when
      an iterate is not finite.

    Returns ``(w, trace)``: trace has "w" (K+1, D), "f" (K+1,), "grad_norm" (K+1,), "time" (K+1,)
    (seconds since the start, at each iterate), "n_iter" K, "n_evals" (calls of f_and_grad),
    "converged". Pairs with s.y <= 0 are skipped (and a Newton
    step that goes uphill, on an indefinite Hessian, is taken anyway without a line search).
    """
    fn = "minimize"
    if method not in ("newton", "bfgs", "lbfgs"):
        raise ValueError(f"{fn}: method must be 'newton', 'bfgs' or 'lbfgs', got {method!r}")
    if line_search not in ("wolfe", "armijo", None):
        raise ValueError(f"{fn}: line_search must be 'wolfe', 'armijo' or None, got {line_search!r}")
    if method == "newton" and hessian is None:
        raise ValueError(f"{fn}: method='newton' needs hessian=, a callable w -> (D, D)")
    w = _vec("w0", w0, fn).copy()
    count, start = [0], time.perf_counter()

    def fg(x):
        count[0] += 1
        f, g = f_and_grad(x)
        return float(f), np.asarray(g, dtype=np.float64)

    f, g = fg(w)
    path, values, norms, times = [w], [f], [float(np.linalg.norm(g))], [time.perf_counter() - start]
    S, Y, H = [], [], None
    while norms[-1] > tol and len(path) <= max_iter and np.isfinite(f):
        if method == "newton":
            p = newton_step(w, g, hessian(w)) - w
        elif method == "bfgs":
            p = -(H @ g) if H is not None else -g / max(norms[-1], 1e-300)
        else:
            p = -two_loop(g, np.array(S), np.array(Y)) if S else -g / max(norms[-1], 1e-300)
        if line_search is None or (method == "newton" and g @ p >= 0):
            t, (f_new, g_new) = 1.0, fg(w + p)
        elif line_search == "armijo":
            if not g @ p < 0:
                break
            t = armijo(lambda x: fg(x)[0], w, g, p)
            f_new, g_new = fg(w + t * p)
        else:
            t, f_new, g_new, n = wolfe(fg, w, f, g, p)
            if t is None:
                break
        s, y = t * p, g_new - g
        if s @ y > 1e-12 * np.linalg.norm(s) * np.linalg.norm(y):
            if method == "bfgs":
                H = (s @ y) / (y @ y) * np.eye(len(w)) if H is None else H
                H = bfgs_update(H, s, y)
            S.append(s)
            Y.append(y)
            del S[:-history], Y[:-history]
        w, f, g = w + s, f_new, g_new
        path.append(w)
        values.append(f)
        norms.append(float(np.linalg.norm(g)))
        times.append(time.perf_counter() - start)
    trace = {"w": np.array(path), "f": np.array(values), "grad_norm": np.array(norms), "time": np.array(times),
             "n_iter": len(path) - 1, "n_evals": count[0], "converged": bool(norms[-1] <= tol)}
    return w, trace
