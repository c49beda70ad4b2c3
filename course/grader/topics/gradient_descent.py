"""Lesson 05 (gradient descent): a mini-batch iterator and one epoch of mini-batch SGD.

The gradient-descent update itself is ``optim.sgd`` (in ``topics/optim.py``). Here:

- ``gradient_descent.minibatches``: the learner's ``minibatches(X, y, batch_size, shuffle, rng)``,
  a generator (or anything iterable) of ``(Xb, yb)`` pairs. The run phase consumes it into a
  list, so a learner's generator runs (and may raise) inside the run phase like any other call.
  A judge checks the batches for what matters, in order: how many, their sizes (the last one
  partial), that every row of X appears exactly once and keeps its own y, and the order (the
  original order without shuffling; ``rng.permutation(N)`` with it).
- ``gradient_descent.sgd_epoch``: one epoch of mini-batch SGD for linear regression with the
  mean squared error, compared with the reference epoch (weights and per-batch losses).

Both take a ``numpy.random.Generator``: cases hold only its seed, and the protocol below builds
a fresh generator from it for every call, so the reference, the learner and every re-run see
the same random numbers.
"""

from __future__ import annotations

import numpy as np

from ...backend import is_array, namespace
from ...data import minibatches as _reference_minibatches
from ..cases import Case, randn
from ..compare.findings import Diagnosis, OutputCheck
from ..registry import Variant, register
from ..run.topic_protocols import Seeded

LESSON = "05_gradient_descent"


# ---------------------------------------------------------------------------------------------
# gradient_descent.minibatches


def minibatches(X, y, batch_size, shuffle=True, rng=None):
    """The reference: :func:`course.data.minibatches` (drop_last=False)."""
    return _reference_minibatches(X, y, batch_size, shuffle=shuffle, rng=rng)


def _mb_case(rng, N, B, shuffle, D=3, M=None, note=""):
    X = randn(rng, N, D)
    y = randn(rng, N) if M is None else randn(rng, N, M)
    seed = int(rng.integers(0, 2**31))
    sizes = f"N = {N}, batch_size = {B}"
    return Case((X, y, B), {"shuffle": shuffle}, note=f"{sizes}, shuffle={shuffle}{note}", N=N, extra={"seed": seed})


def _mb_cases(rng):
    n1 = int(rng.integers(9, 12))
    return [
        _mb_case(rng, n1, 4, False, note=" (last batch partial)"),
        _mb_case(rng, 12, 3, False, note=" (N divisible by batch_size)"),
        _mb_case(rng, n1 + 1, 4, True),
        _mb_case(rng, 7, 10, True, note=" (batch_size > N: one batch)"),
        _mb_case(rng, 6, 1, True, D=2, note=" (batch_size = 1)"),
        _mb_case(rng, 11, 5, True, M=2, note=", y of shape (N, 2)"),
    ]


def _summary(sizes) -> str:
    if not sizes:
        return "no batches"
    return f"{len(sizes)} batch{'es' if len(sizes) != 1 else ''} of sizes {', '.join(map(str, sizes))}"


def _rows(X: np.ndarray) -> dict:
    return {X[i].tobytes(): i for i in range(X.shape[0])}


