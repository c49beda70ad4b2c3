"""Argument checks shared by the optimizers' pure functions and classes: hyper-parameters
(numbers, ranges, betas), the (w, g, state) triple, and state buffers created on first use."""

from __future__ import annotations

import math

from ..backend import is_array, namespace
from ..validation import check_same_shape, float_array, in_range, non_negative

__all__ = [
    "hyper_number",
    "hyper_non_negative",
    "check_betas",
    "check_sgd",
    "check_adagrad",
    "check_rmsprop",
    "check_adam",
    "check_pair",
    "buffer",
]


def hyper_number(name, value, fn):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        # NumPy scalars are fine; lists, strings and arrays of several values are not.
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise TypeError(f"{fn}: {name} must be a number, got {type(value).__name__}") from None
    if math.isnan(value):
        raise ValueError(f"{fn}: {name} must be a number, got nan")
    return value


def hyper_non_negative(name, value, fn):
    return non_negative(name, hyper_number(name, value, fn), fn=fn)


def check_betas(betas, fn):
    try:
        beta1, beta2 = betas
    except (TypeError, ValueError):
        raise ValueError(f"{fn}: betas must be a pair (beta1, beta2), got {betas!r}") from None
    in_range("betas[0]", hyper_number("betas[0]", beta1, fn), 0.0, 1.0, fn=fn)
    in_range("betas[1]", hyper_number("betas[1]", beta2, fn), 0.0, 1.0, fn=fn)
    return beta1, beta2


def check_sgd(fn, *, lr, momentum, dampening, nesterov, weight_decay):
    hyper_non_negative("lr", lr, fn)
    hyper_non_negative("momentum", momentum, fn)
    hyper_number("dampening", dampening, fn)
    hyper_non_negative("weight_decay", weight_decay, fn)
    if nesterov and (momentum <= 0 or dampening != 0):
        raise ValueError(
            f"{fn}: nesterov=True needs momentum > 0 and dampening = 0, "
            f"got momentum={momentum!r}, dampening={dampening!r}"
        )


def check_adagrad(fn, *, lr, lr_decay, weight_decay, eps):
    hyper_non_negative("lr", lr, fn)
    hyper_non_negative("lr_decay", lr_decay, fn)
    hyper_non_negative("weight_decay", weight_decay, fn)
    hyper_non_negative("eps", eps, fn)


def check_rmsprop(fn, *, lr, alpha, eps, weight_decay, momentum, centered):
    hyper_non_negative("lr", lr, fn)
    in_range("alpha", hyper_number("alpha", alpha, fn), 0.0, 1.0, fn=fn)
    hyper_non_negative("eps", eps, fn)
    hyper_non_negative("weight_decay", weight_decay, fn)
    hyper_non_negative("momentum", momentum, fn)


def check_adam(fn, *, lr, betas, eps, weight_decay, amsgrad):
    hyper_non_negative("lr", lr, fn)
    check_betas(betas, fn)
    hyper_non_negative("eps", eps, fn)
    hyper_non_negative("weight_decay", weight_decay, fn)


def check_pair(fn, w, g, state):
    """w must be a float array (it is updated in place); g an array of the same shape."""
    if not isinstance(state, dict):
        raise TypeError(f"{fn}: state must be a dict (start with state = {{}}), "
                        f"got {type(state).__name__}")
    if not is_array(w):
        raise TypeError(f"{fn}: w must be an array (it is updated in place), got {type(w).__name__}")
    w = float_array("w", w, fn=fn)
    g = float_array("g", g, fn=fn, like=w)
    check_same_shape("w", w, "g", g, fn=fn)
    namespace(w, g)  # a clear error if w and g come from different backends
    return w, g


def buffer(state, name, w):
    """``state[name]``, created as zeros shaped like the parameter w on first use."""
    if state.get(name) is None:
        state[name] = namespace(w).zeros_like(w)
    return state[name]
