"""Regularization: L1 and L2 penalties with their gradients, and early stopping.

Penalties take the parameters as a dict name -> array and return ``(loss, grads)``: the
penalty (a float, to add to the data loss) and a dict with a gradient for *every* key (zeros
for parameters left out), so combining is one line::

    loss_reg, grads_reg = l2_penalty(params, lam, names=["W1", "W2"])   # biases not penalised
    loss = data_loss + loss_reg
    grads = {k: grads[k] + grads_reg[k] for k in grads}

Conventions:

- L2: penalty = lam / 2 * sum w^2, so its gradient is lam * w. This is exactly what
  ``course.optim.SGD(..., weight_decay=lam)`` adds to the gradient (and ``Adam``'s
  ``weight_decay``, whose effect is then rescaled by Adam's denominator). ``AdamW``'s
  decoupled decay is *not* an L2 penalty: it shrinks w directly.
  (Some texts write lam * sum w^2 with gradient 2 lam w: that is this function with 2 lam.)
- L1: penalty = lam * sum |w|, gradient lam * sign(w), taking 0 at w = 0 (a subgradient).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from .backend import is_array, namespace
from .validation import choice, float_array, non_negative

__all__ = ["l1_penalty", "l2_penalty", "EarlyStopping"]


def _params(fn, params, lam, names):
    non_negative("lam", lam, fn=fn)
    if not isinstance(params, Mapping):
        raise TypeError(f"{fn}: params must be a dict name -> array, got {type(params).__name__}")
    params = {k: float_array(f"params[{k!r}]", w, fn=fn) for k, w in params.items()}
    if names is None:
        names = list(params)
    else:
        if isinstance(names, str):
            names = [names]
        unknown = [n for n in names if n not in params]
        if unknown:
            raise ValueError(f"{fn}: names {unknown!r} are not in params (keys {list(params)!r})")
    return params, set(names)


def l2_penalty(params, lam, names=None):
    """L2 penalty (weight decay) and its gradient.

        loss = lam / 2 * sum over the chosen arrays of sum(w**2)
        grads[k] = lam * w   for chosen k, zeros for the others

    - params: dict name -> array; lam >= 0; names: keys to penalise (default: all).

    Returns ``(loss, grads)``: a float and a dict with the keys of params.
    """
    fn = "l2_penalty"
    params, chosen = _params(fn, params, lam, names)
    loss, grads = 0.0, {}
    for k, w in params.items():
        xp = namespace(w)
        if k in chosen:
            loss += 0.5 * lam * float(xp.sum(w * w))
            grads[k] = lam * w
        else:
            grads[k] = xp.zeros_like(w)
    return loss, grads


def l1_penalty(params, lam, names=None):
    """L1 penalty (encourages exact zeros) and its (sub)gradient.

        loss = lam * sum over the chosen arrays of sum(|w|)
        grads[k] = lam * sign(w)   for chosen k (0 where w == 0), zeros for the others

    - params: dict name -> array; lam >= 0; names: keys to penalise (default: all).

    Returns ``(loss, grads)``: a float and a dict with the keys of params.
    """
    fn = "l1_penalty"
    params, chosen = _params(fn, params, lam, names)
    loss, grads = 0.0, {}
    for k, w in params.items():
        xp = namespace(w)
        if k in chosen:
            loss += lam * float(xp.sum(xp.abs(w)))
            grads[k] = lam * xp.sign(w)
        else:
            grads[k] = xp.zeros_like(w)
    return loss, grads


class EarlyStopping:
    """Stop training when a validation metric has stopped improving; remember the best weights.

    - patience: stop after this many checks in a row without improvement (int >= 1).
    - min_delta: an improvement must beat the best value by more than this (>= 0).
    - mode: ``"min"`` (a loss: lower is better) or ``"max"`` (an accuracy: higher is better).

    Usage::

        stopper = EarlyStopping(patience=5, min_delta=1e-4)
        for epoch in range(100):
            train_one_epoch(params)
            if stopper.step(val_loss(params), params):
                break
        stopper.restore(params)          # put the best weights back (in place)

    A value improves when ``value < best - min_delta`` (mode "min") or ``value > best +
    min_delta`` (mode "max"); the first value always does, a NaN never does.

    Attributes: ``best`` (best value so far, None before the first step), ``best_step``
    (index of that check, counting from 0), ``best_params`` (copies of the parameters
    at that check, when they were passed), ``num_bad`` (checks since the last improvement),
    ``n_steps`` (checks so far), ``should_stop``.
    """

    def __init__(self, patience=5, min_delta=0.0, mode="min"):
        fn = "EarlyStopping"
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 1:
            raise ValueError(f"{fn}: patience must be an int >= 1, got {patience!r}")
        self.patience = patience
        self.min_delta = non_negative("min_delta", min_delta, fn=fn)
        self.mode = choice("mode", mode, ("min", "max"), fn=fn)
        self.best = None
        self.best_step = None
        self.best_params = None
        self.num_bad = 0
        self.n_steps = 0
        self.should_stop = False

    def improved(self, value) -> bool:
        """Whether ``value`` beats the best so far by more than min_delta."""
        if math.isnan(value):
            return False
        if self.best is None:
            return True
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def step(self, value, params=None) -> bool:
        """Record one check of the metric; returns True when training should stop.

        - value: the metric (a number); params: optional dict name -> array, copied when
          ``value`` is the new best so that :meth:`restore` can bring it back.
        """
        value = float(value)
        if self.improved(value):
            self.best, self.best_step, self.num_bad = value, self.n_steps, 0
            if params is not None:
                if not isinstance(params, Mapping):
                    raise TypeError(f"EarlyStopping.step: params must be a dict name -> array, "
                                    f"got {type(params).__name__}")
                self.best_params = {k: namespace(w).asarray(w, copy=True) for k, w in params.items()}
        else:
            self.num_bad += 1
        self.n_steps += 1
        self.should_stop = self.num_bad >= self.patience
        return self.should_stop

    def restore(self, params):
        """Copy the best parameters back into ``params`` (in place) and return params."""
        fn = "EarlyStopping.restore"
        if self.best_params is None:
            raise ValueError(f"{fn}: no parameters were saved; pass params to step() to keep them")
        if not isinstance(params, Mapping) or set(params) != set(self.best_params):
            keys = list(params) if isinstance(params, Mapping) else type(params).__name__
            raise ValueError(f"{fn}: params must have the saved keys {list(self.best_params)}, "
                             f"got {keys}")
        for k, best in self.best_params.items():
            w = params[k]
            if not is_array(w) or tuple(w.shape) != tuple(best.shape):
                raise ValueError(f"{fn}: params[{k!r}] must be an array of shape {tuple(best.shape)}")
            w[...] = best
        return params