def _mb_judge(ctx):
    """Batch count and sizes, rows of X each exactly once with their own y, then the order."""
    X, y, B = ctx.case.args[:3]
    shuffle = ctx.case.kwargs["shuffle"]
    N = X.shape[0]
    expected = ctx.reference.outputs
    exp_sizes = [int(xb.shape[0]) for xb, _ in expected]
    exp_order = np.concatenate([_rows_index(_rows(X), xb) for xb, _ in expected])
    got = ctx.outcome.outputs

    def fail(name, msg, got_text=""):
        return False, [Diagnosis(name, msg)], [OutputCheck("batches", False, _summary(exp_sizes), got_text)]

    # Each batch: arrays of the right kind and shape.
    for i, (xb, yb) in enumerate(got):
        for part, arr, full in (("Xb", xb, X), ("yb", yb, y)):
            if not is_array(arr):
                return fail("type", f"In batch {i}, {part} is a {type(arr).__name__}; it should be an array of "
                                    f"rows of {'X' if part == 'Xb' else 'y'} (index with an array: X[idx]).")
            if arr.ndim != full.ndim or arr.shape[1:] != full.shape[1:]:
                whole = "X" if part == "Xb" else "y"
                return fail("shape", f"In batch {i}, {part} has shape {arr.shape}; it should be "
                                     f"(batch rows,) + {full.shape[1:]} like the rows of {whole}.")
            if arr.dtype != full.dtype:
                return fail("dtype", f"In batch {i}, {part} has dtype {arr.dtype}; keep the dtype of the data "
                                     f"({full.dtype}).")
        if xb.shape[0] != yb.shape[0]:
            return fail("shape", f"Batch {i} has {xb.shape[0]} rows of X but {yb.shape[0]} of y: take the same "
                                 "rows of both.")
    got_sizes = [int(xb.shape[0]) for xb, _ in got]
    got_text = _summary(got_sizes)
    if got_sizes != exp_sizes:
        tail = N % B
        msg = f"You made {got_text}; N = {N} rows in batches of {B} make {_summary(exp_sizes)}."
        if got_sizes == exp_sizes[:-1] and tail:
            msg += f" The last, partial batch (N mod batch_size = {tail} rows) is missing: keep it."
        elif sum(got_sizes) > N:
            msg += " You produced more rows than X has: each row belongs to exactly one batch."
        elif 0 in got_sizes:
            msg += " Some batches are empty: stop when all rows have been used."
        return fail("count", msg, got_text)

    # Which rows of X each batch holds, and whether y came along.
    lookup = _rows(X)
    order = []
    for i, (xb, yb) in enumerate(got):
        idx = _rows_index(lookup, xb)
        if (idx < 0).any():
            return fail("values", f"Batch {i} contains rows that are not rows of X: batches must be rows of X "
                                  "itself, unchanged (X[idx]).", got_text)
        if not np.array_equal(yb, y[idx]):
            return fail("pairing", f"In batch {i}, yb is not y at the same rows as Xb: index X and y with the "
                                   "same index array, so every example keeps its own target.", got_text)
        order.append(idx)
    order = np.concatenate(order)
    counts = np.bincount(order, minlength=N)
    if (counts != 1).any():
        twice, never = np.flatnonzero(counts > 1), np.flatnonzero(counts == 0)
        return fail("coverage", f"Each row must appear in exactly one batch per epoch; rows {_few(twice)} appear "
                                f"more than once and rows {_few(never)} never. Split one permutation of "
                                "range(N) into consecutive slices.", got_text)
    if not np.array_equal(order, exp_order):
        if not shuffle:
            msg = ("With shuffle=False the batches must take the rows in their original order: "
                   "X[0:B], X[B:2B], ...")
            name = "order"
        elif np.array_equal(order, np.arange(N)):
            msg = "With shuffle=True the rows must be visited in a random order; yours are in the original order."
            name = "not_shuffled"
        else:
            msg = ("Your batches are a valid shuffle, but not the one the grader expects: draw the order with "
                   "exactly one call, idx = rng.permutation(N), using the rng argument (not np.random), and "
                   "take consecutive slices of it. Then the same seed gives the same batches everywhere.")
            name = "order"
        return fail(name, msg, got_text)
    return True, [], [OutputCheck("batches", True, _summary(exp_sizes), got_text)]


def _rows_index(lookup: dict, xb: np.ndarray) -> np.ndarray:
    return np.array([lookup.get(row.tobytes(), -1) for row in xb], dtype=np.int64)


def _few(indices) -> str:
    shown = ", ".join(str(int(i)) for i in indices[:5])
    return (shown + (", ..." if len(indices) > 5 else "")) or "none"


register(
    "gradient_descent.minibatches",
    lesson=LESSON,
    title="A mini-batch iterator",
    reference=minibatches,
    cases=_mb_cases,
    outputs=("batches",),
    arg_names=("X", "y", "batch_size"),
    protocol=Seeded(consume=True),
    judge=_mb_judge,
    hints=(
        "idx = rng.permutation(N) if shuffle else np.arange(N); then for start in range(0, N, batch_size): "
        "take rows = idx[start:start + batch_size] and yield X[rows], y[rows].",
        "range(0, N, batch_size) already gives the last, partial batch; do not drop it.",
    ),
)


# ---------------------------------------------------------------------------------------------
# gradient_descent.sgd_epoch


