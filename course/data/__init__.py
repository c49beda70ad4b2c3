"""Data for the lessons: small seeded synthetic sets, the 8x8 digits, mini-batches and a loader.

Synthetic sets (each seeded, so the same call always gives the same arrays):

- :func:`spirals`, :func:`moons`, :func:`circles`, :func:`xor`: 2-D classification,
  ``X`` (N, 2) float64 and ``y`` (N,) int64 labels in [0, C).
- :func:`linear_regression`: ``X`` (N, D) and ``y`` (N,) = X @ w + b + noise.
- :func:`price_series`: a noisy daily series for the moving-average lesson.

One real data set ships inside the package: :func:`load_digits`, the UCI 8x8 handwritten
digits (Alpaydin & Kaynak, 1998, CC BY 4.0; see ``course/data/README.txt``), with a fixed
train/test split.

Mini-batches: :func:`minibatches` is a plain generator; :class:`DataLoader` is reusable
over epochs and can prepare the next batches on a background thread (``prefetch``) while
the current one trains.

Arrays are created with the current backend (:func:`course.backend.current`, NumPy unless
chosen otherwise); the random numbers themselves always come from NumPy's generator, so a
seed means the same data on every backend.
"""

from __future__ import annotations

from .batches import DataLoader, minibatches
from .digits import DIGITS_FILE, digits_split, load_digits
from .synthetic import circles, linear_regression, moons, price_series, spirals, xor

__all__ = [
    "spirals",
    "moons",
    "circles",
    "xor",
    "linear_regression",
    "price_series",
    "load_digits",
    "digits_split",
    "DIGITS_FILE",
    "minibatches",
    "DataLoader",
]
