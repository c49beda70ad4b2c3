"""Distributed training (lesson 13): all-reduce, data-parallel steps, stale gradients, two stages.

The ring all-reduce and the data-parallel step are SPMD functions ``fn(..., comm)`` (the
interface of :mod:`course.parallel.spmd`): the :class:`Ranks` protocol runs them on K simulated
ranks, in threads, and records every message, so the grader sees both the results on every
rank and how many numbers each rank sent. The same functions run unchanged under ``mpiexec``.
"""

from __future__ import annotations

import numpy as np

from ...parallel import naive_allreduce as _naive
from ...parallel import stale_gradient_descent, two_stage_backward
from ...parallel.allreduce import chunk_bounds
from ...parallel.rank_programs import data_parallel_step, ring_allreduce
from ..cases import Case, randn
from ..registry import Variant, register
from ..run.lesson_protocols import Ranks

LESSON = "13_distributed"


# ---------------------------------------------------------------------------------------------
# naive all-reduce (simulated workers, one function for all of them)


def naive_reference(worker_arrays):
    results, trace = _naive(worker_arrays, return_trace=True)
    return results, np.array(trace.sent)


def _worker_cases(rng):
    out = []
    for K, shape, note in [(3, (5,), "K = 3 workers, vectors of 5"), (4, (2, 3), "K = 4, arrays (2, 3)"),
                           (2, (7,), "K = 2"), (5, (3,), "K = 5, fewer elements than workers")]:
        out.append(Case(([randn(rng, *shape) for _ in range(K)],), note=note))
    return out


def _naive_averaged(worker_arrays):
    results, sent = naive_reference(worker_arrays)
    return [r / len(worker_arrays) for r in results], sent


def _naive_no_broadcast(worker_arrays):
    results, sent = naive_reference(worker_arrays)
    sent[0] = 0
    return results, sent


def _naive_bytes(worker_arrays):
    results, sent = naive_reference(worker_arrays)
    return results, sent * worker_arrays[0].itemsize


_AVERAGED = ("Your results are the mean of the workers' arrays: an all-reduce returns their sum. (Data-parallel "
             "training divides by K afterwards, outside the all-reduce.)")

register(
    "parallel.naive_allreduce",
    lesson=LESSON,
    title="Naive all-reduce through worker 0",
    reference=naive_reference,
    cases=_worker_cases,
    outputs=("results", "sent"),
    arg_names=("worker_arrays",),
    variants=(
        Variant("averaged", _naive_averaged, _AVERAGED),
        Variant("broadcast_not_counted", _naive_no_broadcast,
                "Worker 0 also sends: the sum goes back to each of the K - 1 others, (K - 1) * n numbers."),
        Variant("counted_bytes", _naive_bytes,
                "You counted bytes; sent counts array elements (multiply by itemsize for bytes)."),
    ),
    hints=("total = sum of all arrays; every worker gets a copy of total.",
           "sent[0] = (K - 1) * n (the sum to each other worker); sent[i] = n for i > 0 (its array to worker 0)."),
)


# ---------------------------------------------------------------------------------------------
# ring all-reduce (SPMD)


def _ring_cases(rng):
    out = []
    for K, n, note in [(3, 7, "K = 3 ranks, n = 7 (uneven chunks)"), (4, 8, "K = 4, n = 8"),
                       (2, 5, "K = 2"), (5, 3, "K = 5, n = 3 < K (empty chunks)"), (1, 4, "K = 1: nothing to send")]:
        out.append(Case(note=note, extra={"ranks": [(randn(rng, n),) for _ in range(K)]}))
    out.insert(2, Case(note="K = 3, x of shape (2, 3)", extra={"ranks": [(randn(rng, 2, 3),) for _ in range(3)]}))
    return out


def _ring_averaged(x, comm):
    return ring_allreduce(x, comm) / comm.Get_size()


