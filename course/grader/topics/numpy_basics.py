"""``numpy.*``: the NumPy warm-up, broadcasting and vectorisation (lesson 00).

The three warm-up functions are not part of the reference library (they are not layers); their
reference implementations live here, written the way the course writes every computation.
"""

from __future__ import annotations

import numpy as np

from ...backend import namespace
from ..cases import Case, randn, sizes
from ..registry import Variant, register

LESSON = "00_getting_started"

__all__ = ["add_bias", "standardize", "pairwise_sq_dists"]


def add_bias(X, b):
    """Add the bias vector b to every row of X: out[n, d] = X[n, d] + b[d].

    - X: (N, D); b: (D,). Returns out (N, D), a new array (X is not changed).
    """
    return X + b


def standardize(X, eps=1e-8):
    """Standardise every column of X: out = (X - mean) / sqrt(var + eps), per column.

    - X: (N, D). mean and var (the population variance, ddof = 0) are taken over the N rows.
    - eps keeps a constant column (or N = 1) from dividing 0 by 0.
    Returns out (N, D): each column has mean 0 and (unless constant) standard deviation 1.
    """
    xp = namespace(X)
    mean = xp.mean(X, axis=0, keepdims=True)
    var = xp.mean((X - mean) ** 2, axis=0, keepdims=True)
    return (X - mean) / xp.sqrt(var + eps)


def pairwise_sq_dists(A, B):
    """Squared Euclidean distances between every row of A and every row of B.

    - A: (N, D); B: (M, D). Returns dists (N, M) with dists[i, j] = sum_d (A[i, d] - B[j, d])**2.
    Computed exactly here, by broadcasting A[:, None, :] - B[None, :, :] to (N, M, D); the
    expansion |a|^2 - 2 a.b + |b|^2 gives the same values up to rounding.
    """
    xp = namespace(A, B)
    diff = A[:, None, :] - B[None, :, :]
    return xp.sum(diff * diff, axis=-1)


# ---------------------------------------------------------------------------------------------
# Cases


def _add_bias_cases(rng):
    N, D = sizes(rng, 2, 2, 7)
    return [
        Case((randn(rng, N, D), randn(rng, D)), note=f"N = {N}, D = {D}", N=N),
        Case((randn(rng, 1, D), randn(rng, D)), note=f"N = 1, D = {D}", N=1),
        Case((randn(rng, N, 1), randn(rng, 1)), note=f"D = 1, N = {N}", N=N),
        Case((randn(rng, 8, 3, scale=100.0), randn(rng, 3, scale=10.0)), note="N = 8, D = 3, large values", N=8),
    ]


def _standardize_cases(rng):
    N, D = sizes(rng, 2, 3, 7)
    const = randn(rng, 5, 3, scale=2.0) + 4.0
    const[:, 1] = 2.5
    return [
        Case((randn(rng, N, D, scale=3.0) + 5.0,), note=f"N = {N}, D = {D}", N=N),
        Case((randn(rng, 9, 2) * np.array([0.5, 100.0]),), note="columns on very different scales", N=9),
        Case((randn(rng, 1, D),), note=f"N = 1 (every column is constant), D = {D}", N=1),
        Case((const,), note="a constant column (its std is 0)", N=5),
    ]


def _pairwise_cases(rng):
    N, M, D = sizes(rng, 3, 2, 7)
    A = randn(rng, 4, 3)
    return [
        Case((randn(rng, N, D), randn(rng, M, D)), note=f"N = {N}, M = {M}, D = {D}", N=N),
        Case((randn(rng, 1, D), randn(rng, M, D)), note=f"N = 1, M = {M}, D = {D}", N=1),
        Case((randn(rng, N, D), randn(rng, 1, D)), note=f"M = 1, N = {N}, D = {D}", N=N),
        Case((randn(rng, N, 1), randn(rng, M, 1)), note="D = 1 (points on a line)", N=N),
        Case((A, A.copy()), note="A and B the same points (the diagonal is 0)", N=4),
    ]


# ---------------------------------------------------------------------------------------------
# Declarations


register(
    "numpy.add_bias",
    lesson=LESSON,
    title="Broadcast a bias over the rows",
    reference=add_bias,
    cases=_add_bias_cases,
    outputs=("out",),
    arg_names=("X", "b"),
    hints=(
        "X + b already broadcasts: b of shape (D,) is lined up with the last axis of X (N, D).",
        "Do not use X += b: that changes the caller's X. Build and return a new array.",
    ),
)

register(
    "numpy.standardize",
    lesson=LESSON,
    title="Standardise every column",
    reference=standardize,
    cases=_standardize_cases,
    outputs=("out",),
    arg_names=("X",),
    variants=(
        Variant(
            "rows_not_columns",
            lambda X, eps=1e-8: standardize(X.T, eps).T,
            "You standardised each row (axis=1); the statistics are per column: mean and variance "
            "over the N examples, axis=0.",
        ),
        Variant(
            "ddof_1",
            lambda X, eps=1e-8: (X - X.mean(axis=0))
            / np.sqrt(((X - X.mean(axis=0)) ** 2).sum(axis=0) / max(len(X) - 1, 1) + eps),
            "You used the sample variance (ddof=1, dividing by N - 1); use the population variance "
            "(the plain mean of the squared deviations, NumPy's default ddof=0).",
        ),
        Variant(
            "no_eps",
            lambda X, eps=1e-8: (X - X.mean(axis=0)) / X.std(axis=0),
            "A constant column (and every column when N = 1) has standard deviation 0, so you divide "
            "0 by 0: divide by sqrt(var + eps) instead of std.",
        ),
    ),
    hints=(
        "mean = X.mean(axis=0, keepdims=True) has shape (1, D) and broadcasts over the rows.",
        "var = ((X - mean)**2).mean(axis=0, keepdims=True); out = (X - mean) / np.sqrt(var + eps).",
    ),
)

register(
    "numpy.pairwise_sq_dists",
    lesson=LESSON,
    title="Pairwise squared distances without loops",
    reference=pairwise_sq_dists,
    cases=_pairwise_cases,
    outputs=("dists",),
    arg_names=("A", "B"),
    tolerances={"float64": (1e-6, 1e-8)},  # the expansion |a|^2 - 2ab + |b|^2 rounds a little
    variants=(
        Variant(
            "not_squared",
            lambda A, B: np.sqrt(pairwise_sq_dists(A, B)),
            "You returned the distances themselves; the exercise asks for the squared distances "
            "(leave out the square root).",
        ),
        Variant(
            "plus_cross_term",
            lambda A, B: (A * A).sum(1)[:, None] + 2.0 * A @ B.T + (B * B).sum(1)[None, :],
            "The cross term has the wrong sign: |a - b|^2 = |a|^2 - 2 a.b + |b|^2.",
        ),
    ),
    hints=(
        "A[:, None, :] has shape (N, 1, D) and B[None, :, :] has shape (1, M, D): their difference "
        "broadcasts to (N, M, D); square it and sum over the last axis.",
        "Or expand |a - b|^2 = |a|^2 - 2 a.b + |b|^2: (A**2).sum(1)[:, None] - 2 * A @ B.T + "
        "(B**2).sum(1)[None, :], which never builds the (N, M, D) array.",
    ),
)
