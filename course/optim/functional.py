"""The pure update functions, one per method: ``w = rule(w, g, state, **hyperparameters)``
updates ``w`` and ``state`` in place and returns ``w`` (see :mod:`course.optim`)."""

from __future__ import annotations

import math

from ..backend import namespace
from ..validation import in_range
from .checks import (
    buffer,
    check_adagrad,
    check_adam,
    check_pair,
    check_rmsprop,
    check_sgd,
    hyper_non_negative,
    hyper_number,
)

__all__ = ["sgd", "momentum_classic", "momentum_ema", "adagrad", "rmsprop", "adam", "adamw"]


def sgd(w, g, state, *, lr, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0):
    """Stochastic gradient descent, with optional momentum, Nesterov and L2 weight decay.

    One step (PyTorch's ``torch.optim.SGD``)::

        g = g + weight_decay * w                          (if weight_decay != 0)
        if momentum != 0:
            b = g                                         on the first step (b not in state)
            b = momentum * b + (1 - dampening) * g        on later steps
            g = g + momentum * b    if nesterov   else   g = b
        w = w - lr * g

    - w: parameter array (any shape), updated in place; g: its gradient, same shape.
    - state: dict for this parameter; holds ``"momentum_buffer"`` (b) when momentum != 0.
      Pre-setting ``state["momentum_buffer"]`` (e.g. to zeros) skips the first-step copy.

    ``weight_decay`` is an L2 penalty ``weight_decay / 2 * sum(w**2)`` added to the loss
    (its gradient ``weight_decay * w`` is added to g). Returns w.
    """
    fn = "sgd"
    check_sgd(fn, lr=lr, momentum=momentum, dampening=dampening, nesterov=nesterov,
               weight_decay=weight_decay)
    w, g = check_pair(fn, w, g, state)
    xp = namespace(w, g)
    if weight_decay != 0:
        g = g + weight_decay * w
    if momentum != 0:
        if state.get("momentum_buffer") is None:
            b = xp.asarray(g, copy=True)  # first step: the buffer is the gradient itself
        else:
            b = momentum * state["momentum_buffer"] + (1 - dampening) * g
        state["momentum_buffer"] = b
        g = g + momentum * b if nesterov else b
    w -= lr * g
    return w


def momentum_classic(w, g, state, *, lr, mu):
    """Momentum in its classic "velocity" form::

        v = mu * v - lr * g          (v starts at zeros)
        w = w + v

    - w: parameter array, updated in place; g: its gradient; state: holds ``"velocity"`` (v).

    With a constant lr this is exactly ``sgd(lr=lr, momentum=mu, dampening=0)``, whose buffer
    is ``momentum_buffer = -v / lr``. (If lr changes between steps the two differ: here the
    old lr stays inside v, SGD applies the current lr to the whole buffer.) Returns w.
    """
    fn = "momentum_classic"
    hyper_non_negative("lr", lr, fn)
    hyper_non_negative("mu", mu, fn)
    w, g = check_pair(fn, w, g, state)
    v = state["velocity"] = mu * buffer(state, "velocity", w) - lr * g
    w += v
    return w


def momentum_ema(w, g, state, *, lr, beta):
    """Momentum as an exponential moving average (EMA) of the gradients::

        v = beta * v + (1 - beta) * g     (v starts at zeros)
        w = w - lr * v

    - w: parameter array, updated in place; g: its gradient; state: holds ``"velocity"`` (v).

    Mapping onto :func:`sgd` (constant lr), both exact:

    - ``sgd(lr=lr * (1 - beta), momentum=beta, dampening=0)``: the EMA is the SGD buffer
      scaled by (1 - beta), so the learning rate is rescaled instead;
    - ``sgd(lr=lr, momentum=beta, dampening=beta)`` with ``state["momentum_buffer"]`` set to
      zeros before the first step. From SGD's usual empty start the first buffer is g_1 itself
      (undamped), and the buffer stays ``v_t + beta**t * g_1``: a transient that fades.

    Returns w.
    """
    fn = "momentum_ema"
    hyper_non_negative("lr", lr, fn)
    in_range("beta", hyper_number("beta", beta, fn), 0.0, 1.0, fn=fn)
    w, g = check_pair(fn, w, g, state)
    v = state["velocity"] = beta * buffer(state, "velocity", w) + (1 - beta) * g
    w -= lr * v
    return w


def adagrad(w, g, state, *, lr=1e-2, lr_decay=0.0, weight_decay=0.0, eps=1e-10):
    """AdaGrad: per-coordinate steps shrink with the sum of squared gradients seen so far.

    One step (PyTorch's ``torch.optim.Adagrad``)::

        t = t + 1
        g = g + weight_decay * w                  (if weight_decay != 0)
        lr_t = lr / (1 + (t - 1) * lr_decay)
        s = s + g * g
        w = w - lr_t * g / (sqrt(s) + eps)

    - w: parameter array, updated in place; g: its gradient.
    - state: ``"step"`` (t, int) and ``"sum"`` (s). The :class:`Adagrad` class fills
      ``"sum"`` with ``initial_accumulator_value`` before the first step; if the key is
      missing here it starts at zeros (``initial_accumulator_value = 0``), and a missing
      ``"step"`` starts at 0.

    Returns w.
    """
    fn = "adagrad"
    check_adagrad(fn, lr=lr, lr_decay=lr_decay, weight_decay=weight_decay, eps=eps)
    w, g = check_pair(fn, w, g, state)
    xp = namespace(w, g)
    t = state["step"] = state.get("step", 0) + 1
    if weight_decay != 0:
        g = g + weight_decay * w
    lr_t = lr / (1 + (t - 1) * lr_decay)
    s = state["sum"] = buffer(state, "sum", w) + g * g
    w -= lr_t * (g / (xp.sqrt(s) + eps))
    return w


