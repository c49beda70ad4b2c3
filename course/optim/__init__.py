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

Modules: :mod:`~course.optim.functional` (the pure functions), :mod:`~course.optim.classes`,
:mod:`~course.optim.second_order`, :mod:`~course.optim.checks` (argument checks shared by all).
"""

from __future__ import annotations

from .classes import SGD, Adagrad, Adam, AdamW, Optimizer, RMSprop
from .functional import adagrad, adam, adamw, momentum_classic, momentum_ema, rmsprop, sgd
from .second_order import lbfgs, newton_step

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
