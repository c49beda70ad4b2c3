"""Data for the lessons: small seeded synthetic sets, the 8x8 digits, mini-batches and a loader.

Synthetic sets (each seeded, so the same call always gives the same arrays):

- :func:`spirals`, :func:`moons`, :func:`circles`, :func:`xor`: 2-D classification,
  ``X`` (N, 2) float64 and ``y`` (N,) int64 labels in [0, C).
- :func:`linear_regression`: ``X`` (N, D) and ``y`` (N,) = X @ w + b + noise.
- :func:`price_series`: a noisy daily series for the moving-average lesson.

One real data set ships inside the package: :func:`load_digits`, the UCI 8x8 handwritten
digits (Alpaydin & Kaynak, 1998, CC BY 4.0; see ``course/data/README.txt``), with a fixed
train/test split.

Mini-batches: :func:`minibatches` is a plain generator; :class:`DataLoader` is reusable
over epochs and can prepare the next batches on a background thread (``prefetch``) while
the current one trains.

Arrays are created with the current backend (:func:`course.backend.current`, NumPy unless
chosen otherwise); the random numbers themselves always come from NumPy's generator, so a
seed means the same data on every backend.
"""

from __future__ import annotations

import functools
import gzip
import importlib.resources
import math
import queue
import threading

import numpy as np

from ..backend import current, namespace
from ..validation import as_array, check_ndim, choice, non_negative

__all__ = [
    "spirals",
    "moons",
    "circles",
    "xor",
    "linear_regression",
    "price_series",
    "load_digits",
    "digits_split",
    "DIGITS_FILE",
    "minibatches",
    "DataLoader",
]

DIGITS_FILE = "digits.csv.gz"


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------


def _count(name: str, value, fn: str, minimum: int = 1) -> int:
    """``value`` as an int >= ``minimum``; floats, bools and strings are rejected."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{fn}: {name} must be an integer, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{fn}: {name} must be >= {minimum}, got {value}")
    return int(value)


def _make_rng(seed, fn: str) -> np.random.Generator:
    """A ``numpy.random.Generator``: the one given, or a new one from an int seed (None: fresh)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or (isinstance(seed, (int, np.integer)) and not isinstance(seed, bool)):
        return np.random.default_rng(seed)
    raise TypeError(
        f"{fn}: seed/rng must be an int, None or a numpy.random.Generator, got {seed!r}"
    )


def _out(X, y):
    """Move NumPy-made arrays to the current backend (a no-op for NumPy)."""
    xp = current()
    return xp.asarray(X), xp.asarray(y)


