"""PyTorch-like optimizer classes over named parameters; each ``step`` calls its pure function
(:mod:`course.optim.functional`), so there is exactly one formula per method."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from ..backend import is_array, namespace
from ..validation import check_same_shape, float_array
from .checks import check_adagrad, check_adam, check_rmsprop, check_sgd, hyper_non_negative
from .functional import adagrad, adam, adamw, rmsprop, sgd

__all__ = ["Optimizer", "SGD", "Adagrad", "RMSprop", "Adam", "AdamW"]


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
        self.hyperparams["lr"] = hyper_non_negative("lr", value, f"{type(self).__name__}.lr")

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
    check = staticmethod(check_sgd)

    def __init__(self, params, lr, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0):
        super().__init__(params, lr=lr, momentum=momentum, dampening=dampening, nesterov=nesterov,
                         weight_decay=weight_decay)


class Adagrad(Optimizer):
    """AdaGrad (see :func:`adagrad`).

    State per parameter, created here as PyTorch does: ``"step"`` = 0 and ``"sum"`` filled
    with ``initial_accumulator_value``.
    """

    rule = staticmethod(adagrad)
    check = staticmethod(check_adagrad)

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0,
                 eps=1e-10):
        super().__init__(params, lr=lr, lr_decay=lr_decay, weight_decay=weight_decay, eps=eps)
        fn = type(self).__name__
        self.initial_accumulator_value = hyper_non_negative(
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
    check = staticmethod(check_rmsprop)

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
    check = staticmethod(check_adam)

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False):
        super().__init__(params, lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad)


class AdamW(Optimizer):
    """AdamW: Adam with decoupled weight decay, default 1e-2 (see :func:`adamw`). State as Adam."""

    rule = staticmethod(adamw)
    check = staticmethod(check_adam)

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False):
        super().__init__(params, lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad)
