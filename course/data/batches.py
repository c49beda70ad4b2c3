"""Mini-batches: :func:`minibatches`, a plain generator, and :class:`DataLoader`, reusable over
epochs, which can prepare the next batches on a background thread while the current one trains."""

from __future__ import annotations

import math
import queue
import threading

from ..backend import namespace
from ..validation import as_array, check_ndim
from ._common import _count, _make_rng

__all__ = ["minibatches", "DataLoader"]


def _check_xy(X, y, batch_size, fn: str):
    """Validate a data set and a batch size; return X and y as arrays."""
    X = as_array("X", X, fn=fn)
    y = as_array("y", y, fn=fn, like=X)
    if X.ndim < 1:
        raise ValueError(f"{fn}: X must have shape (N, ...), one row per example, got a scalar")
    check_ndim("y", y, tuple(range(1, 8)), "(N,) or (N, M)", fn=fn)
    if X.shape[0] != y.shape[0]:
        raise ValueError(
            f"{fn}: X and y must have one row per example each, "
            f"got {X.shape[0]} rows in X and {y.shape[0]} in y"
        )
    if X.shape[0] == 0:
        raise ValueError(f"{fn}: the data set is empty (X has 0 rows); there is nothing to batch")
    _count("batch_size", batch_size, fn)
    return X, y


def _n_batches(n: int, batch_size: int, drop_last: bool) -> int:
    return n // batch_size if drop_last else math.ceil(n / batch_size)


def _batch_bounds(n: int, batch_size: int, drop_last: bool):
    """(start, stop) of each batch: full batches, then the short rest unless ``drop_last``."""
    for start in range(0, _n_batches(n, batch_size, drop_last) * batch_size, batch_size):
        yield start, min(start + batch_size, n)


def _gather(a, order, start, stop):
    """Rows ``order[start:stop]`` of ``a`` (a copy), or the view ``a[start:stop]`` if unshuffled."""
    if order is None:
        return a[start:stop, ...]
    xp = namespace(a)
    return xp.take(a, xp.asarray(order[start:stop]), axis=0)


def minibatches(X, y, batch_size, shuffle=True, drop_last=False, rng=None):
    """Yield ``(Xb, yb)`` mini-batches that together cover the data set once (one epoch).

    - X: (N, ...) inputs; y: (N,) labels or (N, M) targets.
    - batch_size: rows per batch B > 0; the last batch has the N mod B remaining rows,
      or is dropped when ``drop_last`` is True.
    - shuffle: visit the rows in a random order (a permutation drawn from ``rng``);
      otherwise in order, where batches are slices (views) of X and y.
    - rng: a ``numpy.random.Generator`` or an int seed; None draws fresh entropy.

    Arguments are checked when you call the function, not when the first batch is taken.
    """
    fn = "minibatches"
    X, y = _check_xy(X, y, batch_size, fn)
    N = X.shape[0]
    order = _make_rng(rng, fn).permutation(N) if shuffle else None

    def batches():
        for start, stop in _batch_bounds(N, batch_size, drop_last):
            yield _gather(X, order, start, stop), _gather(y, order, start, stop)

    return batches()


_DONE = object()  # the worker's "no more batches" marker


class _WorkerError:
    """Carries an exception raised in the worker thread to the main thread."""

    def __init__(self, exc: BaseException):
        self.exc = exc


class DataLoader:
    """Mini-batches over a data set, epoch after epoch, optionally prepared in the background.

    ``for Xb, yb in loader:`` runs one epoch; every new loop draws a new order (from the
    loader's own generator, so a seed makes the whole sequence of epochs reproducible).
    ``len(loader)`` is the number of batches per epoch.

    - X: (N, ...) inputs; y: (N,) labels or (N, M) targets.
    - batch_size, shuffle, drop_last: as in :func:`minibatches`.
    - seed: an int, a ``numpy.random.Generator`` or None (fresh entropy).
    - transform: optional ``transform(Xb, yb) -> (Xb, yb)`` applied to every batch
      (data augmentation, normalisation, a copy to the GPU ...).
    - prefetch: 0 prepares each batch when it is asked for. ``prefetch = n > 0`` starts a
      background thread per epoch that gathers and transforms the next batches into a queue
      holding at most n of them, so preparing batch i+1 overlaps training on batch i. This
      pays off when the preparation or the training step releases the GIL (NumPy on large
      arrays, file reads, sleeps, GPU work). The batches are exactly the same as with
      ``prefetch=0``; an exception raised while preparing a batch is raised again in the
      loop that consumes it, and leaving the loop early (``break``) stops the thread.
    """

    def __init__(
        self, X, y, batch_size, shuffle=True, drop_last=False, seed=None, prefetch=0, transform=None
    ):
        fn = "DataLoader"
        self.X, self.y = _check_xy(X, y, batch_size, fn)
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.prefetch = _count("prefetch", prefetch, fn, minimum=0)
        if transform is not None and not callable(transform):
            raise TypeError(
                f"{fn}: transform must be callable or None, got {type(transform).__name__}"
            )
        self.transform = transform
        self.rng = _make_rng(seed, fn)
        if len(self) == 0:
            raise ValueError(
                f"{fn}: drop_last=True with batch_size={batch_size} > N={self.X.shape[0]} "
                "leaves no batch at all"
            )

    def __len__(self) -> int:
        return _n_batches(self.X.shape[0], self.batch_size, self.drop_last)

    def __repr__(self) -> str:
        return (
            f"DataLoader(N={self.X.shape[0]}, batch_size={self.batch_size}, batches={len(self)}, "
            f"shuffle={self.shuffle}, drop_last={self.drop_last}, prefetch={self.prefetch})"
        )

    def _batches(self, order):
        """The epoch's batches, built one by one in the calling thread."""
        for start, stop in _batch_bounds(self.X.shape[0], self.batch_size, self.drop_last):
            Xb, yb = _gather(self.X, order, start, stop), _gather(self.y, order, start, stop)
            if self.transform is not None:
                Xb, yb = self.transform(Xb, yb)
            yield Xb, yb

    def __iter__(self):
        # The order is drawn here, in the caller's thread, so prefetching never changes
        # which random numbers are used.
        order = self.rng.permutation(self.X.shape[0]) if self.shuffle else None
        if self.prefetch == 0:
            return self._batches(order)
        return self._prefetched(order)

    def _prefetched(self, order):
        """Consume batches that a background thread puts into a bounded queue."""
        ready = queue.Queue(maxsize=self.prefetch)
        stop = threading.Event()

        def put(item) -> bool:
            # Wait for room in the queue, but give up as soon as the consumer has left.
            while not stop.is_set():
                try:
                    ready.put(item, timeout=0.05)
                    return True
                except queue.Full:
                    continue
            return False

        def work():
            try:
                for batch in self._batches(order):
                    if not put(batch):
                        return
                put(_DONE)
            except BaseException as exc:  # handed over to the consumer, raised there
                put(_WorkerError(exc))

        worker = threading.Thread(target=work, name="DataLoader-prefetch", daemon=True)
        worker.start()
        try:
            while True:
                item = ready.get()
                if item is _DONE:
                    return
                if isinstance(item, _WorkerError):
                    raise item.exc
                yield item
        finally:
            # Runs on normal end, on an error, and when the loop is left early (the
            # generator is closed): tell the worker to stop and wait until it has.
            stop.set()
            worker.join()
