"""Gradient utilities: clipping (by global norm, by value), per-layer norms and gradient accumulation.

Gradients are a dict name -> array, as returned by a model's backward pass and taken by
``course.optim`` optimizers (a list or tuple of arrays works too). Clipping modifies the
arrays in place, like PyTorch's ``torch.nn.utils.clip_grad_norm_`` / ``clip_grad_value_``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

import numpy as np

from .backend import is_array, namespace
from .validation import check_same_shape, float_array, non_negative

__all__ = ["clip_grad_norm", "clip_grad_value", "layer_grad_norms", "GradientAccumulator"]

_WEIGHT_KEY = re.compile(r"^W(\d+)$")


def _arrays(fn, grads):
    """The gradient arrays of a dict (or list) as (name, array) pairs; they must be float arrays."""
    if isinstance(grads, Mapping):
        items = list(grads.items())
    elif isinstance(grads, (list, tuple)):
        items = list(enumerate(grads))
    elif is_array(grads):
        items = [(0, grads)]
    else:
        raise TypeError(f"{fn}: grads must be a dict name -> array (or a list of arrays), "
                        f"got {type(grads).__name__}")
    for key, g in items:
        if not is_array(g):
            raise TypeError(f"{fn}: grads[{key!r}] must be an array (it is modified in place), "
                            f"got {type(g).__name__}")
        float_array(f"grads[{key!r}]", g, fn=fn)
    return items


def layer_grad_norms(grads):
    """The norm of each layer's weight gradient, first layer first: what a plot of "gradient
    norm per layer" shows (lesson 09).

    - grads: dict with keys "W1", "W2", ..., "WL" (as :class:`course.model.MLP` names them; other
      keys such as "b1" or "gamma1" are ignored).

    Returns a float64 NumPy array (L,) whose entry l - 1 is sqrt(sum(grads["Wl"] ** 2)), the
    Frobenius norm. Layers are ordered by their number (W2 before W10), not alphabetically.
    """
    fn = "layer_grad_norms"
    if not isinstance(grads, Mapping):
        raise TypeError(f"{fn}: grads must be a dict with keys 'W1', 'W2', ..., got {type(grads).__name__}")
    layers = sorted((int(m.group(1)), key) for key in grads if (m := _WEIGHT_KEY.match(str(key))))
    numbers = [n for n, _ in layers]
    if numbers != list(range(1, len(numbers) + 1)):
        raise ValueError(f"{fn}: grads must have weight keys 'W1' .. 'WL' without gaps, got {sorted(grads)}")
    out = np.empty(len(layers))
    for i, (_, key) in enumerate(layers):
        g = float_array(f"grads[{key!r}]", grads[key], fn=fn)
        out[i] = math.sqrt(float(namespace(g).sum(g * g)))
    return out


def clip_grad_norm(grads, max_norm, norm_type=2.0, error_if_nonfinite=True):
    """Rescale all gradients together so that their global norm is at most ``max_norm``.

        total_norm = (sum over every entry of every array of |g|^p)^(1/p)    (p = norm_type)
                   = max |g| over all entries                               (p = inf)
        if total_norm > max_norm:  every g = g * max_norm / (total_norm + 1e-6)

    The norm is taken over all arrays at once (as if concatenated into one vector), so the
    direction of the full gradient is kept. Arrays are modified in place; PyTorch's
    ``clip_grad_norm_`` semantics, including its 1e-6 in the denominator.

    - grads: dict name -> array (or list of arrays); max_norm > 0; norm_type > 0 or ``inf``.
    - error_if_nonfinite: raise ValueError if the total norm is NaN or infinite (PyTorch's
      default is False, which would silently fill every gradient with NaN).

    Returns the total norm before clipping, a float.
    """
    fn = "clip_grad_norm"
    non_negative("max_norm", max_norm, fn=fn)
    p = float(norm_type)
    if not p > 0:
        raise ValueError(f"{fn}: norm_type must be > 0 or inf, got {norm_type!r}")
    items = _arrays(fn, grads)
    if not items:
        return 0.0
    if math.isinf(p):
        total = max(float(namespace(g).max(namespace(g).abs(g))) if g.size else 0.0 for _, g in items)
    else:
        total = sum(float(namespace(g).sum(namespace(g).abs(g) ** p)) for _, g in items) ** (1 / p)
    if not math.isfinite(total) and error_if_nonfinite:
        raise ValueError(f"{fn}: the total gradient norm is {total} (NaN or infinite gradients); "
                         "pass error_if_nonfinite=False to clip anyway")
    coef = max_norm / (total + 1e-6)
    if coef < 1:
        for _, g in items:
            g *= coef
    return total


def clip_grad_value(grads, clip_value):
    """Clip every gradient entry into [-clip_value, clip_value], in place.

    Unlike :func:`clip_grad_norm` this changes the gradient's direction. Returns None.
    """
    fn = "clip_grad_value"
    non_negative("clip_value", clip_value, fn=fn)
    for _, g in _arrays(fn, grads):
        xp = namespace(g)
        g[...] = xp.clip(g, -clip_value, clip_value)


class GradientAccumulator:
    """Accumulate gradients over micro-batches to get the gradient of one large batch.

    When a batch of N examples does not fit in memory, split it into micro-batches of
    sizes N_1, ..., N_k (N = sum N_k), compute each micro-batch's gradient and add it
    here with ``weight`` = its size::

        acc = GradientAccumulator()
        for xb, yb in micro_batches:
            loss, grads = loss_and_grads(params, xb, yb)   # mean loss over the micro-batch
            acc.add(grads, weight=len(xb))
        opt.step(acc.mean())
        acc.reset()

    For a loss that is a **mean** over examples, g_k = (1/N_k) sum_{n in k} grad l_n, so

        mean() = sum_k N_k g_k / sum_k N_k = (1/N) sum_n grad l_n

    which is exactly the large batch's mean gradient (up to rounding), even when the
    micro-batches have different sizes. Averaging the g_k *without* weights is only right
    when all micro-batches have the same size. For a loss that is a **sum** over examples,
    add with the default ``weight=1`` and use :meth:`sum`.

    Attributes: ``total`` (dict name -> weighted sum, or None before the first add),
    ``total_weight`` (sum of the weights), ``count`` (number of adds).
    """

    def __init__(self):
        self.reset()

    def reset(self):
        """Forget everything accumulated so far."""
        self.total = None
        self.total_weight = 0.0
        self.count = 0

    def add(self, grads, weight=1.0):
        """Add ``weight * grads`` (a dict name -> array) to the running sums.

        The first call fixes the keys and shapes; later calls must match them.
        """
        fn = "GradientAccumulator.add"
        non_negative("weight", weight, fn=fn)
        if not isinstance(grads, Mapping) or not grads:
            raise TypeError(f"{fn}: grads must be a non-empty dict name -> array, "
                            f"got {type(grads).__name__}")
        grads = {k: float_array(f"grads[{k!r}]", g, fn=fn) for k, g in grads.items()}
        if self.total is None:
            self.total = {k: weight * g for k, g in grads.items()}
        else:
            if set(grads) != set(self.total):
                raise ValueError(f"{fn}: grads has keys {sorted(map(str, grads))}, but the earlier "
                                 f"micro-batches had {sorted(map(str, self.total))}")
            for k, g in grads.items():
                check_same_shape(f"accumulated {k!r}", self.total[k], f"grads[{k!r}]", g, fn=fn)
                self.total[k] = self.total[k] + weight * g
        self.total_weight += weight
        self.count += 1

    def sum(self):
        """The weighted sum, sum_k weight_k * grads_k (a new dict of new arrays)."""
        if self.total is None:
            raise ValueError("GradientAccumulator.sum: nothing was added yet")
        return {k: namespace(t).asarray(t, copy=True) for k, t in self.total.items()}

    def mean(self):
        """The weighted mean, sum_k weight_k * grads_k / sum_k weight_k (a new dict)."""
        if self.total is None or self.total_weight == 0:
            raise ValueError("GradientAccumulator.mean: nothing was added yet (or all weights were 0)")
        return {k: t / self.total_weight for k, t in self.total.items()}
