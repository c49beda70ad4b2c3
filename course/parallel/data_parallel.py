"""Synchronous data-parallel SGD over K simulated workers.

Each of K workers holds a full copy (a *replica*) of the parameters, computes the gradient on
its own shard of the batch, and the workers then combine their gradients so that every replica
takes the same step. Because the loss is a mean, the average of the K shard gradients *is* the
gradient of the whole batch of K * b rows: K workers with batch b take exactly the steps one
worker with batch K * b would.

Gradient functions have the form ``grad_fn(params, X, y) -> (loss, grads)`` with ``params``
and ``grads`` dicts of arrays with the same keys; :func:`model_grad_fn` makes one from a
``course.model.MLP``. Updates are plain SGD: ``p <- p - lr * g``.
"""

from __future__ import annotations

import numpy as np

from ..backend import namespace
from ..validation import choice
from ._common import batch_stream, check_loop, copy_params
from .allreduce import ALLREDUCE
from .server import ParameterServer

__all__ = ["model_grad_fn", "data_parallel_sgd"]


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
        return float(loss), copy_params(grads)

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
    X, y = check_loop(fn, params, grad_fn, data, K, batch_per_worker, lr, steps, rows)
    rng = np.random.default_rng(seed)
    keys = list(params)
    replicas = [copy_params(params) for _ in range(K)]
    server = ParameterServer(params, lr) if allreduce == "server" else None
    history = {"loss": [], "sent_per_worker": []}
    stream = batch_stream(X, y, K * batch_per_worker, shuffle, rng)
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
            summed, trace = ALLREDUCE[allreduce](vectors, return_trace=True)
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
