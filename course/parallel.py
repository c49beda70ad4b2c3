"""Data-parallel SGD, simulated: K workers in one process, every message made visible.

In data-parallel training each of K workers holds a full copy (a *replica*) of the
parameters, computes the gradient on its own shard of the batch, and the workers then
combine their gradients so that every replica takes the same step. This module plays all
K workers in turn, in one Python process, so the communication can be read and counted:

- :func:`naive_allreduce`: everyone sends everything to worker 0, which adds and sends
  the sum back. Worker 0 sends and receives (K - 1) * n numbers.
- :func:`ring_allreduce`: the bandwidth-optimal ring. Each vector is cut into K chunks;
  K - 1 *reduce-scatter* steps leave each worker with the full sum of one chunk, then
  K - 1 *all-gather* steps pass the finished chunks around. Each worker sends only
  2 (K - 1) / K * n numbers, however large K is.
- :class:`ParameterServer`: a central copy of the parameters that workers pull from and
  push gradients to.
- :func:`data_parallel_sgd`: synchronous SGD over K workers (per-worker batch b). Because
  the loss is a mean, the average of the K shard gradients *is* the gradient of the whole
  batch of K * b rows: K workers with batch b take exactly the steps one worker with
  batch K * b would.
- :func:`async_sgd`: asynchronous SGD, where a gradient may have been computed on
  parameters that are ``staleness`` updates old by the time the server applies it.

Gradient functions have the form ``grad_fn(params, X, y) -> (loss, grads)`` with ``params``
and ``grads`` dicts of arrays with the same keys; :func:`model_grad_fn` makes one from a
``course.model.MLP``. Updates are plain SGD: ``p <- p - lr * g``.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass, field

import numpy as np

from .backend import namespace
from .data import minibatches
from .validation import as_array, choice, non_negative, positive

__all__ = [
    "Message",
    "AllReduceTrace",
    "chunk_bounds",
    "naive_allreduce",
    "ring_allreduce",
    "ParameterServer",
    "model_grad_fn",
    "data_parallel_sgd",
    "async_sgd",
]


# ---------------------------------------------------------------------------------------------
# all-reduce
# ---------------------------------------------------------------------------------------------


@dataclass
class Message:
    """One message between workers: ``size`` numbers of chunk ``chunk`` from ``src`` to ``dst``."""

    phase: str  # "reduce-scatter", "all-gather", "gather" or "broadcast"
    step: int
    src: int
    dst: int
    chunk: int  # chunk index (-1: the whole vector)
    size: int  # number of array elements carried


@dataclass
class AllReduceTrace:
    """What an all-reduce sent: every message, and the totals per worker.

    - K: number of workers; n: elements per worker's vector; itemsize: bytes per element.
    - messages: every :class:`Message`, in order.
    - sent[i], received[i]: elements sent / received by worker i (``* itemsize`` for bytes).
    """

    K: int
    n: int
    itemsize: int
    messages: list = field(default_factory=list)
    sent: list = field(default_factory=list)
    received: list = field(default_factory=list)

    def __post_init__(self):
        self.sent = [0] * self.K
        self.received = [0] * self.K

    def record(self, phase, step, src, dst, chunk, size):
        self.messages.append(Message(phase, step, src, dst, chunk, int(size)))
        self.sent[src] += int(size)
        self.received[dst] += int(size)

    @property
    def bytes_sent(self) -> list:
        """Bytes sent by each worker."""
        return [s * self.itemsize for s in self.sent]


def chunk_bounds(n: int, K: int) -> list:
    """Cut n elements into K contiguous chunks as evenly as possible: a list of (start, stop).

    The first ``n mod K`` chunks get one element more; when n < K some chunks are empty.
    """
    base, extra = divmod(n, K)
    bounds, start = [], 0
    for k in range(K):
        stop = start + base + (1 if k < extra else 0)
        bounds.append((start, stop))
        start = stop
    return bounds


def _itemsize(xp, dtype) -> int:
    """Bytes per element of ``dtype`` (through finfo/iinfo, which every backend has)."""
    if xp.isdtype(dtype, "bool"):
        return 1
    if xp.isdtype(dtype, "complex floating"):
        return 2 * (xp.finfo(dtype).bits // 8)
    info = xp.finfo(dtype) if xp.isdtype(dtype, "real floating") else xp.iinfo(dtype)
    return info.bits // 8


def _check_workers(worker_arrays, fn):
    """Validate K >= 1 arrays of one shape and backend; return (flat copies, shape, xp)."""
    if isinstance(worker_arrays, (str, bytes)) or not hasattr(worker_arrays, "__len__"):
        raise TypeError(f"{fn}: worker_arrays must be a list of K arrays, one per worker")
    if len(worker_arrays) == 0:
        raise ValueError(f"{fn}: worker_arrays is empty; need at least one worker")
    arrays = [as_array(f"worker_arrays[{i}]", a, fn=fn) for i, a in enumerate(worker_arrays)]
    shape = tuple(arrays[0].shape)
    for i, a in enumerate(arrays):
        if tuple(a.shape) != shape:
            raise ValueError(
                f"{fn}: every worker's array must have the same shape, "
                f"got {shape} for worker 0 and {tuple(a.shape)} for worker {i}"
            )
    xp = namespace(*arrays)
    flats = [xp.reshape(a, (-1,)) for a in arrays]
    return flats, shape, xp


def naive_allreduce(worker_arrays, return_trace=False):
    """All-reduce through one worker: gather everything at worker 0, add, send the sum back.

    - worker_arrays: K arrays of the same shape, one per worker.

    Returns a list of K arrays, each the elementwise sum of all K inputs (new arrays; the
    inputs are not changed). With ``return_trace=True`` returns ``(results, trace)``,
    an :class:`AllReduceTrace`: worker 0 receives (K - 1) * n and sends (K - 1) * n numbers.
    """
    flats, shape, xp = _check_workers(worker_arrays, "naive_allreduce")
    K, n = len(flats), flats[0].shape[0]
    trace = AllReduceTrace(K, n, _itemsize(xp, flats[0].dtype))
    total = flats[0]
    for i in range(1, K):  # everyone sends its whole vector to worker 0, which adds
        trace.record("gather", 0, i, 0, -1, n)
        total = total + flats[i]
    for i in range(1, K):  # worker 0 sends the sum back to everyone
        trace.record("broadcast", 1, 0, i, -1, n)
    results = [xp.reshape(xp.asarray(total, copy=True), shape) for _ in range(K)]
    return (results, trace) if return_trace else results


def ring_allreduce(worker_arrays, return_trace=False):
    """Ring all-reduce, step by step: reduce-scatter, then all-gather, over K chunks.

    Workers sit on a ring; worker i only ever sends to worker (i + 1) mod K. Every vector
    (n elements) is cut into K chunks (:func:`chunk_bounds`).

    1. Reduce-scatter, steps s = 0 .. K-2: every worker i sends chunk (i - s) mod K to
       worker i + 1, which adds it to its own copy of that chunk. A chunk picks up one
       more worker's contribution per step, so after K - 1 steps worker i holds the
       complete sum of chunk (i + 1) mod K.
    2. All-gather, steps s = 0 .. K-2: every worker i sends chunk (i + 1 - s) mod K (a
       finished one) to worker i + 1, which overwrites its copy. After K - 1 steps every
       worker holds every finished chunk.

    All messages of a step are sent "at the same time": they are collected first, then
    delivered. Each worker sends 2 (K - 1) chunks, about 2 (K - 1) / K * n numbers.

    Returns a list of K arrays, each the elementwise sum of the K inputs (new arrays). With
    ``return_trace=True`` returns ``(results, trace)`` (an :class:`AllReduceTrace`).
    """
    flats, shape, xp = _check_workers(worker_arrays, "ring_allreduce")
    K, n = len(flats), flats[0].shape[0]
    trace = AllReduceTrace(K, n, _itemsize(xp, flats[0].dtype))
    bounds = chunk_bounds(n, K)
    # chunks[w][c]: worker w's current copy of chunk c
    chunks = [[xp.asarray(flat[lo:hi], copy=True) for lo, hi in bounds] for flat in flats]

    for step in range(K - 1):  # 1. reduce-scatter
        outbox = []
        for i in range(K):
            c = (i - step) % K
            outbox.append((i, (i + 1) % K, c, chunks[i][c]))
        for src, dst, c, data in outbox:
            trace.record("reduce-scatter", step, src, dst, c, data.shape[0])
            chunks[dst][c] = chunks[dst][c] + data

    for step in range(K - 1):  # 2. all-gather
        outbox = []
        for i in range(K):
            c = (i + 1 - step) % K
            outbox.append((i, (i + 1) % K, c, chunks[i][c]))
        for src, dst, c, data in outbox:
            trace.record("all-gather", step, src, dst, c, data.shape[0])
            chunks[dst][c] = xp.asarray(data, copy=True)  # the receiver keeps a copy

    results = [xp.reshape(xp.concat(chunks[w]), shape) for w in range(K)]
    return (results, trace) if return_trace else results


_ALLREDUCE = {"ring": ring_allreduce, "naive": naive_allreduce}


# ---------------------------------------------------------------------------------------------
# parameter server
# ---------------------------------------------------------------------------------------------


def _copy_params(params):
    return {k: namespace(v).asarray(v, copy=True) for k, v in params.items()}


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
        self._versions = collections.deque([(0, _copy_params(params))], maxlen=keep)
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
        return _copy_params(params), version

    def push(self, grads):
        """Apply one SGD step with ``grads`` (keys as the parameters); return the new version."""
        current = self.params
        missing = set(current) - set(grads)
        if missing:
            raise ValueError(f"ParameterServer.push: grads is missing {sorted(missing)}")
        new = {k: p - self.lr * grads[k] for k, p in current.items()}
        self.version += 1
        self.pushes += 1
        self._versions.append((self.version, new))
        return self.version


# ---------------------------------------------------------------------------------------------
# training loops
# ---------------------------------------------------------------------------------------------


def model_grad_fn(model):
    """Make ``grad_fn(params, X, y) -> (loss, grads)`` from a model with ``params`` and ``loss``.

    The returned function puts the given parameter values into ``model.params`` (in place,
    so the model's layers see them), calls ``model.loss(X, y)`` and returns the loss and a
    copy of the gradients.
    """
    if not hasattr(model, "params") or not hasattr(model, "loss"):
        raise TypeError("model_grad_fn: model must have a params dict and a loss(x, y) method")

    def grad_fn(params, X, y):
        for k, v in params.items():
            model.params[k][...] = v
        loss, grads = model.loss(X, y)
        return float(loss), _copy_params(grads)

    return grad_fn


def _flatten(grads, keys, xp):
    """One vector holding every gradient (as real systems bucket gradients before an all-reduce)."""
    return xp.concat([xp.reshape(grads[k], (-1,)) for k in keys])


def _unflatten(vector, like, keys, xp):
    out, start = {}, 0
    for k in keys:
        size = 1
        for s in like[k].shape:
            size *= s
        out[k] = xp.reshape(vector[start : start + size], like[k].shape)
        start += size
    return out


def _check_loop(fn, params, grad_fn, data, K, batch_per_worker, lr, steps, rows_per_step):
    if not isinstance(params, dict) or not params:
        raise TypeError(f"{fn}: params must be a non-empty dict of arrays")
    if not callable(grad_fn):
        raise TypeError(f"{fn}: grad_fn must be callable as grad_fn(params, X, y) -> (loss, grads)")
    for name, value in (("K", K), ("batch_per_worker", batch_per_worker), ("steps", steps)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{fn}: {name} must be an int >= 1, got {value!r}")
    positive("lr", lr, fn=fn)
    try:
        X, y = data
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{fn}: data must be a pair (X, y)") from exc
    if len(X) < rows_per_step:
        raise ValueError(
            f"{fn}: one step needs {rows_per_step} rows (K * batch_per_worker) "
            f"but the data set has only {len(X)}"
        )
    return X, y


def _batch_stream(X, y, batch_size, shuffle, rng):
    """Endless full batches of ``batch_size`` rows, epoch after epoch (short rests dropped)."""
    while True:
        yield from minibatches(X, y, batch_size, shuffle=shuffle, drop_last=True, rng=rng)


def data_parallel_sgd(
    params,
    grad_fn,
    data,
    K,
    batch_per_worker,
    lr,
    steps,
    allreduce="ring",
    shuffle=True,
    seed=0,
):
    """Synchronous data-parallel SGD over K simulated workers.

    Each step takes the next K * b rows of the data (b = ``batch_per_worker``), gives rows
    [k b, (k + 1) b) to worker k, and every worker computes ``grad_fn`` on its shard with its
    own replica of the parameters. The K gradients are combined by ``allreduce``:

    - ``"ring"`` / ``"naive"``: all-reduce the flattened gradients (a sum), divide by K,
      and every worker applies the same SGD step to its replica;
    - ``"server"``: every worker pushes its gradient to a :class:`ParameterServer`, which
      averages them, applies the step, and every worker pulls the new parameters.

    Since the mean of K shard means is the mean over all K * b rows, this is the same as
    single-worker SGD with batch K * b (up to rounding).

    Returns ``(params, history)``: worker 0's final parameters (all replicas are equal) and
    a dict with per-step lists ``"loss"`` (mean over workers) and ``"sent_per_worker"``: the
    most elements any one worker sent in that step (the busiest link sets the pace).
    """
    fn = "data_parallel_sgd"
    choice("allreduce", allreduce, ("ring", "naive", "server"), fn=fn)
    rows = K * batch_per_worker
    X, y = _check_loop(fn, params, grad_fn, data, K, batch_per_worker, lr, steps, rows)
    rng = np.random.default_rng(seed)
    keys = list(params)
    replicas = [_copy_params(params) for _ in range(K)]
    server = ParameterServer(params, lr) if allreduce == "server" else None
    history = {"loss": [], "sent_per_worker": []}
    stream = _batch_stream(X, y, K * batch_per_worker, shuffle, rng)
    b = batch_per_worker

    for _ in range(steps):
        Xg, yg = next(stream)
        losses, worker_grads = [], []
        for k in range(K):  # every worker: forward and backward on its shard
            loss, grads = grad_fn(replicas[k], Xg[k * b : (k + 1) * b], yg[k * b : (k + 1) * b])
            losses.append(float(loss))
            worker_grads.append(grads)
        xp = namespace(*worker_grads[0].values())

        if server is None:  # all-reduce, then the same step on every replica
            vectors = [_flatten(g, keys, xp) for g in worker_grads]
            summed, trace = _ALLREDUCE[allreduce](vectors, return_trace=True)
            for k in range(K):
                mean_grad = _unflatten(summed[k] / K, replicas[k], keys, xp)
                replicas[k] = {name: p - lr * mean_grad[name] for name, p in replicas[k].items()}
            sent = max(trace.sent)
        else:  # push to the server, which averages and steps; everyone pulls
            mean_grad = {name: sum(g[name] for g in worker_grads) / K for name in keys}
            server.push(mean_grad)
            replicas = [server.pull()[0] for _ in range(K)]
            sent = sum(xp.reshape(v, (-1,)).shape[0] for v in mean_grad.values())

        history["loss"].append(sum(losses) / K)
        history["sent_per_worker"].append(sent)
    return replicas[0], history


def async_sgd(
    params, grad_fn, data, K, batch_per_worker, lr, steps, staleness=0, shuffle=True, seed=0
):
    """Asynchronous SGD through a parameter server, with gradients ``staleness`` steps old.

    Workers take turns (worker t mod K at server step t) and each brings a gradient on its
    own batch of b rows. That gradient was computed on the parameters of version
    ``t - staleness`` (or version 0 early on): by the time a worker's gradient arrives, the
    server has already applied ``staleness`` other gradients. With ``staleness=0`` this is
    ordinary sequential SGD with batch b; ``staleness = K - 1`` is what K equally fast
    workers would see.

    Returns ``(params, history)``: the server's final parameters and a dict with per-step
    lists ``"loss"`` (the loss the worker saw), ``"worker"`` and ``"staleness"`` (versions
    between the parameters used and the ones updated).
    """
    fn = "async_sgd"
    X, y = _check_loop(fn, params, grad_fn, data, K, batch_per_worker, lr, steps, batch_per_worker)
    if isinstance(staleness, bool) or not isinstance(staleness, int):
        raise TypeError(f"{fn}: staleness must be an int >= 0, got {staleness!r}")
    non_negative("staleness", staleness, fn=fn)
    rng = np.random.default_rng(seed)
    server = ParameterServer(params, lr, keep=staleness + 1)
    stream = _batch_stream(X, y, batch_per_worker, shuffle, rng)
    history = {"loss": [], "worker": [], "staleness": []}
    for t in range(steps):
        worker = t % K
        stale_params, version = server.pull(t - staleness)
        Xb, yb = next(stream)
        loss, grads = grad_fn(stale_params, Xb, yb)
        server.push(grads)
        history["loss"].append(float(loss))
        history["worker"].append(worker)
        history["staleness"].append(t - version)
    return _copy_params(server.params), history
