"""Losses and their gradients (lesson 03). Each returns (loss, gradient); the learner's own
gradient is also compared with finite differences of the learner's own loss."""

from __future__ import annotations

import numpy as np

from ...losses import binary_cross_entropy_with_logits, mse_loss, softmax_cross_entropy
from ..cases import Case, randn, sizes
from ..registry import Variant, register
from ..run.runner import Call

LESSON = "03_backprop"
_WORDS = ("loss", "gradient")


def _mse_cases(rng):
    N, D = sizes(rng, 2, 2, 6)

    def case(pred, target, note, n):
        size = pred.size
        factors = {
            float(size): "did you forget to divide by the number of entries (N * D)? 'mean' averages "
            "over every entry.",
        }
        if pred.ndim > 1 and size != n:
            factors[float(size // n)] = (
                "did you divide by N only? The mean is over all N * D entries (like PyTorch's MSELoss)."
            )
        return Case((pred, target), note=note, N=n, extra={"factors": factors})

    return [
        case(randn(rng, N, D), randn(rng, N, D), f"N = {N}, D = {D}", N),
        case(randn(rng, 1, D), randn(rng, 1, D), "N = 1", 1),
        case(randn(rng, N + 3), randn(rng, N + 3), f"1-D predictions, N = {N + 3}", N + 3),
        case(randn(rng, 3, D, scale=100.0), randn(rng, 3, D, scale=100.0), "large values", 3),
    ]


register(
    "losses.mse_loss",
    lesson=LESSON,
    title="Mean squared error and its gradient",
    reference=mse_loss,
    cases=_mse_cases,
    outputs=("loss", "dpred"),
    arg_names=("pred", "target"),
    protocol=Call(self_fd=(0, 1, 0)),
    fd_words=_WORDS,
    variants=(
        Variant(
            "gradient_without_2",
            lambda pred, target: (mse_loss(pred, target)[0], (pred - target) / pred.size),
            "Your dpred misses the factor 2 from the derivative of the square: "
            "d/dpred (pred - target)**2 = 2 (pred - target).",
        ),
        Variant(
            "target_minus_pred",
            lambda pred, target: (mse_loss(pred, target)[0], 2.0 * (target - pred) / pred.size),
            "Your dpred uses (target - pred); the derivative with respect to pred is 2 (pred - target) / size.",
        ),
    ),
    hints=(
        "loss = mean((pred - target)**2) over every entry; dpred = 2 (pred - target) / pred.size.",
        "Return the loss as a Python float (float(...)) and dpred shaped like pred.",
    ),
)


def _ce_cases(rng):
    N, C = sizes(rng, 2, 2, 6)
    big = randn(rng, 4, C, scale=400.0)
    big[0, 0], big[1, -1] = 1000.0, -1000.0
    return [
        Case((randn(rng, N, C), rng.integers(0, C, N)), note=f"N = {N}, C = {C}", N=N),
        Case((randn(rng, 1, C), rng.integers(0, C, 1)), note="N = 1", N=1),
        Case((randn(rng, N, 2), rng.integers(0, 2, N)), note="C = 2 classes", N=N),
        Case((big, rng.integers(0, C, 4)), note="large scores (|logits| up to 1000)", N=4),
    ]


register(
    "losses.softmax_cross_entropy",
    lesson=LESSON,
    title="Softmax cross-entropy and its gradient",
    reference=softmax_cross_entropy,
    cases=_ce_cases,
    outputs=("loss", "dlogits"),
    arg_names=("logits", "y"),
    protocol=Call(self_fd=(0, 1, 0)),
    fd_words=_WORDS,
    variants=(
        Variant(
            "softmax_only",
            lambda logits, y: (
                softmax_cross_entropy(logits, y)[0],
                softmax_cross_entropy(logits, y)[1] + np.eye(logits.shape[1])[y] / len(y),
            ),
            "Your dlogits is softmax / N: subtract 1 at the correct class of each row "
            "(dlogits = (softmax - onehot(y)) / N).",
        ),
    ),
    hints=(
        "loss_i = logsumexp(logits_i) - logits_i[y_i], averaged over the N rows.",
        "Subtract the row maximum before exp so large scores do not overflow.",
        "dlogits = (softmax(logits) - onehot(y)) / N; index the correct classes with "
        "probs[np.arange(N), y].",
    ),
)


def _bce_cases(rng):
    N, D = sizes(rng, 2, 2, 6)
    big = randn(rng, 6, scale=400.0)
    big[0], big[1] = 1000.0, -1000.0
    return [
        Case((randn(rng, N), rng.integers(0, 2, N).astype(float)), note=f"N = {N}, labels 0/1", N=N),
        Case((randn(rng, 1), np.array([1.0])), note="N = 1", N=1),
        Case((randn(rng, N, D), rng.uniform(0, 1, (N, D))), note=f"(N, D) = ({N}, {D}), soft targets", N=N),
        Case((big, (rng.uniform(size=6) > 0.5).astype(float)), note="large scores (|logits| up to 1000)", N=6),
    ]


register(
    "losses.binary_cross_entropy_with_logits",
    lesson=LESSON,
    title="Binary cross-entropy with logits and its gradient",
    reference=binary_cross_entropy_with_logits,
    cases=_bce_cases,
    outputs=("loss", "dlogits"),
    arg_names=("logits", "y"),
    protocol=Call(self_fd=(0, 1, 0)),
    fd_words=_WORDS,
    hints=(
        "loss = mean(max(z, 0) - z * y + log(1 + exp(-|z|))): the same as -[y log s + (1 - y) log(1 - s)] "
        "with s = sigmoid(z), but it never takes log(0) or overflows.",
        "dlogits = (sigmoid(z) - y) / size.",
    ),
)
