"""``forward.*``: the loss *values* of lesson 01 (the forward pass).

The reference library's losses also return gradients, which the learner writes in lesson 03 as
``losses.mse_loss`` and ``losses.softmax_cross_entropy``; here only the value is graded.
"""

from __future__ import annotations

import numpy as np

from ...layers import log_softmax
from ...losses import mse_loss, softmax_cross_entropy
from ..cases import Case, randn, sizes
from ..registry import Variant, register

FORWARD = "01_forward_pass"

__all__ = ["mse_value", "cross_entropy_value"]


def mse_value(pred, target):
    """Mean squared error over every entry: mean((pred - target)**2), a Python float.

    - pred: (N, ...) predictions; target: same shape.
    """
    return mse_loss(pred, target)[0]


def cross_entropy_value(logits, y):
    """Softmax cross-entropy averaged over the batch, a Python float.

    - logits: (N, C) scores; y: (N,) integer labels in [0, C).
    loss = -(1/N) sum_i log softmax(logits)[i, y[i]].
    """
    return softmax_cross_entropy(logits, y)[0]


def _mse_value_cases(rng):
    N, D = sizes(rng, 2, 2, 6)

    def case(pred, target, note, n):
        factors = {float(pred.size): "you summed the squared errors; the mean divides by the number of entries."}
        if pred.ndim > 1 and pred.size != n:
            factors[float(pred.size // n)] = (
                "did you divide by N only? The mean is over all N * D entries (like PyTorch's MSELoss)."
            )
        return Case((pred, target), note=note, N=n, extra={"factors": factors})

    return [
        case(randn(rng, N, D), randn(rng, N, D), f"N = {N}, D = {D}", N),
        case(randn(rng, 1, D), randn(rng, 1, D), f"N = 1, D = {D}", 1),
        case(randn(rng, N + 3), randn(rng, N + 3), f"1-D predictions, N = {N + 3}", N + 3),
        case(randn(rng, 3, D, scale=100.0), randn(rng, 3, D, scale=100.0), "large values", 3),
    ]


def _ce_value_cases(rng):
    N, C = sizes(rng, 2, 2, 6)
    big = randn(rng, 4, C, scale=400.0)
    big[0, 0], big[1, -1] = 1000.0, -1000.0
    return [
        Case((randn(rng, N, C), rng.integers(0, C, N)), note=f"N = {N}, C = {C}", N=N),
        Case((randn(rng, 1, C), rng.integers(0, C, 1)), note=f"N = 1, C = {C}", N=1),
        Case((randn(rng, N + 3, 2), rng.integers(0, 2, N + 3)), note="C = 2 classes", N=N + 3),
        Case((big, rng.integers(0, C, 4)), note="large scores (|logits| up to 1000)", N=4),
    ]


register(
    "forward.mse_loss",
    lesson=FORWARD,
    title="Mean squared error (the value)",
    reference=mse_value,
    cases=_mse_value_cases,
    outputs=("loss",),
    arg_names=("pred", "target"),
    variants=(
        Variant(
            "rmse",
            lambda pred, target: float(np.sqrt(np.mean((pred - target) ** 2))),
            "You took the square root (that is the RMSE); the MSE is the mean of the squared errors.",
        ),
        Variant(
            "mae",
            lambda pred, target: float(np.mean(np.abs(pred - target))),
            "You averaged absolute errors; square the errors instead.",
        ),
    ),
    hints=(
        "loss = np.mean((pred - target) ** 2): the mean over every entry.",
        "Return a Python float: float(...).",
    ),
)

register(
    "forward.cross_entropy_loss",
    lesson=FORWARD,
    title="Softmax cross-entropy (the value)",
    reference=cross_entropy_value,
    cases=_ce_value_cases,
    outputs=("loss",),
    arg_names=("logits", "y"),
    variants=(
        Variant(
            "softmax_axis",
            lambda logits, y: float(-np.mean(log_softmax(logits, axis=0)[np.arange(len(y)), y])),
            "Your softmax normalises each column (axis 0); it should work on each row (one example): "
            "axis=1 with keepdims=True.",
        ),
        Variant(
            "mean_over_all_classes",
            lambda logits, y: float(-np.mean(log_softmax(logits, axis=1))),
            "You averaged log p over every class; take only the correct class of each row: "
            "logp[np.arange(N), y].",
        ),
    ),
    hints=(
        "logp = log_softmax(logits) (stable: subtract each row's maximum first), then "
        "loss = -np.mean(logp[np.arange(N), y]).",
        "Do not take np.log of a softmax: for large scores a probability underflows to 0 and log(0) = -inf.",
    ),
)
