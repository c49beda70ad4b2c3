"""Gradient checking: compare analytic gradients with finite differences.

The centred difference  (f(x + h e_i) - f(x - h e_i)) / 2h  has error O(h^2); in float64
with h = 1e-5 a correct gradient agrees to a relative error of about 1e-8 or better,
while a wrong one is typically off by 1e-2 or more. Kinks (ReLU at 0) and float32
arithmetic give larger errors; see lesson 04.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

from .backend import namespace, to_numpy
from .validation import check_same_shape, float_array, positive

__all__ = [
    "numerical_gradient",
    "numerical_gradient_array",
    "relative_error",
    "gradcheck",
    "GradcheckReport",
]


def _indices(shape):
    return itertools.product(*(range(n) for n in shape))


def numerical_gradient(f, x, h=1e-5):
    """Centred-difference gradient of a scalar function.

    - f: callable, f(x) -> scalar (a number or 0-d array). It is called with ``x`` itself,
      perturbed in place one element at a time.
    - x: (any shape) floating array; restored exactly afterwards, even if f raises.

    Returns grad like x: grad[i] = (f(x + h e_i) - f(x - h e_i)) / (2h). 2 * x.size calls of f.
    """
    return numerical_gradient_array(lambda z: f(z), x, None, h=h)


def numerical_gradient_array(f, x, dout, h=1e-5):
    """Centred-difference vector-Jacobian product for an array-valued function.

    - f: callable, f(x) -> array (any shape); x: floating array, restored afterwards.
    - dout: array shaped like f(x): the upstream gradient. (``None`` means f is scalar.)

    Returns dx like x with dx[i] = sum(dout * (f(x + h e_i) - f(x - h e_i))) / (2h),
    the gradient of sum(dout * f(x)). 2 * x.size calls of f.
    """
    positive("h", h, fn="numerical_gradient")
    x = float_array("x", x, fn="numerical_gradient")
    xp = namespace(x, dout)
    grad = xp.zeros_like(x)

    def weighted(value):
        if dout is None:
            return float(value)
        value = xp.asarray(value)
        check_same_shape("f(x)", value, "dout", dout, fn="numerical_gradient_array")
        return float(xp.sum(value * dout))

    for idx in _indices(x.shape):
        old = float(x[idx])
        try:
            x[idx] = old + h
            plus = weighted(f(x))
            x[idx] = old - h
            minus = weighted(f(x))
        finally:
            x[idx] = old
        grad[idx] = (plus - minus) / (2.0 * h)
    return grad


def relative_error(a, b):
    """Maximum elementwise relative error: max |a - b| / max(1e-8, |a| + |b|).

    a and b must have the same shape. Returns a Python float (0.0 for empty arrays).
    """
    a = float_array("a", a, fn="relative_error")
    b = float_array("b", b, fn="relative_error", like=a)
    check_same_shape("a", a, "b", b, fn="relative_error")
    if a.size == 0:
        return 0.0
    xp = namespace(a, b)
    denom = xp.maximum(xp.abs(a) + xp.abs(b), xp.full_like(a, 1e-8))
    return float(xp.max(xp.abs(a - b) / denom))


@dataclass
class GradcheckReport:
    """The outcome of :func:`gradcheck`.

    ``errors`` maps each input name to its relative error; ``worst`` names the input with the
    largest error and, in exact mode, the index of its worst element.
    """

    passed: bool
    mode: str
    tol: float
    errors: dict = field(default_factory=dict)
    worst: tuple = ()
    evaluations: int = 0

    def __str__(self):
        status = "PASSED" if self.passed else "FAILED"
        lines = [f"gradcheck ({self.mode}) {status}: max relative error tolerated {self.tol:.1e}"]
        for name, err in self.errors.items():
            lines.append(f"  {name}: relative error {err:.2e}")
        if self.worst:
            name, where, err = self.worst
            lines.append(f"  worst: {name} at {where} (relative error {err:.2e})")
        lines.append(f"  function evaluations: {self.evaluations}")
        return "\n".join(lines)

    def __bool__(self):
        return self.passed


def gradcheck(f, inputs, grads, *, dout=None, mode="exact", h=1e-5, tol=1e-7, n_directions=3, seed=0):
    """Check analytic gradients against finite differences of ``f``.

    - f: callable taking the arrays in ``inputs`` (positionally, in order) and returning a
      scalar, or an array shaped like ``dout``.
    - inputs: dict name -> array, e.g. {"x": x, "W": W, "b": b}. Arrays are perturbed in
      place during the check and restored afterwards.
    - grads: dict with the same names -> analytic gradient of sum(dout * f) (or of f when
      f is scalar), shaped like the input.
    - mode: "exact" compares every element (2 evaluations per element); "fast" compares
      ``n_directions`` random directional derivatives per input, d/dt f(x + t v) at t = 0,
      against sum(grad * v): 2 evaluations per direction whatever the size of x.
    - tol: the largest relative error accepted.

    Returns a :class:`GradcheckReport` (truthy when it passed) naming the worst input and,
    in exact mode, the index of its worst element.
    """
    fn = "gradcheck"
    if mode not in ("exact", "fast"):
        raise ValueError(f"{fn}: mode must be 'exact' or 'fast', got {mode!r}")
    if set(inputs) != set(grads):
        raise ValueError(
            f"{fn}: grads must have the same names as inputs: inputs {sorted(inputs)}, grads {sorted(grads)}"
        )
    arrays = list(inputs.values())
    for name, g in grads.items():
        check_same_shape(f"inputs[{name!r}]", inputs[name], f"grads[{name!r}]", g, fn=fn)
    rng = np.random.default_rng(seed)
    report = GradcheckReport(passed=True, mode=mode, tol=tol)
    worst_err = -1.0
    for name, x in inputs.items():
        xp = namespace(x)

        def f_of_x(z, name=name):
            return f(*[z if k == name else a for k, a in zip(inputs, arrays)])

        if mode == "exact":
            num = numerical_gradient_array(f_of_x, x, dout, h=h)
            report.evaluations += 2 * x.size
            a, b = to_numpy(num), to_numpy(grads[name])
            elementwise = np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-8)
            err = float(elementwise.max()) if elementwise.size else 0.0
            where = tuple(int(i) for i in np.unravel_index(int(np.argmax(elementwise)), a.shape)) if a.size else ()
        else:
            num_dirs, ana_dirs = [], []
            for _ in range(n_directions):
                v = xp.asarray(rng.standard_normal(x.shape), dtype=x.dtype)
                num_dirs.append(_directional(f_of_x, x, v, dout, h, xp))
                ana_dirs.append(float(xp.sum(grads[name] * v)))
                report.evaluations += 2
            err = relative_error(np.asarray(num_dirs), np.asarray(ana_dirs))
            where = "random directions"
        report.errors[name] = err
        if err > worst_err:
            worst_err = err
            report.worst = (name, where, err)
    report.passed = worst_err <= tol
    return report


def _directional(f, x, v, dout, h, xp):
    """(L(x + h v) - L(x - h v)) / 2h with L = sum(dout * f), restoring x afterwards."""
    original = xp.asarray(x, copy=True)

    def L():
        value = f(x)
        return float(value) if dout is None else float(xp.sum(xp.asarray(value) * dout))

    try:
        x += h * v
        plus = L()
        x[...] = original - h * v
        minus = L()
    finally:
        x[...] = original
    return (plus - minus) / (2.0 * h)
