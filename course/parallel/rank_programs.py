"""One rank's part of lesson 13's SPMD programs, the references of its exercises: the ring
all-reduce and the data-parallel step, written once for every rank against mpi4py's interface.
They run on the simulated world of :mod:`course.parallel.spmd` (``run_ranks``) and, unchanged, on
real processes under ``mpiexec`` (:mod:`course.parallel.mpi`). (Kept apart from the simulated
world, which the instructor's sandbox holds: no reference may be there.)
"""

from __future__ import annotations

import numpy as np

__all__ = ["ring_allreduce", "data_parallel_step"]


def ring_allreduce(x, comm):
    """This rank's part of the ring all-reduce: returns the sum of every rank's ``x``.

    - x: this rank's array (any shape, the same on every rank); not modified.
    - comm: the communicator (a :class:`SimComm`, or ``mpi4py.MPI.COMM_WORLD``).

    x is cut into K chunks (``np.array_split``, the chunks of
    :func:`~course.parallel.allreduce.chunk_bounds`). Rank r sends to r + 1 and receives from
    r - 1 (mod K), 2 (K - 1) times:

    - reduce-scatter, s = 0 .. K-2: send chunk (r - s) mod K, receive chunk (r - s - 1) mod K
      and add it to our own copy;
    - all-gather, s = 0 .. K-2: send chunk (r + 1 - s) mod K (finished), receive chunk
      (r - s) mod K and keep it.

    Returns a new array shaped like x.
    """
    K, r = comm.Get_size(), comm.Get_rank()
    flat = np.array(x, copy=True).reshape(-1)
    chunks = [c.copy() for c in np.array_split(flat, K)]  # the same chunks as chunk_bounds
    right, left = (r + 1) % K, (r - 1) % K
    for s in range(K - 1):
        received = comm.sendrecv(chunks[(r - s) % K], dest=right, source=left)
        c = (r - s - 1) % K
        chunks[c] = chunks[c] + received
    for s in range(K - 1):
        chunks[(r - s) % K] = comm.sendrecv(chunks[(r + 1 - s) % K], dest=right, source=left)
    return np.concatenate(chunks).reshape(np.shape(x))


def data_parallel_step(w, X, y, lr, comm):
    """One data-parallel SGD step of least squares, run by every rank on its own shard.

    The loss is the mean over all N = sum_k n_k rows of every rank: L = (1/N) sum 1/2 (x w - y)^2.

    - w: (D,) this rank's replica (the same on every rank); not modified.
    - X: (n_k, D), y: (n_k,): this rank's rows (shards may differ in size).
    - lr: step size; comm: the communicator.

    Each rank adds up the gradients of its rows, ``X^T (X w - y)``, the ranks all-reduce these
    sums and the row counts, and divide: the exact gradient of the whole batch, so every rank
    takes the step that one worker with all N rows would take. Returns the new w (D,).
    """
    g_sum = X.T @ (X @ w - y)
    total = comm.allreduce(g_sum)
    n = comm.allreduce(X.shape[0])
    return w - lr * total / n