def sgd_epoch(w, X, y, batch_size, lr, rng):
    """One epoch of mini-batch SGD for linear regression with the mean squared error.

    - w: (D,) weights (not changed); X: (N, D) inputs; y: (N,) targets.
    - batch_size, lr: rows per batch, learning rate; rng: a ``numpy.random.Generator``.

    For each ``(Xb, yb)`` of ``minibatches(X, y, batch_size, shuffle=True, rng=rng)``, with B
    the rows in that batch::

        r = Xb @ w - yb;   loss = mean(r ** 2);   grad = 2 / B * Xb.T @ r;   w = w - lr * grad

    Returns ``(w, losses)``: the new weights (D,) and the K batch losses (K,), each measured
    before its batch's update.
    """
    xp = namespace(w, X, y)
    losses = []
    for Xb, yb in _reference_minibatches(X, y, batch_size, shuffle=True, rng=rng):
        r = Xb @ w - yb
        losses.append(xp.sum(r * r) / r.shape[0])
        w = w - lr * (2.0 / r.shape[0]) * (Xb.T @ r)
    return w, xp.stack(losses)


def _epoch_variant(*, shuffle=True, two=True, mean="rows", loss_after=False):
    """sgd_epoch with one of the usual mistakes switched on (mean: "rows", "batch_size" or "sum")."""

    def epoch(w, X, y, batch_size, lr, rng):
        losses = []
        for Xb, yb in _reference_minibatches(X, y, batch_size, shuffle=shuffle, rng=rng):
            n = {"rows": Xb.shape[0], "batch_size": batch_size, "sum": 1}[mean]
            r = Xb @ w - yb
            if not loss_after:
                losses.append(float(r @ r) / Xb.shape[0])
            w = w - lr * ((2.0 if two else 1.0) / n) * (Xb.T @ r)
            if loss_after:
                r = Xb @ w - yb
                losses.append(float(r @ r) / Xb.shape[0])
        return w, np.array(losses)

    return epoch


def _epoch_cases(rng):
    def case(N, D, B, lr, note):
        X = randn(rng, N, D)
        y = X @ randn(rng, D) + 0.3 * randn(rng, N)
        w = randn(rng, D, scale=0.5)
        seed = int(rng.integers(0, 2**31))
        return Case((w, X, y, B, lr), note=f"N = {N}, D = {D}, batch_size = {B}, lr = {lr}{note}", N=B,
                    extra={"seed": seed})

    n = int(rng.integers(13, 16))
    return [
        case(n, 3, 4, 0.1, " (last batch partial)"),
        case(12, 2, 3, 0.05, ""),
        case(8, 4, 1, 0.02, " (plain SGD: one row per step)"),
        case(10, 3, 10, 0.2, " (full batch: one step)"),
    ]


register(
    "gradient_descent.sgd_epoch",
    lesson=LESSON,
    title="One epoch of mini-batch SGD",
    reference=sgd_epoch,
    cases=_epoch_cases,
    outputs=("w", "losses"),
    arg_names=("w", "X", "y", "batch_size", "lr"),
    protocol=Seeded(),
    variants=(
        Variant("not_shuffled", _epoch_variant(shuffle=False),
                "Your epoch visits the rows in order: shuffle them, minibatches(X, y, batch_size, shuffle=True, "
                "rng=rng)."),
        Variant("gradient_factor_2", _epoch_variant(two=False),
                "Your gradient is missing the factor 2: the gradient of mean(r ** 2) is 2 / B * Xb.T @ r."),
        Variant("sum_not_mean", _epoch_variant(mean="sum"),
                "Your gradient is a sum over the batch: divide by B, the number of rows in the batch, as the "
                "loss is a mean."),
        Variant("divided_by_batch_size", _epoch_variant(mean="batch_size"),
                "You divide by batch_size; the last batch can be smaller: divide by the rows actually in "
                "the batch (len(yb))."),
        Variant("loss_after_update", _epoch_variant(loss_after=True),
                "Your losses are measured after each update; record each batch's loss before its step."),
    ),
    hints=(
        "Loop over minibatches(X, y, batch_size, shuffle=True, rng=rng); for each batch: r = Xb @ w - yb, "
        "loss = mean(r ** 2), grad = 2 / len(yb) * Xb.T @ r, w = w - lr * grad.",
        "Use w = w - lr * grad (a new array), not w -= ...: the caller's w must not change.",
        "Return the losses as an array: np.array(losses).",
    ),
)

__all__ = ["minibatches", "sgd_epoch", "Seeded"]
