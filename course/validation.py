"""Argument checks with messages a learner can act on.

Every reference function validates its inputs with these helpers so that a
mistake reads like ``linear_forward: W must have shape (D, M) = (5, M) to match
x, got (4, 3)`` instead of a broadcasting traceback from deep inside NumPy.
They work for any backend (the namespace comes from the array itself).
"""

from __future__ import annotations

import numpy as np

from .backend import is_array, namespace

__all__ = [
    "as_array",
    "float_array",
    "check_ndim",
    "check_shape",
    "check_same_shape",
    "check_finite",
    "int_labels",
    "positive",
    "non_negative",
    "in_range",
    "choice",
]


def _where(fn: str | None) -> str:
    return f"{fn}: " if fn else ""


def as_array(name: str, x, *, fn: str | None = None, like=None):
    """``x`` as an array; lists and scalars are converted, other objects rejected.

    The result uses the backend of ``like`` when given and ``x`` is not already an array.
    """
    if is_array(x):
        return x
    if x is None or isinstance(x, (str, bytes, dict, set)) or callable(x):
        raise TypeError(f"{_where(fn)}{name} must be an array, got {type(x).__name__}")
    try:
        arr = np.asarray(x)
    except (ValueError, TypeError) as exc:
        raise TypeError(f"{_where(fn)}{name} must be an array, got {type(x).__name__} ({exc})") from exc
    if arr.dtype == object:
        raise TypeError(f"{_where(fn)}{name} must be a numeric array, got {type(x).__name__} of objects")
    if like is not None:
        return namespace(like).asarray(arr)
    return arr


def float_array(name: str, x, *, fn: str | None = None, like=None):
    """``x`` as a real floating-point array (lists of numbers become float64).

    Integer or boolean *arrays* are rejected with a hint, since silently casting them
    hides mistakes such as passing class labels where scores were expected.
    """
    if type(x) is np.ndarray and x.dtype.kind == "f":  # the common case, without the general checks
        return x
    was_array = is_array(x)
    x = as_array(name, x, fn=fn, like=like)
    xp = namespace(x)
    if not xp.isdtype(x.dtype, "real floating"):
        if not was_array and xp.isdtype(x.dtype, ("integral", "bool")):
            return xp.astype(x, xp.float64)
        raise TypeError(
            f"{_where(fn)}{name} must be a floating-point array (float64 or float32), "
            f"got dtype {x.dtype}; convert it with {name}.astype(float)"
        )
    return x


def _fmt(shape) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def check_ndim(name: str, x, ndim, letters: str, *, fn: str | None = None) -> None:
    """Require ``x.ndim`` in ``ndim`` (an int or a tuple); ``letters`` names the dims, e.g. "(N, D)"."""
    allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
    if x.ndim not in allowed:
        raise ValueError(
            f"{_where(fn)}{name} must have shape {letters} ({' or '.join(map(str, allowed))}-D), "
            f"got shape {_fmt(x.shape)} ({x.ndim}-D)"
        )


def check_shape(name: str, x, expected: tuple, letters: str, *, fn: str | None = None, why: str = "") -> None:
    """Require ``x.shape == expected``; ``None`` in ``expected`` matches any size."""
    ok = len(x.shape) == len(expected) and all(e is None or e == s for e, s in zip(expected, x.shape))
    if not ok:
        want = _fmt(["?" if e is None else e for e in expected])
        reason = f" {why}" if why else ""
        raise ValueError(f"{_where(fn)}{name} must have shape {letters} = {want}{reason}, got {_fmt(x.shape)}")


def check_same_shape(name_a: str, a, name_b: str, b, *, fn: str | None = None) -> None:
    """Require two arrays of the same shape (no broadcasting)."""
    if tuple(a.shape) != tuple(b.shape):
        raise ValueError(
            f"{_where(fn)}{name_a} and {name_b} must have the same shape, "
            f"got {name_a} {_fmt(a.shape)} and {name_b} {_fmt(b.shape)}"
        )


def check_finite(name: str, x, *, fn: str | None = None) -> None:
    """Reject NaN or infinite entries, saying how many there are."""
    xp = namespace(x)
    bad = ~xp.isfinite(x)
    if bool(xp.any(bad)):
        n_bad = int(xp.sum(xp.astype(bad, xp.int64)))
        raise ValueError(f"{_where(fn)}{name} contains {n_bad} NaN or infinite value(s)")


def int_labels(name: str, y, n_classes: int, n: int, *, fn: str | None = None, like=None):
    """Class labels: an integer array of shape (N,) with values in [0, C)."""
    y = as_array(name, y, fn=fn, like=like)
    xp = namespace(y)
    if not xp.isdtype(y.dtype, "integral"):
        raise TypeError(
            f"{_where(fn)}{name} must hold integer class labels in [0, {n_classes}), got dtype {y.dtype}"
        )
    check_shape(name, y, (n,), "(N,)", fn=fn, why="(one label per row of the scores)")
    if n and (bool(xp.any(y < 0)) or bool(xp.any(y >= n_classes))):
        lo, hi = int(xp.min(y)), int(xp.max(y))
        raise ValueError(
            f"{_where(fn)}{name} must hold labels in [0, C) = [0, {n_classes}), got values from {lo} to {hi}"
        )
    return y


def positive(name: str, value, *, fn: str | None = None):
    """Require a number > 0."""
    if not value > 0:
        raise ValueError(f"{_where(fn)}{name} must be > 0, got {value!r}")
    return value


def non_negative(name: str, value, *, fn: str | None = None):
    """Require a number >= 0."""
    if not value >= 0:
        raise ValueError(f"{_where(fn)}{name} must be >= 0, got {value!r}")
    return value


def in_range(name: str, value, lo, hi, *, fn: str | None = None, hi_open: bool = True):
    """Require ``lo <= value < hi`` (or ``<= hi`` when ``hi_open`` is False)."""
    ok = lo <= value < hi if hi_open else lo <= value <= hi
    if not ok:
        bracket = ")" if hi_open else "]"
        raise ValueError(f"{_where(fn)}{name} must be in [{lo}, {hi}{bracket}, got {value!r}")
    return value


def choice(name: str, value, options, *, fn: str | None = None):
    """Require ``value`` to be one of ``options``."""
    if value not in options:
        raise ValueError(f"{_where(fn)}{name} must be one of {tuple(options)}, got {value!r}")
    return value