def rmsprop(w, g, state, *, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
            centered=False):
    """RMSprop: divide the gradient by a running root-mean-square of recent gradients.

    One step (PyTorch's ``torch.optim.RMSprop``)::

        t = t + 1                                 (counted, not used by the update)
        g = g + weight_decay * w                  (if weight_decay != 0)
        v = alpha * v + (1 - alpha) * g * g
        if centered:                              (divide by a running standard deviation)
            m = alpha * m + (1 - alpha) * g
            d = sqrt(v - m * m) + eps
        else:
            d = sqrt(v) + eps
        if momentum > 0:
            b = momentum * b + g / d
            w = w - lr * b
        else:
            w = w - lr * g / d

    - w: parameter array, updated in place; g: its gradient.
    - state: ``"step"``, ``"square_avg"`` (v), ``"grad_avg"`` (m, when centred),
      ``"momentum_buffer"`` (b, when momentum > 0); buffers start at zeros.

    Returns w.
    """
    fn = "rmsprop"
    check_rmsprop(fn, lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                   centered=centered)
    w, g = check_pair(fn, w, g, state)
    xp = namespace(w, g)
    state["step"] = state.get("step", 0) + 1
    if weight_decay != 0:
        g = g + weight_decay * w
    v = state["square_avg"] = alpha * buffer(state, "square_avg", w) + (1 - alpha) * g * g
    if centered:
        m = state["grad_avg"] = alpha * buffer(state, "grad_avg", w) + (1 - alpha) * g
        # v - m*m is a variance (>= 0), but rounding can leave it a hair below 0 when it is ~0:
        # clamp, where PyTorch's sqrt would give NaN
        d = xp.sqrt(xp.maximum(v - m * m, 0.0)) + eps
    else:
        d = xp.sqrt(v) + eps
    if momentum > 0:
        b = state["momentum_buffer"] = momentum * buffer(state, "momentum_buffer", w) + g / d
        w -= lr * b
    else:
        w -= lr * (g / d)
    return w


def adam(w, g, state, *, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False):
    """Adam: momentum (first moment) divided by a running RMS (second moment), bias-corrected.

    One step (PyTorch's ``torch.optim.Adam``), with ``beta1, beta2 = betas``::

        t = t + 1
        g = g + weight_decay * w                  (L2 penalty, if weight_decay != 0)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        if amsgrad:
            v_max = maximum(v_max, v);  v = v_max   (never let the denominator shrink)
        m_hat = m / (1 - beta1**t)
        v_hat = v / (1 - beta2**t)
        w = w - lr * m_hat / (sqrt(v_hat) + eps)

    - w: parameter array, updated in place; g: its gradient.
    - state: ``"step"`` (t, int), ``"exp_avg"`` (m), ``"exp_avg_sq"`` (v) and
      ``"max_exp_avg_sq"`` (v_max, with amsgrad); buffers start at zeros.

    Returns w.
    """
    fn = "adam"
    check_adam(fn, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad)
    w, g = check_pair(fn, w, g, state)
    return _adam_update(w, g, state, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad)


def _adam_update(w, g, state, *, lr, betas, eps, weight_decay, amsgrad):
    xp = namespace(w, g)
    beta1, beta2 = betas
    t = state["step"] = state.get("step", 0) + 1
    if weight_decay != 0:
        g = g + weight_decay * w
    # m = beta1 * m + (1 - beta1) * g  and  v = beta2 * v + (1 - beta2) * g * g, in place
    m = buffer(state, "exp_avg", w)
    m *= beta1
    m += (1 - beta1) * g
    v = buffer(state, "exp_avg_sq", w)
    v *= beta2
    v += (1 - beta2) * (g * g)
    if amsgrad:
        v = state["max_exp_avg_sq"] = xp.maximum(buffer(state, "max_exp_avg_sq", w), v)
    # w -= lr * m_hat / (sqrt(v_hat) + eps), with m_hat = m / (1 - beta1**t), v_hat = v / (1 - beta2**t),
    # computed as PyTorch does: the bias corrections are scalars folded into denom and the step size
    denom = xp.sqrt(v)
    denom /= math.sqrt(1 - beta2**t)
    denom += eps
    update = m / denom
    update *= lr / (1 - beta1**t)
    w -= update
    return w


def adamw(w, g, state, *, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False):
    """AdamW: Adam with *decoupled* weight decay (PyTorch's ``torch.optim.AdamW``)::

        w = w * (1 - lr * weight_decay)           (shrink the weights directly)
        then the Adam step of :func:`adam` with weight_decay = 0

    Unlike Adam's ``weight_decay`` (an L2 term added to g, which then gets divided by
    sqrt(v_hat)), every weight here decays at the same rate lr * weight_decay.
    State and shapes as in :func:`adam`. Returns w.
    """
    fn = "adamw"
    check_adam(fn, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad)
    w, g = check_pair(fn, w, g, state)
    w *= 1 - lr * weight_decay
    return _adam_update(w, g, state, lr=lr, betas=betas, eps=eps, weight_decay=0.0, amsgrad=amsgrad)
