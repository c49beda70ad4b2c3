"""A parameter server, and asynchronous SGD with stale gradients.

- :class:`ParameterServer`: a central copy of the parameters that workers pull from and
  push gradients to.
- :func:`async_sgd`: asynchronous SGD, where a gradient may have been computed on
  parameters that are ``staleness`` updates old by the time the server applies it;
  ``staleness_aware=True`` divides the step of a gradient by 1 + its staleness (Zhang et al.,
  2016), one way to keep large delays from diverging.
- :func:`stale_gradient_descent`: the same effect on a quadratic, with no data at all
  (the lesson's exercise): ``w_{t+1} = w_t - lr * grad(w_{t - tau})``.
"""

from __future__ import annotations

import collections

import numpy as np

from ..validation import as_array, non_negative, positive
from ._common import batch_stream, check_loop, copy_params

__all__ = ["ParameterServer", "async_sgd", "stale_gradient_descent"]


class ParameterServer:
    """The central copy of the parameters: workers ``pull`` them and ``push`` gradients.

    - params: dict of arrays (copied; the caller's arrays are never changed).
    - lr: SGD step size; each :meth:`push` applies ``p <- p - lr * g`` and adds 1 to
      :attr:`version`.
    - keep: how many recent versions to remember, so that a slow worker can be handed old
      parameters (``pull(version)``), as happens in asynchronous training.
    """

    def __init__(self, params, lr, keep=1):
        fn = "ParameterServer"
        if not isinstance(params, dict) or not params:
            raise TypeError(f"{fn}: params must be a non-empty dict of arrays")
        positive("lr", lr, fn=fn)
        if not isinstance(keep, int) or keep < 1:
            raise ValueError(f"{fn}: keep must be an int >= 1, got {keep!r}")
        self.lr = lr
        self.version = 0
        self._versions = collections.deque([(0, copy_params(params))], maxlen=keep)
        self.pushes = 0

    @property
    def params(self):
        """The newest parameters (the server's own dict: do not modify)."""
        return self._versions[-1][1]

    def pull(self, version=None):
        """A copy of the parameters at ``version`` (default: the newest) and that version number.

        Asking for a version older than the oldest kept one gives the oldest kept one.
        """
        if version is None:
            version = self.version
        oldest = self._versions[0][0]
        version = max(version, oldest)
        if version > self.version:
            raise ValueError(
                f"ParameterServer.pull: version {version} is newer than the newest, {self.version}"
            )
        params = self._versions[version - oldest][1]
        return copy_params(params), version

    def push(self, grads, lr=None):
        """Apply one SGD step with ``grads`` (keys as the parameters); return the new version.

        ``lr``: this step's size (default: the server's ``lr``), e.g. scaled down for a stale gradient.
        """
        lr = self.lr if lr is None else lr
        current = self.params
        missing = set(current) - set(grads)
        if missing:
            raise ValueError(f"ParameterServer.push: grads is missing {sorted(missing)}")
        new = {k: p - lr * grads[k] for k, p in current.items()}
        self.version += 1
        self.pushes += 1
        self._versions.append((self.version, new))
        return self.version


def async_sgd(
    params, grad_fn, data, K, batch_per_worker, lr, steps, staleness=0, shuffle=True, seed=0,
    staleness_aware=False,
):
    """Asynchronous SGD through a parameter server, with gradients ``staleness`` steps old.

    Workers take turns (worker t mod K at server step t) and each brings a gradient on its
    own batch of b rows. That gradient was computed on the parameters of version
    ``t - staleness`` (or version 0 early on): by the time a worker's gradient arrives, the
    server has already applied ``staleness`` other gradients. With ``staleness=0`` this is
    ordinary sequential SGD with batch b; ``staleness = K - 1`` is what K equally fast
    workers would see. ``staleness_aware=True`` applies a gradient that is tau versions old
    with step ``lr / (1 + tau)``, the staleness-aware learning rate.

    Returns ``(params, history)``: the server's final parameters and a dict with per-step
    lists ``"loss"`` (the loss the worker saw), ``"worker"`` and ``"staleness"`` (versions
    between the parameters used and the ones updated).
    """
    fn = "async_sgd"
    X, y = check_loop(fn, params, grad_fn, data, K, batch_per_worker, lr, steps, batch_per_worker)
    if isinstance(staleness, bool) or not isinstance(staleness, int):
        raise TypeError(f"{fn}: staleness must be an int >= 0, got {staleness!r}")
    non_negative("staleness", staleness, fn=fn)
    rng = np.random.default_rng(seed)
    server = ParameterServer(params, lr, keep=staleness + 1)
    stream = batch_stream(X, y, batch_per_worker, shuffle, rng)
    history = {"loss": [], "worker": [], "staleness": []}
    for t in range(steps):
        worker = t % K
        stale_params, version = server.pull(t - staleness)
        Xb, yb = next(stream)
        loss, grads = grad_fn(stale_params, Xb, yb)
        tau = t - version
        server.push(grads, lr=lr / (1 + tau) if staleness_aware else None)
        history["loss"].append(float(loss))
        history["worker"].append(worker)
        history["staleness"].append(tau)
    return copy_params(server.params), history


def stale_gradient_descent(A, b, w0, lr, staleness, steps, staleness_aware=False):
    """Gradient descent on f(w) = 1/2 w^T A w - b^T w whose gradients arrive ``staleness`` steps late.

    Step t (t = 0, 1, ...) applies the gradient that was computed on the parameters of step
    ``s = max(0, t - staleness)``, as an asynchronous worker's gradient would be::

        w_{t+1} = w_t - lr_t * (A w_s - b),   lr_t = lr                  (plain)
                                              lr_t = lr / (1 + t - s)    (staleness_aware)

    The actual delay ``t - s`` is smaller than ``staleness`` during the first steps.

    - A: (D, D) symmetric positive definite; b, w0: (D,); lr > 0; staleness, steps: ints >= 0.

    Returns the path, (steps + 1, D): row t is w_t (row 0 is w0; a copy).
    """
    fn = "stale_gradient_descent"
    A, b, w0 = (np.asarray(as_array(n, v, fn=fn), dtype=np.float64) for n, v in (("A", A), ("b", b), ("w0", w0)))
    if b.ndim != 1 or A.shape != (b.shape[0], b.shape[0]) or w0.shape != b.shape:
        raise ValueError(f"{fn}: A must be (D, D) with b and w0 (D,); got A {A.shape}, b {b.shape}, w0 {w0.shape}")
    positive("lr", lr, fn=fn)
    for name, value in (("staleness", staleness), ("steps", steps)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{fn}: {name} must be an int >= 0, got {value!r}")
    path = np.empty((steps + 1, w0.shape[0]))
    path[0] = w0
    for t in range(steps):
        s = max(0, t - staleness)
        step = lr / (1 + t - s) if staleness_aware else lr
        path[t + 1] = path[t] - step * (A @ path[s] - b)
    return path