def _ring_reduce_scatter_only(x, comm):
    K, r = comm.Get_size(), comm.Get_rank()
    flat = np.array(x, copy=True).reshape(-1)
    chunks = [flat[lo:hi].copy() for lo, hi in chunk_bounds(flat.size, K)]
    for s in range(K - 1):
        got = comm.sendrecv(chunks[(r - s) % K], dest=(r + 1) % K, source=(r - 1) % K)
        chunks[(r - s - 1) % K] = chunks[(r - s - 1) % K] + got
    return np.concatenate(chunks).reshape(np.shape(x))


def _ring_whole_vector(x, comm):
    K, r = comm.Get_size(), comm.Get_rank()
    total, passing = np.array(x, copy=True), np.array(x, copy=True)
    for _ in range(K - 1):
        passing = comm.sendrecv(passing, dest=(r + 1) % K, source=(r - 1) % K)
        total = total + passing
    return total


def _ring_gather_off_by_one(x, comm):
    K, r = comm.Get_size(), comm.Get_rank()
    flat = np.array(x, copy=True).reshape(-1)
    chunks = [flat[lo:hi].copy() for lo, hi in chunk_bounds(flat.size, K)]
    for s in range(K - 1):
        got = comm.sendrecv(chunks[(r - s) % K], dest=(r + 1) % K, source=(r - 1) % K)
        chunks[(r - s - 1) % K] = chunks[(r - s - 1) % K] + got
    for s in range(K - 1):
        chunks[(r - 1 - s) % K] = comm.sendrecv(chunks[(r - s) % K], dest=(r + 1) % K, source=(r - 1) % K)
    return np.concatenate(chunks).reshape(np.shape(x))


def _ring_generic(x, comm, direction=1, gather_adds=False):
    K, r = comm.Get_size(), comm.Get_rank()
    chunks = [c.copy() for c in np.array_split(np.array(x, copy=True).reshape(-1), K)]
    dest, source = (r + direction) % K, (r - direction) % K
    for s in range(K - 1):
        got = comm.sendrecv(chunks[(r - s) % K], dest=dest, source=source)
        chunks[(r - s - 1) % K] = chunks[(r - s - 1) % K] + got
    for s in range(K - 1):
        got = comm.sendrecv(chunks[(r + 1 - s) % K], dest=dest, source=source)
        chunks[(r - s) % K] = chunks[(r - s) % K] + got if gather_adds else got
    return np.concatenate(chunks).reshape(np.shape(x))


register(
    "parallel.ring_allreduce",
    lesson=LESSON,
    title="Ring all-reduce (one rank's part)",
    reference=ring_allreduce,
    cases=_ring_cases,
    outputs=("results", "sent"),
    arg_names=("x",),
    protocol=Ranks(with_sent=True),
    variants=(
        Variant("averaged", _ring_averaged, _AVERAGED),
        Variant("reduce_scatter_only", _ring_reduce_scatter_only,
                "Only one chunk per rank is complete: after the K - 1 reduce-scatter steps, run K - 1 "
                "all-gather steps that pass the finished chunks around (receive and overwrite, not add)."),
        Variant("whole_vector_each_step", _ring_whole_vector,
                "Your sums are right, but each rank sends its whole vector K - 1 times, (K - 1) * n numbers. "
                "Cut x into K chunks and send one chunk per step: 2 (K - 1) / K * n in all."),
        Variant("all_gather_adds", lambda x, comm: _ring_generic(x, comm, gather_adds=True),
                "In the all-gather the received chunk is already complete: replace your copy with it "
                "(chunks[c] = received), do not add it again."),
        Variant("ring_direction_reversed", lambda x, comm: _ring_generic(x, comm, direction=-1),
                "Your ring runs the other way (sending to r - 1) with the chunk indices of a ring that sends to "
                "r + 1: send to (r + 1) % K and receive from (r - 1) % K."),
        Variant("all_gather_off_by_one", _ring_gather_off_by_one,
                "In the all-gather, rank r must send the chunk it has just completed, (r + 1 - s) mod K at "
                "step s, and receive chunk (r - s) mod K; your indices are one behind, so unfinished chunks "
                "travel."),
    ),
    hints=(
        "K, r = comm.Get_size(), comm.Get_rank(); cut x.reshape(-1) into K chunks (np.array_split keeps "
        "the order); send to (r + 1) % K and receive from (r - 1) % K with comm.sendrecv(data, dest=, source=).",
        "Reduce-scatter step s: send chunk (r - s) % K, add the received data to chunk (r - s - 1) % K.",
        "All-gather step s: send chunk (r + 1 - s) % K, replace chunk (r - s) % K by what you receive.",
    ),
)


