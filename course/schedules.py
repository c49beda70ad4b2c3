"""Learning-rate schedules: pure functions of the step, and PyTorch-like scheduler classes.

Each schedule is first a **pure function** ``lr = f(step, base_lr, ...)`` in closed form (what
learners implement in the schedules lesson and the autograder compares with)::

    step_lr(step, base_lr, step_size, gamma=0.1)
    exponential_lr(step, base_lr, gamma)
    cosine_annealing_lr(step, base_lr, T_max, eta_min=0.0)
    linear_warmup_lr(step, base_lr, start_factor=1/3, end_factor=1.0, total_iters=5)
    cyclic_lr(step, base_lr, max_lr, step_size_up=2000, step_size_down=None, mode="triangular", gamma=1.0)

``step`` counts scheduler steps from 0 (PyTorch's ``last_epoch``). The **classes** wrap an
optimizer from :mod:`course.optim` and call these functions, so there is one formula each::

    opt = course.optim.SGD(params, lr=0.1)
    sched = StepLR(opt, step_size=30, gamma=0.1)     # sets opt.lr = lr at step 0
    for epoch in range(100):
        train_one_epoch(opt)
        sched.step()                                 # step += 1; opt.lr = lr at the new step

They give the same sequence of learning rates as PyTorch's schedulers of the same name and
arguments (checked in the tests), with these differences:

- ``get_last_lr()`` returns a float (PyTorch: a list with one entry per parameter group).
- The learning rate is always computed from the step in closed form; PyTorch's classes update
  ``lr`` recursively, which agrees to rounding (~1e-15) but means PyTorch can chain several
  schedulers on one optimizer, which these classes do not.
- :class:`CyclicLR` cycles only the learning rate: PyTorch's ``cycle_momentum`` (on by default
  there) is not supported, so compare with ``torch.optim.lr_scheduler.CyclicLR(...,
  cycle_momentum=False)``.

:func:`plot_schedule` draws lr against step for a scheduler or any function ``step -> lr``.
"""

from __future__ import annotations

import math

from .validation import choice, in_range, positive

__all__ = [
    "step_lr",
    "exponential_lr",
    "cosine_annealing_lr",
    "linear_warmup_lr",
    "cyclic_lr",
    "LRScheduler",
    "StepLR",
    "ExponentialLR",
    "CosineAnnealingLR",
    "LinearLR",
    "CyclicLR",
    "plot_schedule",
]


def _step(fn, step):
    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        try:
            ok = int(step) == step and step >= 0  # NumPy integers are fine
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise ValueError(f"{fn}: step must be an int >= 0, got {step!r}")
        step = int(step)
    return step


