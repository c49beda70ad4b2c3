"""All-reduce over K simulated workers in one process, every message made visible.

Each of K workers holds a vector; an all-reduce leaves every worker with the elementwise sum.

- :func:`naive_allreduce`: everyone sends everything to worker 0, which adds and sends
  the sum back. Worker 0 sends and receives (K - 1) * n numbers.
- :func:`ring_allreduce`: the bandwidth-optimal ring. Each vector is cut into K chunks;
  K - 1 *reduce-scatter* steps leave each worker with the full sum of one chunk, then
  K - 1 *all-gather* steps pass the finished chunks around. Each worker sends only
  2 (K - 1) / K * n numbers, however large K is.

Both can return an :class:`AllReduceTrace`: every :class:`Message` and the elements sent and
received per worker. :mod:`course.parallel.mpi` runs the same ring schedule in real processes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..backend import namespace
from ..validation import as_array

__all__ = ["Message", "AllReduceTrace", "chunk_bounds", "naive_allreduce", "ring_allreduce"]


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


ALLREDUCE = {"ring": ring_allreduce, "naive": naive_allreduce}