# ---------------------------------------------------------------------------------------------
# data-parallel step (SPMD)


def _dp_cases(rng):
    out = []
    for sizes, D, note in [((5, 3, 4), 3, "K = 3 shards of 5, 3 and 4 rows"), ((4, 4), 2, "K = 2 equal shards"),
                           ((2, 6, 3, 1), 4, "K = 4, a shard of one row"), ((6,), 3, "K = 1")]:
        w = randn(rng, D)
        ranks = [(w.copy(), randn(rng, m, D), randn(rng, m), 0.1) for m in sizes]
        out.append(Case(note=note, extra={"ranks": ranks}))
    return out


def _dp_no_divide_by_k(w, X, y, lr, comm):
    return w - lr * comm.allreduce(X.T @ (X @ w - y) / len(X))


def _dp_unweighted(w, X, y, lr, comm):
    return w - lr * comm.allreduce(X.T @ (X @ w - y) / len(X)) / comm.Get_size()


def _dp_local_n(w, X, y, lr, comm):
    return w - lr * comm.allreduce(X.T @ (X @ w - y)) / len(X)


def _dp_no_allreduce(w, X, y, lr, comm):
    return w - lr * X.T @ (X @ w - y) / len(X)


register(
    "parallel.data_parallel_step",
    lesson=LESSON,
    title="One data-parallel SGD step (one rank's part)",
    reference=data_parallel_step,
    cases=_dp_cases,
    outputs=("w",),
    arg_names=("w", "X", "y"),
    protocol=Ranks(with_sent=False),
    variants=(
        Variant("forgot_divide_by_k", _dp_no_divide_by_k,
                "Your step is K times too large: the all-reduce adds K shard gradients; divide by the number of "
                "rows (or by K for equal shards)."),
        Variant("unweighted_mean", _dp_unweighted,
                "You averaged the K shard means: right only when every shard has the same number of rows. "
                "All-reduce the sums of the gradients and the row counts, then divide."),
        Variant("divided_by_local_rows", _dp_local_n,
                "You divided the all-reduced sum by this rank's own row count; divide by the total number of "
                "rows, comm.allreduce(len(X))."),
        Variant("no_allreduce", _dp_no_allreduce,
                "Every rank stepped with its own shard's gradient, so the replicas drift apart: all-reduce the "
                "gradients first."),
    ),
    hints=("g = X.T @ (X @ w - y) (a sum over this shard); total = comm.allreduce(g); n = comm.allreduce(len(X)); "
           "return w - lr * total / n (a new array).",),
)


# ---------------------------------------------------------------------------------------------
# stale gradients


def _spd(rng, D, cond):
    Q, _ = np.linalg.qr(randn(rng, D, D))
    return Q @ np.diag(np.linspace(1.0, cond, D)) @ Q.T


def _stale_cases(rng):
    out = []
    for D, tau, lr, aware, note in [(3, 2, 0.1, False, "staleness 2"), (2, 0, 0.2, False, "staleness 0"),
                                    (4, 3, 0.08, True, "staleness 3, staleness-aware"),
                                    (3, 5, 0.05, True, "staleness 5, staleness-aware")]:
        out.append(Case((_spd(rng, D, 4.0), randn(rng, D), randn(rng, D), lr, tau, 12, aware), note=note))
    return out


def _stale_fresh(A, b, w0, lr, staleness, steps, staleness_aware=False):
    return stale_gradient_descent(A, b, w0, lr, 0, steps)


def _stale_too_fresh(A, b, w0, lr, staleness, steps, staleness_aware=False):
    return stale_gradient_descent(A, b, w0, lr, max(staleness - 1, 0), steps, staleness_aware)


