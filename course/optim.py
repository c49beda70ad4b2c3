"""Optimizers: one small pure update function per method, and PyTorch-like classes over them.

Two layers, one formula:

1. **Pure update functions** (what the lessons mirror one to one)::

       state = {}
       for t in range(100):
           w = adam(w, grad(w), state, lr=1e-2)     # updates w and state in place, returns w

   ``w`` is one parameter array (any shape), ``g`` its gradient (same shape) and ``state`` a
   dict holding that parameter's running buffers under PyTorch's names (``momentum_buffer``,
   ``sum``, ``square_avg``, ``grad_avg``, ``exp_avg``, ``exp_avg_sq``, ``max_exp_avg_sq``) and
   ``state["step"]``, a Python int incremented *before* it is used for bias correction, as
   PyTorch does. Missing buffers are created on the first call with ``xp.zeros_like(w)``.
   ``w`` is updated in place (``w -= ...``), so it must be an array of floats; the gradient is
   never modified. Hyper-parameters are keyword-only.

2. **Classes** over named parameters, used like ``torch.optim``::

       params = {"W": W, "b": b}                  # dict name -> array, updated in place
       opt = Adam(params, lr=1e-3)
       opt.step({"W": dW, "b": db})               # a gradient for every parameter
       opt.lr = 1e-4                              # readable and writable (schedules use it)
       opt.state["W"]["exp_avg"]                  # PyTorch's state names
       saved = opt.state_dict(); opt.load_state_dict(saved)   # exact round trip

   ``opt.hyperparams`` holds the current hyper-parameters (PyTorch keeps them in
   ``param_groups[0]``; there are no parameter groups here) and ``opt.defaults`` the values
   given to the constructor. Each class's ``step`` calls its pure function with
   ``opt.hyperparams``, so there is exactly one formula per method.

The update rules, defaults and edge cases follow the algorithms documented for ``torch.optim``
(the first momentum step copies the gradient, Nesterov, dampening, L2 ``weight_decay`` versus
AdamW's decoupled decay, AMSGrad, centred RMSprop, Adagrad's ``lr_decay``); the tests check a
sequence of steps against PyTorch to 1e-10 in float64.

Momentum written the two other ways the course uses (see :func:`momentum_classic` and
:func:`momentum_ema`) maps onto :func:`sgd` as follows, for a constant learning rate:

- classic ``v = mu * v - lr * g; w = w + v`` (v_0 = 0) is exactly
  ``sgd(lr=lr, momentum=mu, dampening=0)``, with ``v = -lr * momentum_buffer``;
- EMA ``v = beta * v + (1 - beta) * g; w = w - lr * v`` (v_0 = 0) is exactly
  ``sgd(lr=lr * (1 - beta), momentum=beta, dampening=0)``, with ``v = (1 - beta) * momentum_buffer``;
  it is also ``sgd(lr=lr, momentum=beta, dampening=beta)`` *provided the buffer starts at
  zeros*: SGD's first step copies the gradient undamped (buffer_1 = g_1, not (1 - beta) g_1),
  so from SGD's usual empty start the buffer is ``v_t + beta**t * g_1`` instead of ``v_t``.

Second-order methods for full-batch problems: :func:`newton_step` and :func:`lbfgs`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

from .backend import is_array, namespace
from .validation import check_ndim, check_same_shape, check_shape, float_array, in_range, non_negative

__all__ = [
    "sgd",
    "momentum_classic",
    "momentum_ema",
    "adagrad",
    "rmsprop",
    "adam",
    "adamw",
    "Optimizer",
    "SGD",
    "Adagrad",
    "RMSprop",
    "Adam",
    "AdamW",
    "newton_step",
    "lbfgs",
]


# ---------------------------------------------------------------------------------------------
# Hyper-parameter checks (shared by the pure functions and the classes)
# ---------------------------------------------------------------------------------------------


def _number(name, value, fn):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        # NumPy scalars are fine; lists, strings and arrays of several values are not.
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise TypeError(f"{fn}: {name} must be a number, got {type(value).__name__}") from None
    if math.isnan(value):
        raise ValueError(f"{fn}: {name} must be a number, got nan")
    return value


def _non_negative(name, value, fn):
    return non_negative(name, _number(name, value, fn), fn=fn)


def _check_betas(betas, fn):
    try:
        beta1, beta2 = betas
    except (TypeError, ValueError):
        raise ValueError(f"{fn}: betas must be a pair (beta1, beta2), got {betas!r}") from None
    in_range("betas[0]", _number("betas[0]", beta1, fn), 0.0, 1.0, fn=fn)
    in_range("betas[1]", _number("betas[1]", beta2, fn), 0.0, 1.0, fn=fn)
    return beta1, beta2


def _check_sgd(fn, *, lr, momentum, dampening, nesterov, weight_decay):
    _non_negative("lr", lr, fn)
    _non_negative("momentum", momentum, fn)
    _number("dampening", dampening, fn)
    _non_negative("weight_decay", weight_decay, fn)
    if nesterov and (momentum <= 0 or dampening != 0):
        raise ValueError(
            f"{fn}: nesterov=True needs momentum > 0 and dampening = 0, "
            f"got momentum={momentum!r}, dampening={dampening!r}"
        )


def _check_adagrad(fn, *, lr, lr_decay, weight_decay, eps):
    _non_negative("lr", lr, fn)
    _non_negative("lr_decay", lr_decay, fn)
    _non_negative("weight_decay", weight_decay, fn)
    _non_negative("eps", eps, fn)


def _check_rmsprop(fn, *, lr, alpha, eps, weight_decay, momentum, centered):
    _non_negative("lr", lr, fn)
    in_range("alpha", _number("alpha", alpha, fn), 0.0, 1.0, fn=fn)
    _non_negative("eps", eps, fn)
    _non_negative("weight_decay", weight_decay, fn)
    _non_negative("momentum", momentum, fn)


def _check_adam(fn, *, lr, betas, eps, weight_decay, amsgrad):
    _non_negative("lr", lr, fn)
    _check_betas(betas, fn)
    _non_negative("eps", eps, fn)
    _non_negative("weight_decay", weight_decay, fn)


def _check_pair(fn, w, g, state):
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


def _buffer(state, name, w):
    """``state[name]``, created as zeros shaped like the parameter w on first use."""
    if state.get(name) is None:
        state[name] = namespace(w).zeros_like(w)
    return state[name]


# ---------------------------------------------------------------------------------------------
# Pure update functions: w and state updated in place, w returned
# ---------------------------------------------------------------------------------------------


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
    _check_sgd(fn, lr=lr, momentum=momentum, dampening=dampening, nesterov=nesterov,
               weight_decay=weight_decay)
    w, g = _check_pair(fn, w, g, state)
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
    _non_negative("lr", lr, fn)
    _non_negative("mu", mu, fn)
    w, g = _check_pair(fn, w, g, state)
    v = state["velocity"] = mu * _buffer(state, "velocity", w) - lr * g
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
    _non_negative("lr", lr, fn)
    in_range("beta", _number("beta", beta, fn), 0.0, 1.0, fn=fn)
    w, g = _check_pair(fn, w, g, state)
    v = state["velocity"] = beta * _buffer(state, "velocity", w) + (1 - beta) * g
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
    _check_adagrad(fn, lr=lr, lr_decay=lr_decay, weight_decay=weight_decay, eps=eps)
    w, g = _check_pair(fn, w, g, state)
    xp = namespace(w, g)
    t = state["step"] = state.get("step", 0) + 1
    if weight_decay != 0:
        g = g + weight_decay * w
    lr_t = lr / (1 + (t - 1) * lr_decay)
    s = state["sum"] = _buffer(state, "sum", w) + g * g
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
    _check_rmsprop(fn, lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                   centered=centered)
    w, g = _check_pair(fn, w, g, state)
    xp = namespace(w, g)
    state["step"] = state.get("step", 0) + 1
    if weight_decay != 0:
        g = g + weight_decay * w
    v = state["square_avg"] = alpha * _buffer(state, "square_avg", w) + (1 - alpha) * g * g
    if centered:
        m = state["grad_avg"] = alpha * _buffer(state, "grad_avg", w) + (1 - alpha) * g
        d = xp.sqrt(v - m * m) + eps
    else:
        d = xp.sqrt(v) + eps
    if momentum > 0:
        b = state["momentum_buffer"] = momentum * _buffer(state, "momentum_buffer", w) + g / d
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
    _check_adam(fn, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad)
    w, g = _check_pair(fn, w, g, state)
    return _adam_update(w, g, state, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad)


def _adam_update(w, g, state, *, lr, betas, eps, weight_decay, amsgrad):
    xp = namespace(w, g)
    beta1, beta2 = betas
    t = state["step"] = state.get("step", 0) + 1
    if weight_decay != 0:
        g = g + weight_decay * w
    # m = beta1 * m + (1 - beta1) * g  and  v = beta2 * v + (1 - beta2) * g * g, in place
    m = _buffer(state, "exp_avg", w)
    m *= beta1
    m += (1 - beta1) * g
    v = _buffer(state, "exp_avg_sq", w)
    v *= beta2
    v += (1 - beta2) * (g * g)
    if amsgrad:
        v = state["max_exp_avg_sq"] = xp.maximum(_buffer(state, "max_exp_avg_sq", w), v)
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
    _check_adam(fn, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad)
    w, g = _check_pair(fn, w, g, state)
    w *= 1 - lr * weight_decay
    return _adam_update(w, g, state, lr=lr, betas=betas, eps=eps, weight_decay=0.0, amsgrad=amsgrad)


# ---------------------------------------------------------------------------------------------
# Classes over named parameters
# ---------------------------------------------------------------------------------------------


def _copy(value):
    """Arrays copied, everything else (ints, floats, tuples) kept as is."""
    if is_array(value):
        return namespace(value).asarray(value, copy=True)
    return value


def _keys(keys) -> str:
    return ", ".join(repr(k) for k in keys)


class Optimizer:
    """Base class: named parameters, hyper-parameters and per-parameter state.

    Subclasses set ``rule`` (the pure update function) and ``check`` (its hyper-parameter
    check); :meth:`step` calls ``rule(w, g, state[name], **hyperparams)`` for each parameter.

    Attributes:
    - params: the dict name -> array given to the constructor; arrays are updated in place.
    - hyperparams: dict of the current hyper-parameters (the rule's keyword arguments).
    - defaults: the hyper-parameters given to the constructor (a copy).
    - state: dict name -> dict of that parameter's buffers (PyTorch's names).
    - lr: the learning rate, readable and writable (``hyperparams["lr"]``).
    """

    rule: Callable = None
    check: Callable = None

    def __init__(self, params, **hyperparams):
        name = type(self).__name__
        type(self).check(name, **hyperparams)
        self.params = _check_params(params, name)
        self.hyperparams = dict(hyperparams)
        self.defaults = dict(hyperparams)
        self.state = {key: {} for key in self.params}

    @property
    def lr(self):
        return self.hyperparams["lr"]

    @lr.setter
    def lr(self, value):
        self.hyperparams["lr"] = _non_negative("lr", value, f"{type(self).__name__}.lr")

    def __repr__(self):
        hp = ", ".join(f"{k}={v!r}" for k, v in self.hyperparams.items())
        return f"{type(self).__name__}({len(self.params)} parameters, {hp})"

    def step(self, grads):
        """Update every parameter in place from ``grads``, a dict with the same keys and shapes."""
        fn = f"{type(self).__name__}.step"
        grads = _check_grads(grads, self.params, fn)
        for key, w in self.params.items():
            type(self).rule(w, grads[key], self.state[key], **self.hyperparams)

    def state_dict(self):
        """A deep copy of the optimizer: its type, hyper-parameters and state (arrays copied)."""
        return {
            "optimizer": type(self).__name__,
            "hyperparams": dict(self.hyperparams),
            "state": {key: {k: _copy(v) for k, v in s.items()} for key, s in self.state.items()},
        }

    def load_state_dict(self, state_dict):
        """Restore exactly what :meth:`state_dict` saved (arrays are copied in).

        Raises ValueError when the saved optimizer type, the parameter names or a buffer's
        shape do not match this optimizer.
        """
        fn = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state_dict, Mapping) or not {"hyperparams", "state"} <= set(state_dict):
            raise ValueError(f"{fn}: state_dict must be a dict from state_dict() with keys "
                             f"'hyperparams' and 'state', got {type(state_dict).__name__}")
        saved_type = state_dict.get("optimizer", type(self).__name__)
        if saved_type != type(self).__name__:
            raise ValueError(f"{fn}: state_dict was saved by {saved_type}, not {type(self).__name__}")
        hyperparams = dict(state_dict["hyperparams"])
        if set(hyperparams) != set(self.hyperparams):
            raise ValueError(f"{fn}: hyperparams must have keys {_keys(self.hyperparams)}, "
                             f"got {_keys(hyperparams)}")
        type(self).check(fn, **hyperparams)
        state = state_dict["state"]
        _check_same_keys(state, self.params, "state_dict['state']", fn)
        new_state = {}
        for key, w in self.params.items():
            new_state[key] = {}
            for k, v in state[key].items():
                if is_array(v):
                    check_same_shape(f"params[{key!r}]", w, f"state_dict['state'][{key!r}][{k!r}]", v,
                                     fn=fn)
                    v = namespace(w).asarray(v, copy=True)
                new_state[key][k] = v
        self.hyperparams = hyperparams
        self.state = new_state


def _check_params(params, fn):
    if not isinstance(params, Mapping):
        raise TypeError(f"{fn}: params must be a dict name -> array, got {type(params).__name__}")
    if not params:
        raise ValueError(f"{fn}: params is empty; give at least one parameter array")
    for key, w in params.items():
        if not is_array(w):
            raise TypeError(f"{fn}: params[{key!r}] must be an array (it is updated in place), "
                            f"got {type(w).__name__}")
        float_array(f"params[{key!r}]", w, fn=fn)
    return params


def _check_same_keys(given, params, what, fn):
    if not isinstance(given, Mapping):
        raise TypeError(f"{fn}: {what} must be a dict name -> array, got {type(given).__name__}")
    missing = [k for k in params if k not in given]
    extra = [k for k in given if k not in params]
    if missing:
        raise ValueError(f"{fn}: {what} is missing key(s) {_keys(missing)}; "
                         f"expected one entry per parameter: {_keys(params)}")
    if extra:
        raise ValueError(f"{fn}: {what} has unexpected key(s) {_keys(extra)} that are not "
                         f"parameters; the parameters are {_keys(params)}")


def _check_grads(grads, params, fn):
    _check_same_keys(grads, params, "grads", fn)
    checked = {}
    for key, w in params.items():
        g = float_array(f"grads[{key!r}]", grads[key], fn=fn, like=w)
        check_same_shape(f"params[{key!r}]", w, f"grads[{key!r}]", g, fn=fn)
        checked[key] = g
    return checked


class SGD(Optimizer):
    """SGD with optional momentum, dampening, Nesterov and L2 weight decay (see :func:`sgd`).

    State per parameter: ``"momentum_buffer"`` once a step with momentum != 0 was taken.
    """

    rule = staticmethod(sgd)
    check = staticmethod(_check_sgd)

    def __init__(self, params, lr, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0):
        super().__init__(params, lr=lr, momentum=momentum, dampening=dampening, nesterov=nesterov,
                         weight_decay=weight_decay)


class Adagrad(Optimizer):
    """AdaGrad (see :func:`adagrad`).

    State per parameter, created here as PyTorch does: ``"step"`` = 0 and ``"sum"`` filled
    with ``initial_accumulator_value``.
    """

    rule = staticmethod(adagrad)
    check = staticmethod(_check_adagrad)

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0,
                 eps=1e-10):
        super().__init__(params, lr=lr, lr_decay=lr_decay, weight_decay=weight_decay, eps=eps)
        fn = type(self).__name__
        self.initial_accumulator_value = _non_negative(
            "initial_accumulator_value", initial_accumulator_value, fn)
        for key, w in self.params.items():
            xp = namespace(w)
            self.state[key] = {"step": 0, "sum": xp.full_like(w, initial_accumulator_value)}


class RMSprop(Optimizer):
    """RMSprop, optionally centred and with momentum (see :func:`rmsprop`).

    State per parameter: ``"step"``, ``"square_avg"``, plus ``"momentum_buffer"`` when
    momentum > 0 and ``"grad_avg"`` when centred.
    """

    rule = staticmethod(rmsprop)
    check = staticmethod(_check_rmsprop)

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                 centered=False):
        super().__init__(params, lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                         momentum=momentum, centered=centered)


class Adam(Optimizer):
    """Adam with optional L2 weight decay and AMSGrad (see :func:`adam`).

    State per parameter: ``"step"``, ``"exp_avg"``, ``"exp_avg_sq"``, plus ``"max_exp_avg_sq"``
    with amsgrad.
    """

    rule = staticmethod(adam)
    check = staticmethod(_check_adam)

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False):
        super().__init__(params, lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad)


class AdamW(Optimizer):
    """AdamW: Adam with decoupled weight decay, default 1e-2 (see :func:`adamw`). State as Adam."""

    rule = staticmethod(adamw)
    check = staticmethod(_check_adam)

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False):
        super().__init__(params, lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad)


# ---------------------------------------------------------------------------------------------
# Second-order methods for full-batch problems
# ---------------------------------------------------------------------------------------------


def newton_step(w, grad, hessian):
    """One Newton step: jump to the minimum of the local quadratic model.

        w_new = w - H^{-1} g       computed by solving H d = g (never inverting H)

    - w: (D,) current point; grad: (D,) gradient at w; hessian: (D, D) Hessian at w.

    Returns the new point (D,) (w itself is not modified). On a quadratic with a positive
    definite Hessian this lands on the minimum in one step; where H is indefinite (a saddle)
    the step goes to the stationary point, which is why plain Newton is attracted to saddles.
    Raises ValueError when H is singular (or numerically so).
    """
    fn = "newton_step"
    w = float_array("w", w, fn=fn)
    grad = float_array("grad", grad, fn=fn, like=w)
    hessian = float_array("hessian", hessian, fn=fn, like=w)
    xp = namespace(w, grad, hessian)
    check_ndim("w", w, 1, "(D,)", fn=fn)
    D = w.shape[0]
    check_shape("grad", grad, (D,), "(D,)", fn=fn, why="like w")
    check_shape("hessian", hessian, (D, D), "(D, D)", fn=fn, why="to match w")
    s = xp.linalg.svdvals(hessian)
    s_max, s_min = float(xp.max(s)), float(xp.min(s))
    if not math.isfinite(s_max) or s_min <= s_max * D * 2.220446049250313e-16:
        raise ValueError(f"{fn}: hessian is singular (singular values from {s_min:.3g} to {s_max:.3g}), "
                         "so the Newton step is not defined; use a gradient step or add a damping "
                         "term lam * I to the Hessian")
    d = xp.linalg.solve(hessian, grad[:, None])[:, 0]
    return w - d


def _dot(a, b):
    return float(namespace(a, b).sum(a * b))


def lbfgs(f_and_grad, w0, *, history=10, max_iter=100, tol=1e-8, line_search="wolfe"):
    """Minimise a smooth function with L-BFGS (limited-memory BFGS), full batch.

    - f_and_grad: callable w -> (f, g) with f a number and g the gradient, shape (D,).
    - w0: (D,) starting point (not modified).
    - history: number m of recent pairs (s, y) kept; s = w_new - w, y = g_new - g.
    - max_iter: most iterations; tol: stop once ||g||_2 <= tol.
    - line_search: ``"wolfe"`` (from t = 1, halve t while f does not decrease enough, double it
      while the slope along p is still steep: the weak Wolfe conditions, which guarantee
      s.y > 0) or ``None`` (always t = 1, the bare quasi-Newton step).

    Each iteration finds the direction p = -H g, H approximating the inverse Hessian, with the
    two-loop recursion over the stored pairs (newest first, then oldest first)::

        q = g
        for (s, y) newest to oldest:  rho = 1 / (y.s);  a = rho * s.q;  q = q - a * y
        r = gamma * q                 gamma = s.y / y.y of the newest pair (1 / ||g|| if none)
        for (s, y) oldest to newest:  b = rho * y.r;  r = r + (a - b) * s
        p = -r

    A pair is stored only if s.y > 0 (the curvature condition keeping H positive definite).
    The search stops early (``converged`` False) if the line search finds no acceptable step.

    Returns ``(w, trace)``: w (D,) the last iterate, and trace a dict with ``"w"`` (K+1, D) all
    iterates, ``"f"`` (K+1,) and ``"grad_norm"`` (K+1,) at each, ``"n_iter"`` = K,
    ``"n_evals"`` (calls of f_and_grad) and ``"converged"`` (True if ||g|| <= tol was reached).
    """
    fn = "lbfgs"
    w = float_array("w0", w0, fn=fn)
    check_ndim("w0", w, 1, "(D,)", fn=fn)
    if not isinstance(history, int) or history < 1:
        raise ValueError(f"{fn}: history must be an int >= 1, got {history!r}")
    if not isinstance(max_iter, int) or max_iter < 0:
        raise ValueError(f"{fn}: max_iter must be an int >= 0, got {max_iter!r}")
    _non_negative("tol", tol, fn)
    if line_search not in ("wolfe", None):
        raise ValueError(f"{fn}: line_search must be 'wolfe' or None, got {line_search!r}")
    xp = namespace(w)
    w = xp.asarray(w, copy=True)

    n_evals = 0

    def evaluate(x):
        nonlocal n_evals
        n_evals += 1
        f, g = f_and_grad(x)
        g = float_array("gradient returned by f_and_grad", g, fn=fn, like=x)
        check_same_shape("w", x, "gradient returned by f_and_grad", g, fn=fn)
        return float(f), g

    f, g = evaluate(w)
    pairs = []  # (s, y, rho), oldest first
    iterates, values, norms = [w], [f], [math.sqrt(_dot(g, g))]
    converged = norms[-1] <= tol
    while not converged and len(iterates) <= max_iter:
        # Two-loop recursion: r = H g without ever forming H.
        q = g
        alphas = []
        for s, y, rho in reversed(pairs):
            a = rho * _dot(s, q)
            q = q - a * y
            alphas.append(a)
        if pairs:
            gamma = _dot(pairs[-1][0], pairs[-1][1]) / _dot(pairs[-1][1], pairs[-1][1])
        else:
            gamma = 1.0 / math.sqrt(_dot(g, g))  # first step: length 1 along -g
        r = gamma * q
        for (s, y, rho), a in zip(pairs, reversed(alphas)):
            b = rho * _dot(y, r)
            r = r + (a - b) * s
        p = -r
        slope = _dot(g, p)
        if slope >= 0:  # not a descent direction (should not happen): restart from -g
            pairs.clear()
            p, slope = -g, -_dot(g, g)

        if line_search is None:
            w_new = w + p
            f_new, g_new = evaluate(w_new)
        else:
            found = _wolfe(evaluate, w, f, p, slope)
            if found is None:  # no acceptable step along p: stop
                break
            w_new, f_new, g_new = found

        s, y = w_new - w, g_new - g
        sy = _dot(s, y)
        if sy > 0:
            pairs.append((s, y, 1.0 / sy))
            if len(pairs) > history:
                pairs.pop(0)
        w, f, g = w_new, f_new, g_new
        iterates.append(w)
        values.append(f)
        norms.append(math.sqrt(_dot(g, g)))
        converged = norms[-1] <= tol
    return w, _trace(iterates, values, norms, n_evals, converged, xp)


def _wolfe(evaluate, w, f, p, slope, c1=1e-4, c2=0.9, max_trials=60):
    """A step t along p meeting the weak Wolfe conditions, by doubling and bisection:

        f(w + t p) <= f(w) + c1 t g.p          (sufficient decrease: else t is too long)
        g(w + t p).p >= c2 g.p                 (curvature: else t is too short)

    The second condition makes s.y > 0, so the new pair can always be stored.
    Returns (w_new, f_new, g_new), or None when no such t was found.
    """
    lo, hi, t = 0.0, math.inf, 1.0
    for _ in range(max_trials):
        w_new = w + t * p
        f_new, g_new = evaluate(w_new)
        if not f_new <= f + c1 * t * slope:
            hi = t
        elif _dot(g_new, p) < c2 * slope:
            lo = t
        else:
            return w_new, f_new, g_new
        t = 2 * lo if math.isinf(hi) else (lo + hi) / 2
    return None


def _trace(iterates, values, norms, n_evals, converged, xp):
    return {
        "w": xp.stack(iterates),
        "f": xp.asarray(values, dtype=xp.float64),
        "grad_norm": xp.asarray(norms, dtype=xp.float64),
        "n_iter": len(iterates) - 1,
        "n_evals": n_evals,
        "converged": bool(converged),
    }