def _positive_int(fn, name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{fn}: {name} must be an int >= 1, got {value!r}")
    return value


def _lr(fn, name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        raise ValueError(f"{fn}: {name} must be a number >= 0, got {value!r}")
    return value


# ---------------------------------------------------------------------------------------------
# Pure functions of the step
# ---------------------------------------------------------------------------------------------


def step_lr(step, base_lr, step_size, gamma=0.1):
    """Step decay: multiply by gamma every ``step_size`` steps.

        lr = base_lr * gamma ** (step // step_size)
    """
    fn = "step_lr"
    step = _step(fn, step)
    _lr(fn, "base_lr", base_lr)
    _positive_int(fn, "step_size", step_size)
    positive("gamma", gamma, fn=fn)
    return base_lr * gamma ** (step // step_size)


def exponential_lr(step, base_lr, gamma):
    """Exponential decay: multiply by gamma every step.

        lr = base_lr * gamma ** step
    """
    fn = "exponential_lr"
    step = _step(fn, step)
    _lr(fn, "base_lr", base_lr)
    positive("gamma", gamma, fn=fn)
    return base_lr * gamma**step


def cosine_annealing_lr(step, base_lr, T_max, eta_min=0.0):
    """Cosine annealing from base_lr down to eta_min over T_max steps.

        lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * step / T_max)) / 2

    At step 0 this is base_lr, at step T_max it is eta_min. Beyond T_max the same formula is
    used, so the learning rate climbs back up along the cosine (period 2 * T_max): this is
    what PyTorch's ``CosineAnnealingLR`` class does too (its recursive update follows the
    same curve). For warm restarts (jump back to base_lr) use ``step % T_max`` instead.
    """
    fn = "cosine_annealing_lr"
    step = _step(fn, step)
    _lr(fn, "base_lr", base_lr)
    _positive_int(fn, "T_max", T_max)
    _lr(fn, "eta_min", eta_min)
    return eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * step / T_max)) / 2


def linear_warmup_lr(step, base_lr, start_factor=1.0 / 3, end_factor=1.0, total_iters=5):
    """Linear warm-up (PyTorch's ``LinearLR``): the factor moves linearly from start_factor
    to end_factor over total_iters steps, then stays at end_factor.

        lr = base_lr * (start_factor + (end_factor - start_factor) * min(step, total_iters) / total_iters)

    - start_factor in (0, 1], end_factor in [0, 1] (PyTorch's limits); defaults as PyTorch.
    """
    fn = "linear_warmup_lr"
    step = _step(fn, step)
    _lr(fn, "base_lr", base_lr)
    in_range("start_factor", start_factor, 0.0, 1.0, fn=fn, hi_open=False)
    if start_factor == 0:
        raise ValueError(f"{fn}: start_factor must be in (0, 1], got 0")
    in_range("end_factor", end_factor, 0.0, 1.0, fn=fn, hi_open=False)
    _positive_int(fn, "total_iters", total_iters)
    progress = min(step, total_iters) / total_iters
    return base_lr * (start_factor + (end_factor - start_factor) * progress)


def cyclic_lr(step, base_lr, max_lr, step_size_up=2000, step_size_down=None, mode="triangular",
              gamma=1.0):
    """Cyclical learning rate (PyTorch's ``CyclicLR``): up from base_lr to max_lr in
    step_size_up steps, back down in step_size_down steps (default: step_size_up), repeat.

        cycle_len = step_size_up + step_size_down
        cycle = floor(1 + step / cycle_len)                  (1, 2, ...)
        x = 1 + step / cycle_len - cycle                     (position in the cycle, [0, 1))
        r = step_size_up / cycle_len
        height = x / r  if x <= r  else  (x - 1) / (r - 1)   (0 -> 1 -> 0 along the cycle)
        lr = base_lr + (max_lr - base_lr) * height * scale

    scale is 1 for ``mode="triangular"`` (the default), ``1 / 2**(cycle - 1)`` for
    ``"triangular2"`` (the amplitude halves each cycle) and ``gamma**step`` for ``"exp_range"``.
    """
    fn = "cyclic_lr"
    step = _step(fn, step)
    _lr(fn, "base_lr", base_lr)
    _lr(fn, "max_lr", max_lr)
    _positive_int(fn, "step_size_up", step_size_up)
    if step_size_down is None:
        step_size_down = step_size_up
    _positive_int(fn, "step_size_down", step_size_down)
    choice("mode", mode, ("triangular", "triangular2", "exp_range"), fn=fn)
    in_range("gamma", gamma, 0.0, 1.0, fn=fn, hi_open=False)
    cycle_len = step_size_up + step_size_down
    cycle = math.floor(1 + step / cycle_len)
    x = 1.0 + step / cycle_len - cycle
    r = step_size_up / cycle_len
    height = x / r if x <= r else (x - 1) / (r - 1)
    if mode == "triangular":
        scale = 1.0
    elif mode == "triangular2":
        scale = 1 / 2.0 ** (cycle - 1)
    else:
        scale = gamma**step
    return base_lr + (max_lr - base_lr) * height * scale


# ---------------------------------------------------------------------------------------------
# Scheduler classes
# ---------------------------------------------------------------------------------------------


class LRScheduler:
    """Base class: sets ``optimizer.lr`` from a pure schedule function of the step.

    Attributes: ``optimizer``; ``base_lr`` (the optimizer's lr when the scheduler was made);
    ``last_epoch`` (the current step, 0 after construction, PyTorch's name).
    Subclasses implement :meth:`lr_at`.
    """

    def __init__(self, optimizer, base_lr=None):
        if not hasattr(optimizer, "lr"):
            raise TypeError(f"{type(self).__name__}: optimizer must be an optimizer with an lr "
                            f"attribute (course.optim), got {type(optimizer).__name__}")
        self.optimizer = optimizer
        self.base_lr = optimizer.lr if base_lr is None else base_lr
        self.last_epoch = 0
        self.lr_at(0)  # check the arguments now rather than at the first step
        self._set(0)

    def lr_at(self, step):
        """The learning rate at ``step`` (pure: changes nothing)."""
        raise NotImplementedError

    def _set(self, step):
        self._last_lr = self.lr_at(step)
        self.optimizer.lr = self._last_lr

    def step(self):
        """Advance one step and set the optimizer's lr for it."""
        self.last_epoch += 1
        self._set(self.last_epoch)

    def get_last_lr(self):
        """The learning rate set by the last :meth:`step` (or by the constructor), a float."""
        return self._last_lr

    def state_dict(self):
        return {"base_lr": self.base_lr, "last_epoch": self.last_epoch}

    def load_state_dict(self, state_dict):
        self.base_lr = state_dict["base_lr"]
        self.last_epoch = state_dict["last_epoch"]
        self._last_lr = self.lr_at(self.last_epoch)


class StepLR(LRScheduler):
    """lr = base_lr * gamma ** (step // step_size) (see :func:`step_lr`)."""

    def __init__(self, optimizer, step_size, gamma=0.1):
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer)

    def lr_at(self, step):
        return step_lr(step, self.base_lr, self.step_size, self.gamma)


