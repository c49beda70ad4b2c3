"""Magnitude pruning: zero the smallest weights, and keep them at zero while training.

A *mask* has the shape of the weight and holds True for a weight that stays, False for one that
is pruned. Magnitude pruning keeps the weights of largest absolute value; the fraction pruned is
the *sparsity*. PyTorch's ``torch.nn.utils.prune.l1_unstructured(module, "weight", amount)``
does the same for one tensor: it prunes ``round(amount * n)`` entries of smallest ``|w|`` and
then computes ``weight = weight_orig * weight_mask`` before every forward pass, so the pruned
entries stay zero whatever the optimizer does. Here the same is done by hand, with
:func:`masked_update`: ``w <- (w - lr * g) * mask``.

    mask = magnitude_mask(W, 0.9)                # keep the 10% largest |W|
    W *= mask
    W = masked_update(W, dW, mask, lr=0.1)       # pruned weights stay exactly 0
"""

from __future__ import annotations

import numbers

import numpy as np

from .validation import check_same_shape, float_array

__all__ = ["magnitude_mask", "masked_update", "sparsity", "prune_params"]


def _fraction(name, value, fn):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0.0 <= value <= 1.0:
        raise ValueError(f"{fn}: {name} must be a number in [0, 1] (the fraction pruned), got {value!r}")
    return float(value)


def magnitude_mask(w, sparsity):
    """The mask that prunes the fraction ``sparsity`` of the entries of ``w`` with smallest ``|w|``.

    - w: array of any shape (e.g. a weight (D, M)).
    - sparsity: fraction in [0, 1]; exactly k = round(sparsity * w.size) entries are pruned
      (Python's round, half to even, as ``torch.nn.utils.prune`` does).

    Ties: when several entries have the same |w| at the cut, the ones that come first in
    row-major (flat) order are pruned first, so that exactly k entries go whatever the ties.

    Returns ``mask``: bool array like w, True = kept, with exactly w.size - k True entries.
    """
    fn = "magnitude_mask"
    w = float_array("w", w, fn=fn)
    s = _fraction("sparsity", sparsity, fn)
    k = int(round(s * w.size))
    mask = np.ones(w.size, dtype=bool)
    order = np.argsort(np.abs(np.asarray(w)).reshape(-1), kind="stable")  # smallest |w| first
    mask[order[:k]] = False
    return mask.reshape(w.shape)


def masked_update(w, g, mask, lr):
    """One SGD step that keeps the pruned weights at zero: ``w_new = (w - lr * g) * mask``.

    - w: weights, any shape; g: their gradient, same shape; mask: bool (or 0/1) like w.
    - lr: the learning rate.

    Both the weights and the step are masked, so a pruned weight is zero after the step even if
    it was not zero before, and it never grows back. Returns a new array; w is not modified.
    """
    fn = "masked_update"
    w = float_array("w", w, fn=fn)
    g = float_array("g", g, fn=fn, like=w)
    check_same_shape("g", g, "w", w, fn=fn)
    mask = np.asarray(mask)
    check_same_shape("mask", mask, "w", w, fn=fn)
    return (w - lr * g) * mask


def sparsity(params, names=None) -> float:
    """The fraction of exact zeros among the entries of ``params[name]`` for the given names
    (default: every key starting with "W", the weight matrices of :class:`course.model.MLP`)."""
    names = [k for k in params if k.startswith("W")] if names is None else list(names)
    total = sum(int(np.size(params[k])) for k in names)
    zeros = sum(int(np.sum(np.asarray(params[k]) == 0)) for k in names)
    return zeros / total if total else 0.0


def prune_params(params, amount, names=None) -> dict:
    """Prune each weight of ``params`` in place to the sparsity ``amount`` (layer by layer, as
    ``l1_unstructured`` on each layer); returns ``{name: mask}`` for :func:`masked_update`."""
    names = [k for k in params if k.startswith("W")] if names is None else list(names)
    masks = {}
    for k in names:
        masks[k] = magnitude_mask(params[k], amount)
        params[k] *= masks[k]
    return masks
