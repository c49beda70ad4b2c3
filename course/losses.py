"""Loss functions. Each returns ``(loss, dinput)``: the scalar loss and its gradient.

Values agree with ``torch.nn.functional`` for the same ``reduction``:
``"mean"`` averages over all elements (MSE) or over the batch (cross-entropy), ``"sum"`` adds them.
"""

from __future__ import annotations

from .backend import namespace
from .layers.activations import log_softmax, sigmoid
from .validation import as_array, check_ndim, check_same_shape, choice, float_array, int_labels

__all__ = ["mse_loss", "softmax_cross_entropy", "binary_cross_entropy_with_logits"]

_REDUCTIONS = ("mean", "sum")


def mse_loss(pred, target, reduction="mean"):
    """Mean squared error.

    - pred: (N, ...) predictions; target: same shape as pred.
    - reduction: "mean" -> sum((pred - target)**2) / pred.size, "sum" -> sum((pred - target)**2).

    Returns ``(loss, dpred)``: loss a Python float, dpred like pred = 2 (pred - target) / size
    (without the division for "sum").
    """
    fn = "mse_loss"
    choice("reduction", reduction, _REDUCTIONS, fn=fn)
    pred = float_array("pred", pred, fn=fn)
    target = float_array("target", target, fn=fn, like=pred)
    check_same_shape("pred", pred, "target", target, fn=fn)
    xp = namespace(pred, target)
    diff = pred - target
    scale = 1.0 / diff.size if reduction == "mean" and diff.size else 1.0
    loss = float(xp.sum(diff * diff)) * scale
    return loss, (2.0 * scale) * diff


def softmax_cross_entropy(logits, y, reduction="mean"):
    """Softmax followed by the negative log-likelihood of the correct class.

    - logits: (N, C) unnormalised scores; y: (N,) integer labels in [0, C).
    - loss_i = -log softmax(logits_i)[y_i] = logsumexp(logits_i) - logits_i[y_i]
    - reduction: "mean" averages over N, "sum" adds.

    Returns ``(loss, dlogits)`` with dlogits (N, C) = (softmax(logits) - onehot(y)) / N
    (no 1/N for "sum"). Computed through log-softmax, so logits of magnitude 1e4 stay finite.
    """
    fn = "softmax_cross_entropy"
    choice("reduction", reduction, _REDUCTIONS, fn=fn)
    logits = float_array("logits", logits, fn=fn)
    check_ndim("logits", logits, 2, "(N, C)", fn=fn)
    N, C = logits.shape
    y = int_labels("y", y, C, N, fn=fn, like=logits)
    xp = namespace(logits, y)
    logp = log_softmax(logits, axis=1)
    onehot = xp.astype(y[:, None] == xp.arange(C, device=y.device)[None, :], logits.dtype)
    scale = 1.0 / N if reduction == "mean" and N else 1.0
    loss = -float(xp.sum(logp * onehot)) * scale
    dlogits = (xp.exp(logp) - onehot) * scale
    return loss, dlogits


def binary_cross_entropy_with_logits(logits, y, reduction="mean"):
    """Sigmoid followed by binary cross-entropy, in one stable expression.

    - logits: (N, ...) scores; y: same shape, targets in [0, 1] (floats; 0/1 labels are fine).
    - loss = max(z, 0) - z*y + log(1 + exp(-|z|)), equal to
      -[y log sigmoid(z) + (1 - y) log(1 - sigmoid(z))] without overflow for large |z|.
    - reduction: "mean" averages over all elements, "sum" adds.

    Returns ``(loss, dlogits)`` with dlogits like logits = (sigmoid(z) - y) / size
    (no division for "sum").
    """
    fn = "binary_cross_entropy_with_logits"
    choice("reduction", reduction, _REDUCTIONS, fn=fn)
    z = float_array("logits", logits, fn=fn)
    y = as_array("y", y, fn=fn, like=z)
    xp = namespace(z, y)
    if xp.isdtype(y.dtype, ("integral", "bool")):
        y = xp.astype(y, z.dtype)
    y = float_array("y", y, fn=fn)
    check_same_shape("logits", z, "y", y, fn=fn)
    if bool(xp.any(y < 0)) or bool(xp.any(y > 1)):
        raise ValueError(
            f"{fn}: y must hold targets in [0, 1], got values from {float(xp.min(y))} to {float(xp.max(y))}"
        )
    per_element = xp.maximum(z, xp.zeros_like(z)) - z * y + xp.log1p(xp.exp(-xp.abs(z)))
    scale = 1.0 / z.size if reduction == "mean" and z.size else 1.0
    return float(xp.sum(per_element)) * scale, (sigmoid(z) - y) * scale
