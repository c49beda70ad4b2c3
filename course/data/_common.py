"""Helpers shared by the data modules: argument checks, seeded generators, the backend's arrays."""

from __future__ import annotations

import numpy as np

from ..backend import current


def _count(name: str, value, fn: str, minimum: int = 1) -> int:
    """``value`` as an int >= ``minimum``; floats, bools and strings are rejected."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{fn}: {name} must be an integer, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{fn}: {name} must be >= {minimum}, got {value}")
    return int(value)


def _make_rng(seed, fn: str) -> np.random.Generator:
    """A ``numpy.random.Generator``: the one given, or a new one from an int seed (None: fresh)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or (isinstance(seed, (int, np.integer)) and not isinstance(seed, bool)):
        return np.random.default_rng(seed)
    raise TypeError(
        f"{fn}: seed/rng must be an int, None or a numpy.random.Generator, got {seed!r}"
    )


def _out(X, y):
    """Move NumPy-made arrays to the current backend (a no-op for NumPy)."""
    xp = current()
    return xp.asarray(X), xp.asarray(y)


def _split_counts(n: int, parts: int) -> list[int]:
    """``n`` items shared between ``parts`` groups as evenly as possible (first groups get more)."""
    return [n // parts + (1 if k < n % parts else 0) for k in range(parts)]


# ---------------------------------------------------------------------------------------------
# synthetic classification sets
# ---------------------------------------------------------------------------------------------