def _stale_negative_index(A, b, w0, lr, staleness, steps, staleness_aware=False):
    path = np.zeros((steps + 1, len(w0)))
    path[0] = w0
    for t in range(steps):
        s = t - staleness  # negative early on: Python counts from the end of the path
        path[t + 1] = path[t] - (lr / (1 + staleness) if staleness_aware else lr) * (A @ path[s] - b)
    return path


def _stale_aware_ignored(A, b, w0, lr, staleness, steps, staleness_aware=False):
    return stale_gradient_descent(A, b, w0, lr, staleness, steps)


def _stale_nominal(A, b, w0, lr, staleness, steps, staleness_aware=False):
    return stale_gradient_descent(A, b, w0, lr / (1 + staleness) if staleness_aware else lr, staleness, steps)


register(
    "parallel.stale_sgd",
    lesson=LESSON,
    title="Gradient descent with stale gradients",
    reference=stale_gradient_descent,
    cases=_stale_cases,
    outputs=("path",),
    arg_names=("A", "b", "w0", "lr", "staleness", "steps", "staleness_aware"),
    variants=(
        Variant("fresh_gradient", _stale_fresh,
                "You used the gradient at the current w: step t must use the gradient at w of step "
                "max(0, t - staleness), path[max(0, t - staleness)]."),
        Variant("one_step_too_fresh", _stale_too_fresh,
                "Your gradients are one step too fresh: at step t use path[t - staleness], not "
                "path[t - staleness + 1]."),
        Variant("negative_index", _stale_negative_index,
                "During the first steps t - staleness is negative, and path[t - staleness] reads from the END of "
                "the path (rows that are still zero): use s = max(0, t - staleness)."),
        Variant("aware_lr_ignored", _stale_aware_ignored,
                "With staleness_aware=True divide the step by 1 + (the gradient's actual delay)."),
        Variant("aware_nominal_delay", _stale_nominal,
                "You divided by 1 + staleness at every step; during the first steps the delay t - s is "
                "smaller (s = max(0, t - staleness)), divide by 1 + t - s."),
    ),
    hints=("path = [w0]; for t in range(steps): s = max(0, t - staleness); "
           "path.append(path[t] - lr_t * (A @ path[s] - b)); return np.array(path).",),
)


# ---------------------------------------------------------------------------------------------
# two-stage model parallelism


def _two_stage_cases(rng):
    out = []
    for N, D, H, M in [(4, 3, 5, 2), (1, 2, 3, 4), (6, 4, 2, 3)]:
        X, W1, W2 = randn(rng, N, D), randn(rng, D, H), randn(rng, H, M)
        out.append(Case((randn(rng, N, M), X, W1, W2), note=f"N = {N}, D = {D}, H = {H}, M = {M}", N=N))
    return out


def _two_stage_no_mask(dout, X, W1, W2):
    a = np.maximum(X @ W1, 0.0)
    return X.T @ (dout @ W2.T), a.T @ dout


def _two_stage_grad_mask(dout, X, W1, W2):
    a = np.maximum(X @ W1, 0.0)
    da = dout @ W2.T
    return X.T @ (da * (da > 0)), a.T @ dout


register(
    "parallel.two_stage_backward",
    lesson=LESSON,
    title="Backward through two model-parallel stages",
    reference=two_stage_backward,
    cases=_two_stage_cases,
    outputs=("dW1", "dW2"),
    arg_names=("dout", "X", "W1", "W2"),
    variants=(
        Variant("no_relu_mask", _two_stage_no_mask,
                "Worker 0 must pass da through its ReLU: dz = da * (z > 0) with z = X @ W1, before dW1 = X.T @ dz."),
        Variant("mask_from_gradient", _two_stage_grad_mask,
                "Your ReLU mask looks at the gradient (da > 0); it depends on the forward input: z = X @ W1 > 0."),
    ),
    hints=("Worker 1: dW2 = a.T @ dout and da = dout @ W2.T (the message back). "
           "Worker 0: dz = da * (X @ W1 > 0), dW1 = X.T @ dz.",),
)
