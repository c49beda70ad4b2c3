"""The problems of the learning-rate explorer (lesson 05) and the gradient descent it runs on them:
``PROBLEMS``, :func:`make_problem`, :func:`run_gd` and :func:`classify` (which regime a run is in;
see :mod:`course.widgets.learning_rate`)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..backend import to_numpy
from ..functions import quadratic
from ..optim import sgd

__all__ = ["BLOW_UP", "Problem", "PROBLEMS", "make_problem", "run_gd", "classify"]

#: A run stops ("diverged") once the loss exceeds this many times its starting value.
BLOW_UP = 1e8


@dataclass
class Problem:
    """A loss of a parameter vector w (D,), D = 1 or 2, with what the widget needs to plot it.

    - value(w) -> float, grad(w) -> (D,); w0: the start (D,); f_min: the minimum value.
    - L, mu: the largest and smallest curvature (Hessian eigenvalues): gradient descent
      converges for lr < 2 / L, and the best constant lr for a quadratic is 2 / (L + mu).
    - bounds: plotting window, one (low, high) pair per coordinate; names: coordinate names.
    """

    name: str
    title: str
    value: object = field(repr=False)
    grad: object = field(repr=False)
    w0: np.ndarray = field(repr=False)
    f_min: float
    L: float
    mu: float
    bounds: tuple
    names: tuple
    value_grid: object = field(default=None, repr=False)  # (X, Y) -> Z, vectorised (2-D only)
    _grid: tuple | None = field(default=None, init=False, repr=False)

    def grid(self, n=120):
        """(X, Y, Z) NumPy arrays (n, n) of the loss over ``bounds``, for a contour plot (2-D only);
        computed once."""
        if self._grid is None:
            (x0, x1), (y0, y1) = self.bounds
            X, Y = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
            if self.value_grid is not None:
                Z = self.value_grid(X, Y)
            else:
                Z = np.array([[self.value(np.array([a, b])) for a, b in zip(ra, rb)] for ra, rb in zip(X, Y)])
            self._grid = (X, Y, Z)
        return self._grid

    @property
    def dim(self) -> int:
        return int(self.w0.shape[0])

    @property
    def lr_max(self) -> float:
        """2 / L: the learning rate at and above which gradient descent does not converge."""
        return 2.0 / self.L


def _parabola() -> Problem:
    a = 4.0  # f = a/2 w^2, f' = a w, curvature a

    return Problem(
        name="parabola",
        title=r"$f(w) = 2w^2$",
        value=lambda w: float(0.5 * a * w[0] ** 2),
        grad=lambda w: a * w,
        w0=np.array([2.0]),
        f_min=0.0,
        L=a,
        mu=a,
        bounds=((-3.0, 3.0),),
        names=("w",),
    )


def _quadratic() -> Problem:
    return Problem(
        name="quadratic",
        title=quadratic.formula,
        value=lambda w: float(quadratic.value(w)),
        grad=lambda w: np.asarray(to_numpy(quadratic.grad(w)), dtype=np.float64),
        w0=np.array(quadratic.w0, dtype=np.float64),
        f_min=0.0,
        L=10.0,
        mu=1.0,
        bounds=quadratic.bounds,
        names=("x", "y"),
        value_grid=lambda X, Y: to_numpy(quadratic.value(np.stack([X, Y]))),
    )


def _regression() -> Problem:
    # 60 points around a line; x is not centred (mean 1.5), so w and b are coupled and the
    # loss surface is a tilted, elongated bowl.
    rng = np.random.default_rng(5)
    x = 1.5 + rng.standard_normal(60)
    y = 0.8 * x - 1.0 + 0.5 * rng.standard_normal(60)
    A = np.column_stack([x, np.ones_like(x)])  # rows (x_i, 1): prediction = A @ (w, b)
    H = 2.0 * A.T @ A / len(x)  # Hessian of the mean squared error (constant)
    best = np.linalg.solve(A.T @ A, A.T @ y)
    eig = np.linalg.eigvalsh(H)

    def value(theta):
        r = A @ theta - y
        return float(r @ r / len(x))

    def grad(theta):
        return 2.0 * A.T @ (A @ theta - y) / len(x)

    return Problem(
        name="regression",
        title=r"MSE of $y \approx w x + b$ (60 points)",
        value=value,
        grad=grad,
        w0=np.array([-1.5, 2.0]),
        f_min=value(best),
        L=float(eig[-1]),
        mu=float(eig[0]),
        bounds=((-2.5, 3.0), (-3.5, 3.0)),
        names=("w", "b"),
        value_grid=lambda W, B: np.mean((x[:, None, None] * W + B - y[:, None, None]) ** 2, axis=0),
    )


PROBLEMS = {"parabola": _parabola, "quadratic": _quadratic, "regression": _regression}


def make_problem(name: str) -> Problem:
    """The problem called ``name`` (a key of :data:`PROBLEMS`)."""
    if name not in PROBLEMS:
        raise ValueError(f"make_problem: problem must be one of {tuple(PROBLEMS)}, got {name!r}")
    return PROBLEMS[name]()


def run_gd(problem: Problem, lr: float, n_steps: int, step=None) -> dict:
    """Gradient descent from ``problem.w0``: ``n_steps`` updates ``step(w, g, state, lr=lr)``
    (default :func:`course.optim.sgd`, i.e. w = w - lr * g).

    Returns a dict: ``path`` (K+1, D) and ``losses`` (K+1,) for the K steps actually taken
    (the run stops early, with ``diverged`` True and ``diverged_at`` the step, as soon as the
    loss is not finite or exceeds ``BLOW_UP`` times its start), and ``lr``.
    """
    step = sgd if step is None else step
    w = problem.w0.astype(np.float64).copy()
    state: dict = {}
    path, losses = [w.copy()], [problem.value(w)]
    limit = BLOW_UP * max(losses[0], 1.0)
    diverged_at = None
    with np.errstate(all="ignore"):
        for k in range(1, n_steps + 1):
            out = step(w, problem.grad(w), state, lr=lr)
            if out is not None:
                w = np.asarray(to_numpy(out), dtype=np.float64)
            loss = problem.value(w)
            if not (math.isfinite(loss) and loss <= limit and np.all(np.isfinite(w))):
                diverged_at = k
                break
            path.append(w.copy())
            losses.append(loss)
    return {
        "lr": float(lr),
        "path": np.array(path),
        "losses": np.array(losses),
        "diverged": diverged_at is not None,
        "diverged_at": diverged_at,
    }


def classify(problem: Problem, result: dict, close_enough: float = 0.05) -> tuple[str, str]:
    """The run's regime and a sentence explaining it: ``(regime, text)``.

    ``close_enough``: a run whose remaining loss gap ``loss - f_min`` is at most this fraction of
    the starting gap counts as "good" (when it does not zig-zag).
    """
    lr, L = result["lr"], problem.L
    losses = result["losses"]
    ratio = lr * L / 2  # lr in units of the divergence threshold 2/L
    gap0 = losses[0] - problem.f_min
    left = (losses[-1] - problem.f_min) / gap0 if gap0 > 0 else 0.0
    steps = len(losses) - 1
    if result["diverged"] or lr * L >= 2:
        if result["diverged"]:
            what = f"the loss blew up at step {result['diverged_at']}"
        elif losses[-1] > losses[0]:
            what = "the loss grows (more steps would blow it up)"
        else:
            what = "the loss never settles"
        return "divergent", (
            f"divergent: lr = {lr:.3g} is {ratio:.2f} × 2/L (2/L = {problem.lr_max:.3g}); each step "
            f"overshoots the minimum by at least as much as it started from, so {what}."
        )
    if lr * L > 1:
        return "zig-zag", (
            f"zig-zag: lr = {lr:.3g} is {ratio:.2f} × 2/L; steps overshoot the minimum along the "
            f"steepest direction, but each overshoot is smaller; after {steps} steps {_pct(left)} "
            "of the loss gap is left."
        )
    if left > close_enough:
        return "too small", (
            f"too small: lr = {lr:.3g} is only {ratio:.2g} × 2/L; after {steps} steps "
            f"{_pct(left)} of the loss gap is still left."
        )
    return "good", (
        f"good: lr = {lr:.3g} is {ratio:.2f} × 2/L; after {steps} steps {_pct(left)} of the loss gap is left."
    )


def _pct(fraction: float) -> str:
    """A fraction as a readable percentage ("0.45%", "30%", "less than 0.001%")."""
    if fraction < 1e-5:
        return "less than 0.001%"
    return f"{100 * fraction:.2g}%"
