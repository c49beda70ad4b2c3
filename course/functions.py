"""Two-dimensional test functions for the optimizer lessons, and a trajectory runner.

Each function is an :class:`Objective` with ``value(w)``, ``grad(w)`` and ``hessian(w)``,
where w = (x, y) has shape (2,) or is a grid of points (2, ...) (e.g. ``xp.stack([X, Y])``
for a contour plot), and

- value: (...)        grad: (2, ...)        hessian: (2, 2, ...)

(all three vectorised, so a (2,) point gives a scalar, a (2,) gradient and a (2, 2) Hessian).
Each also has ``minimum`` (the minimiser as a tuple, None for the saddle), ``bounds``
(((x_min, x_max), (y_min, y_max)), a sensible plotting window), ``w0`` (a default start,
tuple) and ``formula`` (a LaTeX string for titles).

- :data:`quadratic`: 0.5 * (x^2 + 10 y^2), an ill-conditioned bowl (condition number 10);
  :func:`make_quadratic` builds one with any condition number.
- :data:`rosenbrock`: (1 - x)^2 + 100 (y - x^2)^2, a curved narrow valley, minimum (1, 1).
- :data:`beale`: sum over i = 1, 2, 3 of (c_i - x + x y^i)^2 with c = (1.5, 2.25, 2.625),
  minimum (3, 0.5).
- :data:`saddle`: x^2 - y^2, a saddle point at (0, 0) and no minimum.

:data:`FUNCTIONS` maps these names to the objects (for widgets). :func:`run_optimizer`
records the path an update rule takes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from .backend import current, is_array, namespace, to_numpy
from .validation import float_array, positive

__all__ = [
    "Objective",
    "make_quadratic",
    "quadratic",
    "rosenbrock",
    "beale",
    "saddle",
    "FUNCTIONS",
    "Bowl",
    "run_optimizer",
]


def _xy(fn, w):
    w = float_array("w", w, fn=fn)
    if w.ndim < 1 or w.shape[0] != 2:
        raise ValueError(f"{fn}: w must have shape (2,) or (2, ...) (x and y first), got {tuple(w.shape)}")
    return w[0, ...], w[1, ...], namespace(w)


@dataclass(frozen=True)
class Objective:
    """A test function of w = (x, y) with its derivatives and plotting metadata."""

    name: str
    formula: str
    value: Callable = field(repr=False)
    grad: Callable = field(repr=False)
    hessian: Callable = field(repr=False)
    minimum: tuple | None
    bounds: tuple
    w0: tuple

    def grid(self, n=200):
        """NumPy arrays (X, Y, Z), each (n, n), of the value over ``bounds``, for ``contour``."""
        xp = current()
        (x0, x1), (y0, y1) = self.bounds
        X, Y = xp.meshgrid(xp.linspace(x0, x1, n), xp.linspace(y0, y1, n))
        Z = self.value(xp.stack([X, Y]))
        return to_numpy(X), to_numpy(Y), to_numpy(Z)


def make_quadratic(condition=10.0):
    """The quadratic bowl f = 0.5 * (x^2 + condition * y^2).

    grad = (x, condition * y); Hessian = diag(1, condition) (constant), whose condition number
    is ``condition``: gradient descent zig-zags across the narrow y direction and crawls
    along x. Minimum (0, 0).
    """
    k = positive("condition", float(condition), fn="make_quadratic")

    def value(w):
        x, y, _ = _xy("quadratic.value", w)
        return 0.5 * (x * x + k * y * y)

    def grad(w):
        x, y, xp = _xy("quadratic.grad", w)
        return xp.stack([x, k * y])

    def hessian(w):
        x, _, xp = _xy("quadratic.hessian", w)
        one, zero = xp.ones_like(x), xp.zeros_like(x)
        return xp.stack([xp.stack([one, zero]), xp.stack([zero, k * one])])

    return Objective(
        name="quadratic",
        formula=rf"$\frac{{1}}{{2}}(x^2 + {k:g}\,y^2)$",
        value=value,
        grad=grad,
        hessian=hessian,
        minimum=(0.0, 0.0),
        bounds=((-5.0, 5.0), (-3.0, 3.0)),
        w0=(-4.0, 2.0),
    )


quadratic = make_quadratic(10.0)


def _rosenbrock_value(w):
    x, y, _ = _xy("rosenbrock.value", w)
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2


def _rosenbrock_grad(w):
    # df/dx = -2 (1 - x) - 400 x (y - x^2);  df/dy = 200 (y - x^2)
    x, y, xp = _xy("rosenbrock.grad", w)
    return xp.stack([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)])


def _rosenbrock_hessian(w):
    # d2f/dx2 = 2 - 400 (y - x^2) + 800 x^2 = 2 - 400 y + 1200 x^2;  d2f/dxdy = -400 x;  d2f/dy2 = 200
    x, y, xp = _xy("rosenbrock.hessian", w)
    dxx = 2 - 400 * y + 1200 * x * x
    dxy = -400 * x
    dyy = 200 * xp.ones_like(x)
    return xp.stack([xp.stack([dxx, dxy]), xp.stack([dxy, dyy])])


rosenbrock = Objective(
    name="rosenbrock",
    formula=r"$(1 - x)^2 + 100\,(y - x^2)^2$",
    value=_rosenbrock_value,
    grad=_rosenbrock_grad,
    hessian=_rosenbrock_hessian,
    minimum=(1.0, 1.0),
    bounds=((-2.0, 2.0), (-1.0, 3.0)),
    w0=(-1.2, 1.0),
)

_BEALE_C = (1.5, 2.25, 2.625)


def _beale_value(w):
    x, y, _ = _xy("beale.value", w)
    return sum((c - x + x * y**i) ** 2 for i, c in enumerate(_BEALE_C, start=1))


def _beale_grad(w):
    # With r_i = c_i - x + x y^i:  df/dx = sum 2 r_i (y^i - 1);  df/dy = sum 2 r_i i x y^(i-1)
    x, y, xp = _xy("beale.grad", w)
    gx = gy = 0.0
    for i, c in enumerate(_BEALE_C, start=1):
        r = c - x + x * y**i
        gx = gx + 2 * r * (y**i - 1)
        gy = gy + 2 * r * i * x * y ** (i - 1)
    return xp.stack([gx, gy])


def _beale_hessian(w):
    # d2f/dx2 = sum 2 (y^i - 1)^2
    # d2f/dxdy = sum 2 [(y^i - 1) i x y^(i-1) + r_i i y^(i-1)]
    # d2f/dy2 = sum 2 [(i x y^(i-1))^2 + r_i i (i-1) x y^(i-2)]
    x, y, xp = _xy("beale.hessian", w)
    hxx = hxy = hyy = 0.0
    for i, c in enumerate(_BEALE_C, start=1):
        r = c - x + x * y**i
        dr_dx, dr_dy = y**i - 1, i * x * y ** (i - 1)
        hxx = hxx + 2 * dr_dx * dr_dx
        hxy = hxy + 2 * (dr_dx * dr_dy + r * i * y ** (i - 1))
        d2r_dy2 = i * (i - 1) * x * y ** (i - 2) if i >= 2 else 0.0 * x
        hyy = hyy + 2 * (dr_dy * dr_dy + r * d2r_dy2)
    return xp.stack([xp.stack([hxx, hxy]), xp.stack([hxy, hyy])])


beale = Objective(
    name="beale",
    formula=r"$\sum_{i=1}^{3} (c_i - x + x y^i)^2,\ c = (1.5, 2.25, 2.625)$",
    value=_beale_value,
    grad=_beale_grad,
    hessian=_beale_hessian,
    minimum=(3.0, 0.5),
    bounds=((-4.5, 4.5), (-4.5, 4.5)),
    w0=(1.0, 1.5),
)


def _saddle_value(w):
    x, y, _ = _xy("saddle.value", w)
    return x * x - y * y


def _saddle_grad(w):
    x, y, xp = _xy("saddle.grad", w)
    return xp.stack([2 * x, -2 * y])


def _saddle_hessian(w):
    x, _, xp = _xy("saddle.hessian", w)
    two, zero = 2 * xp.ones_like(x), xp.zeros_like(x)
    return xp.stack([xp.stack([two, zero]), xp.stack([zero, -two])])


saddle = Objective(
    name="saddle",
    formula=r"$x^2 - y^2$",
    value=_saddle_value,
    grad=_saddle_grad,
    hessian=_saddle_hessian,
    minimum=None,  # (0, 0) is a saddle point; f is unbounded below along y
    bounds=((-2.0, 2.0), (-2.0, 2.0)),
    w0=(1.5, 1e-3),  # almost on the x axis: descent first heads for the saddle, then escapes along y
)

FUNCTIONS = {f.name: f for f in (quadratic, rosenbrock, beale, saddle)}


def run_optimizer(step_fn, w0, n_steps, *, grad=None):
    """Run an update rule from w0 and record the trajectory.

    - step_fn: the update. With ``grad`` given it is called as ``step_fn(w, grad(w))``;
      without, as ``step_fn(w)`` (a closure that computes its own gradient). It may update w
      in place and return None, or return the new w.
    - w0: (D,) start (copied, never modified), e.g. ``rosenbrock.w0``.
    - n_steps: number of updates.
    - grad: a gradient function w -> (D,), or an :class:`Objective` (its ``grad`` is used).

    Returns the trajectory, shape (n_steps + 1, D): row 0 is w0, row t the point after t steps.

    Example::

        state = {}
        path = run_optimizer(lambda w, g: adam(w, g, state, lr=0.1), rosenbrock.w0, 500,
                             grad=rosenbrock)
    """
    fn = "run_optimizer"
    if not callable(step_fn):
        raise TypeError(f"{fn}: step_fn must be callable, got {type(step_fn).__name__}")
    if isinstance(n_steps, bool) or not isinstance(n_steps, int) or n_steps < 0:
        raise ValueError(f"{fn}: n_steps must be an int >= 0, got {n_steps!r}")
    if isinstance(grad, Objective):
        grad = grad.grad
    if grad is not None and not callable(grad):
        raise TypeError(f"{fn}: grad must be a function w -> gradient or an Objective, "
                        f"got {type(grad).__name__}")
    w = float_array("w0", w0 if is_array(w0) else current().asarray(w0, dtype=current().float64),
                    fn=fn)
    xp = namespace(w)
    w = xp.asarray(w, copy=True)
    path = [xp.asarray(w, copy=True)]
    for _ in range(n_steps):
        out = step_fn(w, grad(w)) if grad is not None else step_fn(w)
        if out is not None:
            w = float_array("the value returned by step_fn", out, fn=fn, like=w)
        path.append(xp.asarray(w, copy=True))
    return xp.stack(path)


@dataclass(frozen=True)
class Bowl:
    """f(w) = 0.5 * sum(c_i w_i^2) for w of any length (5-D by default): a test function of
    another dimension than the 2-D ones above (the optimizer exercises are graded on it too)."""

    c: tuple = (1.0, 2.0, 5.0, 10.0, 20.0)

    def value(self, w):
        return 0.5 * float(sum(ci * wi * wi for ci, wi in zip(self.c, w)))

    def grad(self, w):
        import numpy as np

        return np.asarray(self.c) * w

