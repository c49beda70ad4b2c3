"""Small seeded synthetic data sets: 2-D classification (spirals, moons, circles, XOR), a noisy
linear regression and a daily price series. The same call always gives the same arrays."""

from __future__ import annotations

import numpy as np

from ..backend import current
from ..validation import non_negative
from ._common import _count, _make_rng, _out, _split_counts

__all__ = ["spirals", "moons", "circles", "xor", "linear_regression", "price_series"]


def spirals(n_per_class=100, n_classes=3, noise=0.2, seed=0):
    """Interleaved spiral arms, one per class: the classic set no linear model can separate.

    Point i of arm j sits at radius r_i (evenly spaced in [0, 1]) and angle
    ``2 pi j / C + 4 r_i + noise * e``, with e ~ N(0, 1): the angle noise blurs the arms.

    Returns ``X`` (N, 2) float64 and ``y`` (N,) int64 in [0, C), N = n_per_class * C,
    sorted by class.
    """
    fn = "spirals"
    n = _count("n_per_class", n_per_class, fn)
    C = _count("n_classes", n_classes, fn, minimum=2)
    non_negative("noise", noise, fn=fn)
    rng = _make_rng(seed, fn)
    X = np.empty((n * C, 2))
    y = np.empty(n * C, dtype=np.int64)
    r = np.linspace(0.0, 1.0, n)
    for j in range(C):
        angle = 2 * np.pi * j / C + 4.0 * r + noise * rng.standard_normal(n)
        X[j * n : (j + 1) * n] = np.column_stack([r * np.cos(angle), r * np.sin(angle)])
        y[j * n : (j + 1) * n] = j
    return _out(X, y)


def moons(n_samples=200, noise=0.1, seed=0):
    """Two interleaving half circles.

    Class 0: (cos t, sin t); class 1: (1 - cos t, 0.5 - sin t), t evenly spaced in [0, pi],
    plus Gaussian noise of standard deviation ``noise`` on both coordinates.

    Returns ``X`` (N, 2) float64 and ``y`` (N,) int64 in {0, 1}, sorted by class.
    """
    fn = "moons"
    N = _count("n_samples", n_samples, fn, minimum=2)
    non_negative("noise", noise, fn=fn)
    rng = _make_rng(seed, fn)
    n0, n1 = _split_counts(N, 2)
    t0, t1 = np.linspace(0.0, np.pi, n0), np.linspace(0.0, np.pi, n1)
    upper = np.column_stack([np.cos(t0), np.sin(t0)])
    lower = np.column_stack([1.0 - np.cos(t1), 0.5 - np.sin(t1)])
    X = np.concatenate([upper, lower]) + noise * rng.standard_normal((N, 2))
    y = np.repeat(np.arange(2, dtype=np.int64), [n0, n1])
    return _out(X, y)


def circles(n_samples=200, noise=0.05, factor=0.5, seed=0):
    """A small circle (class 1, radius ``factor``) inside a large one (class 0, radius 1).

    Angles are evenly spaced; Gaussian noise of standard deviation ``noise`` is added.

    Returns ``X`` (N, 2) float64 and ``y`` (N,) int64 in {0, 1}, sorted by class.
    """
    fn = "circles"
    N = _count("n_samples", n_samples, fn, minimum=2)
    non_negative("noise", noise, fn=fn)
    if not 0 < factor < 1:
        raise ValueError(f"{fn}: factor must be in (0, 1) (the inner radius), got {factor!r}")
    rng = _make_rng(seed, fn)
    n0, n1 = _split_counts(N, 2)
    t0 = np.linspace(0.0, 2 * np.pi, n0, endpoint=False)
    t1 = np.linspace(0.0, 2 * np.pi, n1, endpoint=False)
    outer = np.column_stack([np.cos(t0), np.sin(t0)])
    inner = factor * np.column_stack([np.cos(t1), np.sin(t1)])
    X = np.concatenate([outer, inner]) + noise * rng.standard_normal((N, 2))
    y = np.repeat(np.arange(2, dtype=np.int64), [n0, n1])
    return _out(X, y)


def xor(n_samples=200, noise=0.0, seed=0):
    """The XOR problem: points uniform in the square [-1, 1]^2, label 1 where x0 * x1 < 0.

    The label is computed from the clean point; then Gaussian noise of standard deviation
    ``noise`` is added, so noisy points near the axes may cross into the other class.

    Returns ``X`` (N, 2) float64 and ``y`` (N,) int64 in {0, 1} (not sorted).
    """
    fn = "xor"
    N = _count("n_samples", n_samples, fn)
    non_negative("noise", noise, fn=fn)
    rng = _make_rng(seed, fn)
    X = rng.uniform(-1.0, 1.0, size=(N, 2))
    y = ((X[:, 0] > 0) != (X[:, 1] > 0)).astype(np.int64)
    X = X + noise * rng.standard_normal((N, 2))
    return _out(X, y)


# ---------------------------------------------------------------------------------------------
# regression and series
# ---------------------------------------------------------------------------------------------


def linear_regression(n=100, d=1, noise=0.1, seed=0, return_coef=False):
    """Noisy linear data: y = X @ w + b + noise * e, with X, w, b, e all standard normal.

    Returns ``X`` (N, D) float64 and ``y`` (N,) float64; with ``return_coef=True`` also the
    true ``w`` (D,) and ``b`` (a float): ``X, y, w, b``.
    """
    fn = "linear_regression"
    N = _count("n", n, fn)
    D = _count("d", d, fn)
    non_negative("noise", noise, fn=fn)
    rng = _make_rng(seed, fn)
    w = rng.standard_normal(D)
    b = float(rng.standard_normal())
    X = rng.standard_normal((N, D))
    y = X @ w + b + noise * rng.standard_normal(N)
    X, y = _out(X, y)
    if return_coef:
        return X, y, current().asarray(w), b
    return X, y


def price_series(n_days=365, seed=0, return_trend=False):
    """A noisy daily price for the exponential-moving-average lesson.

    The smooth part is ``trend[t] = 100 + 0.05 t + 5 sin(2 pi t / 90)`` (a slow rise and a
    90-day cycle); each day adds independent noise of standard deviation 3.

    Returns ``prices`` (T,) float64, T = n_days; with ``return_trend=True`` also the smooth
    ``trend`` (T,) that a good average should recover: ``prices, trend``.
    """
    fn = "price_series"
    T = _count("n_days", n_days, fn)
    rng = _make_rng(seed, fn)
    t = np.arange(T, dtype=np.float64)
    trend = 100.0 + 0.05 * t + 5.0 * np.sin(2 * np.pi * t / 90.0)
    prices = trend + 3.0 * rng.standard_normal(T)
    prices, trend = _out(prices, trend)
    return (prices, trend) if return_trend else prices


# ---------------------------------------------------------------------------------------------
# the 8x8 digits
# ---------------------------------------------------------------------------------------------