class ExponentialLR(LRScheduler):
    """lr = base_lr * gamma ** step (see :func:`exponential_lr`)."""

    def __init__(self, optimizer, gamma):
        self.gamma = gamma
        super().__init__(optimizer)

    def lr_at(self, step):
        return exponential_lr(step, self.base_lr, self.gamma)


class CosineAnnealingLR(LRScheduler):
    """Cosine from base_lr to eta_min over T_max steps, then back up (see :func:`cosine_annealing_lr`)."""

    def __init__(self, optimizer, T_max, eta_min=0.0):
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer)

    def lr_at(self, step):
        return cosine_annealing_lr(step, self.base_lr, self.T_max, self.eta_min)


class LinearLR(LRScheduler):
    """Linear warm-up of the factor from start_factor to end_factor (see :func:`linear_warmup_lr`)."""

    def __init__(self, optimizer, start_factor=1.0 / 3, end_factor=1.0, total_iters=5):
        self.start_factor, self.end_factor, self.total_iters = start_factor, end_factor, total_iters
        super().__init__(optimizer)

    def lr_at(self, step):
        return linear_warmup_lr(step, self.base_lr, self.start_factor, self.end_factor,
                                self.total_iters)


class CyclicLR(LRScheduler):
    """Cyclical learning rate between base_lr and max_lr (see :func:`cyclic_lr`).

    As in PyTorch, ``base_lr`` is an argument and replaces the optimizer's lr. Only the
    learning rate cycles: momentum cycling (PyTorch's ``cycle_momentum``) is not supported.
    """

    def __init__(self, optimizer, base_lr, max_lr, step_size_up=2000, step_size_down=None,
                 mode="triangular", gamma=1.0):
        self.max_lr, self.step_size_up, self.step_size_down = max_lr, step_size_up, step_size_down
        self.mode, self.gamma = mode, gamma
        super().__init__(optimizer, base_lr=base_lr)

    def lr_at(self, step):
        return cyclic_lr(step, self.base_lr, self.max_lr, self.step_size_up, self.step_size_down,
                         self.mode, self.gamma)


def plot_schedule(schedule_or_fn, n_steps, ax=None, **line_kwargs):
    """Plot lr against step for steps 0 .. n_steps - 1.

    - schedule_or_fn: a scheduler (its pure :meth:`~LRScheduler.lr_at` is used, so the
      optimizer is not touched) or any function ``step -> lr``, e.g.
      ``lambda t: cosine_annealing_lr(t, 0.1, T_max=50)``.
    - ax: a matplotlib Axes (a new figure when None). Extra keyword arguments go to ``ax.plot``.

    Returns the Axes.
    """
    fn = "plot_schedule"
    _positive_int(fn, "n_steps", n_steps)
    lr_fn = getattr(schedule_or_fn, "lr_at", schedule_or_fn)
    if not callable(lr_fn):
        raise TypeError(f"{fn}: schedule_or_fn must be a scheduler or a function step -> lr, "
                        f"got {type(schedule_or_fn).__name__}")
    steps = list(range(n_steps))
    lrs = [float(lr_fn(t)) for t in steps]
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(6, 3))
    if hasattr(schedule_or_fn, "lr_at"):
        default_label = type(schedule_or_fn).__name__
    else:
        default_label = getattr(schedule_or_fn, "__name__", None)
        default_label = None if default_label == "<lambda>" else default_label
    label = line_kwargs.pop("label", default_label)
    ax.plot(steps, lrs, label=label, **line_kwargs)
    ax.set_xlabel("step")
    ax.set_ylabel("learning rate")
    return ax