def _split_counts(n: int, parts: int) -> list[int]:
    """``n`` items shared between ``parts`` groups as evenly as possible (first groups get more)."""
    return [n // parts + (1 if k < n % parts else 0) for k in range(parts)]


# ---------------------------------------------------------------------------------------------
# synthetic classification sets
# ---------------------------------------------------------------------------------------------


def spirals(n_per_class=100, n_classes=3, noise=0.2, seed=0):
    """Interleaved spiral arms, one per class: the classic set no linear model can separate.

    Point i of arm j sits at radius r_i (evenly spaced in [0, 1]) and angle
    ``2 pi j / C + 4 r_i + noise * e``, with e ~ N(0, 1): the angle noise blurs the arms.

    Returns ``X`` (N, 2) float64 and ``y`` (N,) int64 in [0, C), N = n_per_class * C,
    sorted by class.
    """
    fn = "spirals"
    n = _count("n_per_class", n_per_class, fn)
    C = _count("n_classes", n_classes, fn, minimum=2)
    non_negative("noise", noise, fn=fn)
    rng = _make_rng(seed, fn)
    X = np.empty((n * C, 2))
    y = np.empty(n * C, dtype=np.int64)
    r = np.linspace(0.0, 1.0, n)
    for j in range(C):
        angle = 2 * np.pi * j / C + 4.0 * r + noise * rng.standard_normal(n)
        X[j * n : (j + 1) * n] = np.column_stack([r * np.cos(angle), r * np.sin(angle)])
        y[j * n : (j + 1) * n] = j
    return _out(X, y)


def moons(n_samples=200, noise=0.1, seed=0):
    """Two interleaving half circles.

    Class 0: (cos t, sin t); class 1: (1 - cos t, 0.5 - sin t), t evenly spaced in [0, pi],
    plus Gaussian noise of standard deviation ``noise`` on both coordinates.

    Returns ``X`` (N, 2) float64 and ``y`` (N,) int64 in {0, 1}, sorted by class.
    """
    fn = "moons"
    N = _count("n_samples", n_samples, fn, minimum=2)
    non_negative("noise", noise, fn=fn)
    rng = _make_rng(seed, fn)
    n0, n1 = _split_counts(N, 2)
    t0, t1 = np.linspace(0.0, np.pi, n0), np.linspace(0.0, np.pi, n1)
    upper = np.column_stack([np.cos(t0), np.sin(t0)])
    lower = np.column_stack([1.0 - np.cos(t1), 0.5 - np.sin(t1)])
    X = np.concatenate([upper, lower]) + noise * rng.standard_normal((N, 2))
    y = np.repeat(np.arange(2, dtype=np.int64), [n0, n1])
    return _out(X, y)


def circles(n_samples=200, noise=0.05, factor=0.5, seed=0):
    """A small circle (class 1, radius ``factor``) inside a large one (class 0, radius 1).

    Angles are evenly spaced; Gaussian noise of standard deviation ``noise`` is added.

    Returns ``X`` (N, 2) float64 and ``y`` (N,) int64 in {0, 1}, sorted by class.
    """
    fn = "circles"
    N = _count("n_samples", n_samples, fn, minimum=2)
    non_negative("noise", noise, fn=fn)
    if not 0 < factor < 1:
        raise ValueError(f"{fn}: factor must be in (0, 1) (the inner radius), got {factor!r}")
    rng = _make_rng(seed, fn)
    n0, n1 = _split_counts(N, 2)
    t0 = np.linspace(0.0, 2 * np.pi, n0, endpoint=False)
    t1 = np.linspace(0.0, 2 * np.pi, n1, endpoint=False)
    outer = np.column_stack([np.cos(t0), np.sin(t0)])
    inner = factor * np.column_stack([np.cos(t1), np.sin(t1)])
    X = np.concatenate([outer, inner]) + noise * rng.standard_normal((N, 2))
    y = np.repeat(np.arange(2, dtype=np.int64), [n0, n1])
    return _out(X, y)


def xor(n_samples=200, noise=0.0, seed=0):
    """The XOR problem: points uniform in the square [-1, 1]^2, label 1 where x0 * x1 < 0.

    The label is computed from the clean point; then Gaussian noise of standard deviation
    ``noise`` is added, so noisy points near the axes may cross into the other class.

    Returns ``X`` (N, 2) float64 and ``y`` (N,) int64 in {0, 1} (not sorted).
    """
    fn = "xor"
    N = _count("n_samples", n_samples, fn)
    non_negative("noise", noise, fn=fn)
    rng = _make_rng(seed, fn)
    X = rng.uniform(-1.0, 1.0, size=(N, 2))
    y = ((X[:, 0] > 0) != (X[:, 1] > 0)).astype(np.int64)
    X = X + noise * rng.standard_normal((N, 2))
    return _out(X, y)


# ---------------------------------------------------------------------------------------------
# regression and series
# ---------------------------------------------------------------------------------------------


def linear_regression(n=100, d=1, noise=0.1, seed=0, return_coef=False):
    """Noisy linear data: y = X @ w + b + noise * e, with X, w, b, e all standard normal.

    Returns ``X`` (N, D) float64 and ``y`` (N,) float64; with ``return_coef=True`` also the
    true ``w`` (D,) and ``b`` (a float): ``X, y, w, b``.
    """
    fn = "linear_regression"
    N = _count("n", n, fn)
    D = _count("d", d, fn)
    non_negative("noise", noise, fn=fn)
    rng = _make_rng(seed, fn)
    w = rng.standard_normal(D)
    b = float(rng.standard_normal())
    X = rng.standard_normal((N, D))
    y = X @ w + b + noise * rng.standard_normal(N)
    X, y = _out(X, y)
    if return_coef:
        return X, y, current().asarray(w), b
    return X, y


def price_series(n_days=365, seed=0, return_trend=False):
    """A noisy daily price for the exponential-moving-average lesson.

    The smooth part is ``trend[t] = 100 + 0.05 t + 5 sin(2 pi t / 90)`` (a slow rise and a
    90-day cycle); each day adds independent noise of standard deviation 3.

    Returns ``prices`` (T,) float64, T = n_days; with ``return_trend=True`` also the smooth
    ``trend`` (T,) that a good average should recover: ``prices, trend``.
    """
    fn = "price_series"
    T = _count("n_days", n_days, fn)
    rng = _make_rng(seed, fn)
    t = np.arange(T, dtype=np.float64)
    trend = 100.0 + 0.05 * t + 5.0 * np.sin(2 * np.pi * t / 90.0)
    prices = trend + 3.0 * rng.standard_normal(T)
    prices, trend = _out(prices, trend)
    return (prices, trend) if return_trend else prices


# ---------------------------------------------------------------------------------------------
# the 8x8 digits
# ---------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _digits_raw():
    """The shipped file as (pixels (1797, 64) int64 in 0..16, labels (1797,) int64), read once."""
    resource = importlib.resources.files(__name__).joinpath(DIGITS_FILE)
    with resource.open("rb") as raw, gzip.open(raw, "rt") as text:
        table = np.loadtxt(text, delimiter=",", dtype=np.int64)
    if table.shape != (1797, 65):
        raise RuntimeError(
            f"load_digits: {DIGITS_FILE} should hold 1797 rows of 64 pixels + 1 label, "
            f"got shape {table.shape}; reinstall backprop-course"
        )
    pixels, labels = table[:, :64], table[:, 64]
    pixels.setflags(write=False)
    labels.setflags(write=False)
    return pixels, labels


@functools.lru_cache(maxsize=1)
def _digits_split_cached():
    _, labels = _digits_raw()
    is_test = np.zeros(labels.shape[0], dtype=bool)
    for c in range(10):
        rows = np.flatnonzero(labels == c)  # this class's rows, in file order
        is_test[rows[::5]] = True  # positions 0, 5, 10, ... go to the test split
    train, test = np.flatnonzero(~is_test), np.flatnonzero(is_test)
    train.setflags(write=False)
    test.setflags(write=False)
    return train, test


def digits_split():
    """The fixed split of the digits file: ``(train_idx, test_idx)``, sorted int64 row numbers.

    Within each class, taken in file order, every fifth image (positions 0, 5, 10, ...) is a
    test image: 1,433 train and 364 test rows, stratified by class. The rule uses no random
    numbers, so the split is the same on every machine and every NumPy version.
    """
    train, test = _digits_split_cached()
    return train.copy(), test.copy()


def load_digits(split="train", scale=True):
    """The UCI 8x8 handwritten digits shipped with the course (1,797 images, 10 classes).

    - split: ``"train"`` (1,433 images), ``"test"`` (364) or ``"all"`` (1,797, file order);
      see :func:`digits_split` for the fixed rule.
    - scale: divide the pixel counts (0..16) by 16 so that X lies in [0, 1].

    Returns ``X`` (N, 64) float64, each row an 8x8 image in row-major order (reshape a row
    to (8, 8) to draw it), and ``y`` (N,) int64 labels 0..9.

    Source: Alpaydin, E. & Kaynak, C. (1998). Optical Recognition of Handwritten Digits
    [Dataset]. UCI Machine Learning Repository. https://doi.org/10.24432/C50P49 (CC BY 4.0).
    """
    choice("split", split, ("train", "test", "all"), fn="load_digits")
    pixels, labels = _digits_raw()
    if split == "all":
        rows = np.arange(labels.shape[0])
    else:
        train, test = _digits_split_cached()
        rows = train if split == "train" else test
    X = pixels[rows].astype(np.float64)
    if scale:
        X /= 16.0
    return _out(X, labels[rows].copy())


# ---------------------------------------------------------------------------------------------
# mini-batches
# ---------------------------------------------------------------------------------------------


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
