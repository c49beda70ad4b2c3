"""Training on a lot of data on one machine: batch size, accumulation, clipping, loading, memory.

- :func:`lsq_grad`: the gradient of least squares, the model the lesson's exercises train.
- :func:`accumulated_step`: one SGD step from k micro-batches, equal to the big-batch step.
- :func:`clip_global_norm`: clip a dict of gradients by their global norm (a new dict).
- :func:`prefetch`: an iterator that prepares the next items in a background thread.
- :func:`adam_inplace`: Adam that allocates no new arrays after its first call.
- :func:`linear_scaling_lr`: the linear scaling rule with warm-up (Goyal et al., 2017).
- :func:`time_per_example`: seconds per training example at a given batch size.
"""

from __future__ import annotations

import math
import queue
import threading
import time

import numpy as np

from .gradients import clip_grad_norm
from .validation import non_negative, positive

__all__ = [
    "lsq_grad",
    "accumulated_step",
    "clip_global_norm",
    "prefetch",
    "adam_inplace",
    "linear_scaling_lr",
    "time_per_example",
]


def lsq_grad(w, X, y):
    """Gradient of the mean least-squares loss L = (1/n) sum 1/2 (x_i w - y_i)^2: X^T (X w - y) / n.

    - w: (D,); X: (n, D); y: (n,). Returns (D,).
    """
    return X.T @ (X @ w - y) / X.shape[0]


def accumulated_step(w, micro_batches, lr):
    """One SGD step on the union of ``micro_batches``, computed one micro-batch at a time.

    - w: (D,) parameters (not modified); micro_batches: a list of (X_k (n_k, D), y_k (n_k,)),
      sizes may differ; lr: the step size.

    Each micro-batch gives the gradient of its *mean* loss, g_k; weighting each by its size,

        g = sum_k n_k g_k / sum_k n_k

    is exactly the gradient of the mean loss over all rows: the big-batch step, without ever
    holding the big batch. Returns the new w (a new array).
    """
    if not micro_batches:
        raise ValueError("accumulated_step: micro_batches is empty")
    total = np.zeros_like(np.asarray(w, dtype=np.float64))
    rows = 0
    for k, (X, y) in enumerate(micro_batches):
        if X.shape[0] != y.shape[0] or X.ndim != 2 or X.shape[1] != total.shape[0]:
            raise ValueError(
                f"accumulated_step: micro_batches[{k}] must be (X (n, D), y (n,)) with D = {total.shape[0]}, "
                f"got X {X.shape} and y {y.shape}"
            )
        total += X.shape[0] * lsq_grad(w, X, y)
        rows += X.shape[0]
    return w - lr * total / rows


def clip_global_norm(grads, max_norm):
    """Scale a dict of gradients so that their global norm is at most ``max_norm``.

    - grads: dict name -> array (not modified); max_norm > 0.

    The global norm is sqrt(sum over every entry of every array of g^2); if it exceeds
    max_norm every array is multiplied by max_norm / (norm + 1e-6) (PyTorch's
    ``clip_grad_norm_``), which keeps the direction of the whole gradient.

    Returns ``(clipped, total_norm)``: a new dict of new arrays, and the norm before clipping.
    """
    if not isinstance(grads, dict):
        raise TypeError(f"clip_global_norm: grads must be a dict name -> array, got {type(grads).__name__}")
    clipped = {k: np.array(v, dtype=np.float64, copy=True) for k, v in grads.items()}
    total = clip_grad_norm(clipped, max_norm)
    return clipped, float(total)


_DONE = object()


class _Failure:
    def __init__(self, exc):
        self.exc = exc


def prefetch(iterable, depth=2):
    """Iterate over ``iterable`` while a background thread prepares up to ``depth`` items ahead.

    A thread pulls items from ``iterable`` and puts them on a ``queue.Queue(maxsize=depth)``;
    this generator takes them off in order. The items are exactly those of ``iterable``, in
    order; an exception raised by ``iterable`` is raised again here, in the consumer. It pays
    off when producing an item waits (file or network reads, ``time.sleep``) or runs NumPy code
    that releases the GIL, while the consumer computes.
    """
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
        raise ValueError(f"prefetch: depth must be an int >= 1, got {depth!r}")
    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce():
        try:
            for item in iterable:
                while not stop.is_set():
                    try:
                        q.put(item, timeout=0.05)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(_DONE)
        except BaseException as exc:  # handed to the consumer
            q.put(_Failure(exc))

    thread = threading.Thread(target=produce, daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if item is _DONE:
                return
            if isinstance(item, _Failure):
                raise item.exc
            yield item
    finally:
        stop.set()  # the consumer stopped early (break) or failed: let the thread end


def adam_inplace(w, g, state, *, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
    """One Adam step (as ``course.optim.adam`` without weight decay) that allocates no new arrays
    after the first call: every intermediate result goes into buffers kept in ``state``.

    - w: parameter array, updated in place and returned; g: its gradient (not modified).
    - state: ``"step"``, ``"exp_avg"`` (m), ``"exp_avg_sq"`` (v) and ``"scratch"`` (a work
      buffer like w), created on the first call.

    Each operation writes into an existing array (``m *= beta1``, ``np.multiply(g, g, out=buf)``,
    ``np.sqrt(v, out=buf)`` ...): ``m * beta1 + ...`` would allocate a temporary of the size of w
    at every call.
    """
    b1, b2 = betas
    if "exp_avg" not in state:
        state["step"] = 0
        state["exp_avg"], state["exp_avg_sq"] = np.zeros_like(w), np.zeros_like(w)
        state["scratch"] = np.empty_like(w)
    t = state["step"] = state["step"] + 1
    m, v, buf = state["exp_avg"], state["exp_avg_sq"], state["scratch"]
    m *= b1
    np.multiply(g, 1 - b1, out=buf)
    m += buf  # m = b1 m + (1 - b1) g
    v *= b2
    np.multiply(g, g, out=buf)
    buf *= 1 - b2
    v += buf  # v = b2 v + (1 - b2) g^2
    np.sqrt(v, out=buf)
    buf /= math.sqrt(1 - b2**t)
    buf += eps  # sqrt(v_hat) + eps
    np.divide(m, buf, out=buf)
    buf *= lr / (1 - b1**t)  # lr * m_hat / (sqrt(v_hat) + eps)
    w -= buf
    return w


def linear_scaling_lr(step, base_lr, base_batch, batch, warmup_steps=0):
    """The linear scaling rule with linear warm-up: the learning rate for ``batch`` at ``step``.

    When the batch grows k = batch / base_batch times, the gradient's noise falls k times and
    one step covers k times as many examples, so the learning rate is scaled by k too:
    lr = base_lr * k. Large k diverges in the first steps, so the rate ramps up linearly from
    base_lr to base_lr * k over ``warmup_steps`` steps (step 0 .. warmup_steps - 1).
    """
    positive("base_lr", base_lr, fn="linear_scaling_lr")
    non_negative("step", step, fn="linear_scaling_lr")
    target = base_lr * batch / base_batch
    if step < warmup_steps:
        return base_lr + (target - base_lr) * step / warmup_steps
    return target


def time_per_example(step_fn, X, y, batch_size, repeat=5):
    """Seconds per example of ``step_fn(Xb, yb)`` (e.g. a forward and backward) at ``batch_size``:
    the best of ``repeat`` timed calls on the first ``batch_size`` rows, divided by the batch size."""
    Xb, yb = X[:batch_size], y[:batch_size]
    step_fn(Xb, yb)
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        step_fn(Xb, yb)
        best = min(best, time.perf_counter() - t0)
    return best / len(Xb)
