"""One program, K ranks: code written for MPI, run on simulated ranks (threads) or on real processes.

MPI programs are *SPMD* (single program, multiple data): every process runs the same function
and learns who it is from its communicator, ``comm.Get_rank()`` (0 .. K-1) and
``comm.Get_size()`` (K). The functions of this module take such a ``comm`` and use only the
part of mpi4py's interface below, so the very same function runs

- here, on K threads in one process, with :func:`run_ranks` (every message is recorded), and
- on K real processes, started by ``mpiexec -n K``, with ``comm = mpi4py.MPI.COMM_WORLD``
  (see :mod:`course.parallel.mpi`).

The interface (mpi4py's lower-case methods, which send any Python object)::

    comm.Get_rank(), comm.Get_size()
    received = comm.sendrecv(data, dest=j, source=i)  # send to rank j and receive from rank i
    total = comm.allreduce(value)                     # the sum over all ranks, on every rank

:func:`ring_allreduce` is the ring all-reduce of :mod:`course.parallel.allreduce` written this
way, and :func:`data_parallel_step` one data-parallel SGD step of linear least squares.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass, field

import numpy as np

__all__ = ["SimComm", "RankTrace", "RankError", "run_ranks"]

_POLL = 0.05  # seconds between checks that another rank has not failed


class RankError(RuntimeError):
    """A rank waited for a message or a collective that never came (the ranks disagree)."""


@dataclass
class RankTrace:
    """What the ranks sent to each other: messages ``(src, dst, elements)`` in order of sending,
    and the elements sent per rank (``sent[r]``) and the number of messages per rank."""

    K: int
    messages: list = field(default_factory=list)
    sent: list = field(default_factory=list)
    calls: list = field(default_factory=list)

    def __post_init__(self):
        self.sent = [0] * self.K
        self.calls = [0] * self.K


def _elements(data) -> int:
    """How many numbers a message carries (an array's size; a list's total; 1 for a number)."""
    if isinstance(data, (list, tuple)):
        return sum(_elements(d) for d in data)
    return int(np.size(data))


def _copy(data):
    """What the receiver gets: a copy, as if the data had travelled (MPI pickles it)."""
    if isinstance(data, np.ndarray):
        return data.copy()
    if isinstance(data, (list, tuple)):
        return type(data)(_copy(d) for d in data)
    return data


class _World:
    """State shared by the K simulated ranks: mailboxes, a barrier, the trace, a failure flag."""

    def __init__(self, K, timeout):
        self.K, self.timeout = K, timeout
        self.boxes = {(i, j): queue.Queue() for i in range(K) for j in range(K)}
        self.barrier = threading.Barrier(K)
        self.slots = [None] * K
        self.trace = RankTrace(K)
        self.lock = threading.Lock()
        self.failed = threading.Event()


class SimComm:
    """Rank ``rank`` of a simulated world: the mpi4py methods listed in the module docstring."""

    def __init__(self, world: _World, rank: int, allreduce: bool = True):
        self._world, self.rank, self.size, self._allreduce = world, rank, world.K, allreduce

    def Get_rank(self) -> int:  # noqa: N802 - mpi4py's names
        return self.rank

    def Get_size(self) -> int:  # noqa: N802
        return self.size

    def _check_peer(self, name, peer):
        if isinstance(peer, bool) or not isinstance(peer, (int, np.integer)) or not 0 <= peer < self.size:
            raise ValueError(f"sendrecv: {name} must be a rank in 0..{self.size - 1}, got {peer!r}")

    def sendrecv(self, data, dest, source):
        """Send ``data`` to rank ``dest``, then return the next message from rank ``source``."""
        self._check_peer("dest", dest)
        self._check_peer("source", source)
        w = self._world
        with w.lock:
            w.trace.messages.append((self.rank, int(dest), _elements(data)))
            w.trace.sent[self.rank] += _elements(data)
            w.trace.calls[self.rank] += 1
        w.boxes[(self.rank, int(dest))].put(_copy(data))
        waited = 0.0
        while True:
            try:
                return w.boxes[(int(source), self.rank)].get(timeout=_POLL)
            except queue.Empty:
                waited += _POLL
                if w.failed.is_set():
                    raise RankError("another rank failed") from None
                if waited >= w.timeout:
                    raise RankError(
                        f"rank {self.rank} waited {w.timeout:g} s for a message from rank {source} that never "
                        "came: every rank must call sendrecv the same number of times, with matching "
                        "dest and source"
                    ) from None

    def _wait(self):
        try:
            self._world.barrier.wait(timeout=self._world.timeout)
        except threading.BrokenBarrierError:
            raise RankError(
                f"rank {self.rank}: not every rank reached allreduce: all ranks must call it, in the same order"
            ) from None

    def allreduce(self, value):
        """The sum of ``value`` over all ranks (added in rank order), returned on every rank."""
        if not self._allreduce:
            raise RankError("this communicator has no allreduce here: the all-reduce is the exercise; "
                            "pass the data around with comm.sendrecv")
        w = self._world
        w.slots[self.rank] = _copy(value)
        self._wait()
        total = w.slots[0]
        for v in w.slots[1:]:
            total = total + v
        self._wait()  # everyone has read the slots before they are reused
        return _copy(total)


def run_ranks(fn, per_rank_args, timeout=5.0, allreduce=True):
    """Run ``fn(*per_rank_args[r], comm_r)`` on K = len(per_rank_args) simulated ranks (threads);
    with ``allreduce=False`` the communicators have ``sendrecv`` only (an all-reduce exercise).

    Returns ``(results, trace)``: the K return values, in rank order, and a :class:`RankTrace`.
    The first exception raised by a rank is raised again here (its own traceback), after the
    other ranks have stopped.
    """
    K = len(per_rank_args)
    if K < 1:
        raise ValueError("run_ranks: per_rank_args is empty; need at least one rank")
    world = _World(K, timeout)
    results, errors = [None] * K, [None] * K

    def body(r):
        try:
            results[r] = fn(*per_rank_args[r], SimComm(world, r, allreduce))
        except BaseException as exc:  # handed to the caller below
            errors[r] = exc
            world.failed.set()
            world.barrier.abort()

    threads = [threading.Thread(target=body, args=(r,), daemon=True) for r in range(K)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout + 2 * K * _POLL + 5)
    if any(t.is_alive() for t in threads):
        world.failed.set()
        raise RankError(f"run_ranks: a rank did not finish within {timeout:g} s")
    first = next((e for e in errors if e is not None and not isinstance(e, RankError)), None)
    first = first or next((e for e in errors if e is not None), None)
    if first is not None:
        raise first
    return results, world.trace
