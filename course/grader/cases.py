"""Test cases for the grader: pure data, generated from a seed.

A :class:`Case` holds the inputs of one call (arrays, numbers, strings, small tuples
and dicts) plus a short note the learner can read ("N = 1", "large values"). An
exercise's case generator receives a ``numpy.random.Generator`` and returns a list
of cases; :func:`cases` builds that generator from the exercise id and a seed, so
the same seed always gives the same cases and another seed gives other values.

Callables are kept out of cases: where an exercise needs one (the ``f`` of a
numerical gradient), the case holds a :class:`FnRef` naming a function from
:data:`FUNCTIONS`, and the run phase turns it into the callable.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..backend import is_array, to_numpy

__all__ = [
    "Case",
    "FnRef",
    "FUNCTIONS",
    "cases",
    "rng_for",
    "randn",
    "sizes",
    "away_from_zero",
    "copy_data",
    "same_data",
    "resolve",
]


@dataclass
class Case:
    """One test case.

    - args, kwargs: how the learner's function is called (positional, keyword).
    - note: a few words describing the case to the learner ("N = 1, non-square W").
    - N: the batch size, when there is one (lets the grader say "did you forget to divide by N?").
    - fd: whether finite differences are meaningful here (False at kinks such as x = 0 for ReLU).
    - extra: data for the exercise's protocol (e.g. ``dout`` for a backward, a trajectory's start).
    """

    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    note: str = ""
    N: int | None = None
    fd: bool = True
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class FnRef:
    """A function named by data: ``FUNCTIONS[name](**params)`` builds it in the run phase."""

    name: str
    params: tuple = ()  # ((key, value), ...) so the reference stays hashable and printable

    def build(self):
        return FUNCTIONS[self.name](**dict(self.params))

    def __repr__(self):
        return f"<function {self.name}>"


def _sum_squares():
    return lambda x: float((x * x).sum())


def _sin_sum():
    return lambda x: float(np.sum(np.sin(x) * np.cos(2.0 * x)))


def _log_sum_exp():
    def f(x):
        m = float(np.max(x))
        return m + float(np.log(np.sum(np.exp(x - m))))

    return f


def _quartic():
    return lambda x: float(np.sum(x**4) - 3.0 * np.sum(x**2) + np.sum(x))


def _tanh_array():
    return np.tanh


def _matmul_array(A):
    A = np.asarray(A)
    return lambda x: x @ A


def _square_array():
    return lambda x: x * x


#: Functions that cases may name with :class:`FnRef` (scalar-valued and array-valued).
FUNCTIONS = {
    "sum_squares": _sum_squares,
    "sin_sum": _sin_sum,
    "log_sum_exp": _log_sum_exp,
    "quartic": _quartic,
    "tanh": _tanh_array,
    "matmul": _matmul_array,
    "square": _square_array,
}


def rng_for(exercise_id: str, seed: int) -> np.random.Generator:
    """The generator for one exercise and seed: stable across runs and machines."""
    return np.random.default_rng([int(seed), zlib.crc32(exercise_id.encode())])


def cases(exercise, seed: int = 0) -> list[Case]:
    """The cases of ``exercise`` (an :class:`~course.grader.registry.Exercise`) for ``seed``.

    ``course.grader.cases`` takes an exercise id too (this module knows no registry)."""
    if isinstance(exercise, str):
        raise TypeError(f"cases: pass the exercise itself (course.grader.get({exercise!r})), "
                        "or use course.grader.cases, which takes an id")
    made = exercise.make_cases(rng_for(exercise.id, seed))
    if not made:
        raise ValueError(f"exercise {exercise.id!r}: the case generator returned no cases")
    return list(made)


# ---------------------------------------------------------------------------------------------
# Helpers for writing case generators


def randn(rng: np.random.Generator, *shape, scale: float = 1.0) -> np.ndarray:
    """Standard normal float64 values of ``shape``, times ``scale``."""
    return scale * rng.standard_normal(shape)


def away_from_zero(rng: np.random.Generator, *shape, low: float = 0.1, scale: float = 1.0) -> np.ndarray:
    """Normal values with ``|x| >= low`` (finite differences stay away from kinks at 0)."""
    x = randn(rng, *shape, scale=scale)
    return np.where(np.abs(x) < low, np.where(x < 0, -low, low) + x * 0.5, x)  # |x| in [low, 1.5 low)


def sizes(rng: np.random.Generator, k: int, low: int = 2, high: int = 7) -> list[int]:
    """``k`` distinct sizes in [low, high]: shapes are never square by accident, so a transposed
    result shows in its shape and a factor equal to N can be told apart from D or M."""
    choices = np.arange(low, high + 1)
    if len(choices) < k:
        raise ValueError(f"sizes: cannot pick {k} distinct sizes in [{low}, {high}]")
    return [int(s) for s in rng.choice(choices, size=k, replace=False)]


# ---------------------------------------------------------------------------------------------
# Copying and comparing plain data


def copy_data(x):
    """A deep copy of plain data (arrays are copied; tuples, lists and dicts recursively)."""
    if x is None or type(x) in (int, float, bool, str):  # immutable: nothing to copy (fast path)
        return x
    if isinstance(x, np.ndarray):
        return x.copy()
    if isinstance(x, tuple):
        return tuple(copy_data(v) for v in x)
    if isinstance(x, list):
        return [copy_data(v) for v in x]
    if isinstance(x, dict):
        return {k: copy_data(v) for k, v in x.items()}
    if is_array(x) and hasattr(x, "copy"):
        return x.copy()
    return x


def same_data(a, b) -> bool:
    """Exact equality of plain data (NaN equals NaN; dtype and shape must agree)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        if not (is_array(a) and is_array(b)):
            return False
        a, b = to_numpy(a), to_numpy(b)
        if a.shape != b.shape or a.dtype != b.dtype:
            return False
        if a.dtype.kind in "fc":
            return bool(np.array_equal(a, b, equal_nan=True))
        return bool(np.array_equal(a, b))
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return type(a) is type(b) and len(a) == len(b) and all(same_data(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_data(a[k], b[k]) for k in a)
    if isinstance(a, FnRef) and isinstance(b, FnRef):
        return a.name == b.name and same_data(tuple(a.params), tuple(b.params))
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    try:
        return bool(a == b) if type(a) is type(b) else a is b
    except Exception:  # objects with an odd __eq__ are simply "not the same"
        return a is b


def resolve(x: Any):
    """Case data with every :class:`FnRef` replaced by its function (recursively)."""
    if isinstance(x, FnRef):
        return x.build()
    if isinstance(x, tuple):
        return tuple(resolve(v) for v in x)
    if isinstance(x, list):
        return [resolve(v) for v in x]
    if isinstance(x, dict):
        return {k: resolve(v) for k, v in x.items()}
    return x
