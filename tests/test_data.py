"""Data: synthetic sets against their defining formulas, the shipped digits and their fixed split,
mini-batches and the prefetching DataLoader (correctness and, functionally, concurrency)."""

import gzip
import hashlib
import importlib.resources
import threading

import numpy as np
import pytest
from _backends import xp  # noqa: F401

from course.backend import to_numpy
from course.data import (
    DataLoader,
    circles,
    digits_split,
    linear_regression,
    load_digits,
    minibatches,
    moons,
    price_series,
    spirals,
    xor,
)

# ------------------------------------------------------------------------------------------------
# synthetic sets
# ------------------------------------------------------------------------------------------------

CLASSIFICATION = [
    (spirals, {"n_per_class": 50, "n_classes": 4}, 200, 4),
    (moons, {"n_samples": 101}, 101, 2),
    (circles, {"n_samples": 60}, 60, 2),
    (xor, {"n_samples": 80}, 80, 2),
]


@pytest.mark.parametrize("make,kwargs,N,C", CLASSIFICATION)
def test_classification_sets_shapes_and_determinism(make, kwargs, N, C):
    X, y = make(**kwargs, seed=3)
    assert X.shape == (N, 2) and X.dtype == np.float64
    assert y.shape == (N,) and y.dtype == np.int64
    assert set(np.unique(y)) == set(range(C))
    X2, y2 = make(**kwargs, seed=3)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    X3, _ = make(**kwargs, seed=4)
    assert not np.array_equal(X, X3)
    assert np.all(np.isfinite(X))


def test_spirals_formula_without_noise():
    X, y = spirals(n_per_class=5, n_classes=2, noise=0.0)
    r = np.linspace(0, 1, 5)
    np.testing.assert_allclose(np.hypot(X[:, 0], X[:, 1]), np.concatenate([r, r]), atol=1e-15)
    # the last point of arm 1: radius 1, angle pi + 4
    np.testing.assert_allclose(X[-1], [np.cos(np.pi + 4), np.sin(np.pi + 4)], atol=1e-15)
    np.testing.assert_array_equal(y, [0] * 5 + [1] * 5)


def test_moons_circles_xor_without_noise():
    X, y = moons(n_samples=21, noise=0.0)
    upper, lower = X[y == 0], X[y == 1]
    assert len(upper) == 11 and len(lower) == 10
    np.testing.assert_allclose(np.hypot(*upper.T), 1.0)
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1, lower[:, 1] - 0.5), 1.0)
    assert np.all(upper[:, 1] >= -1e-12) and np.all(lower[:, 1] <= 0.5 + 1e-12)

    X, y = circles(n_samples=40, noise=0.0, factor=0.3)
    np.testing.assert_allclose(np.hypot(*X.T), np.where(y == 0, 1.0, 0.3))

    X, y = xor(n_samples=500, noise=0.0)
    np.testing.assert_array_equal(y, (X[:, 0] * X[:, 1] < 0).astype(int))
    assert np.all(np.abs(X) <= 1) and 0.4 < y.mean() < 0.6


def test_linear_regression_recovers_coefficients():
    X, y, w, b = linear_regression(n=50, d=3, noise=0.0, seed=1, return_coef=True)
    assert X.shape == (50, 3) and y.shape == (50,) and w.shape == (3,) and isinstance(b, float)
    np.testing.assert_allclose(y, X @ w + b, rtol=0, atol=1e-12)
    X, y = linear_regression(n=2000, d=2, noise=0.5, seed=2)
    A = np.column_stack([X, np.ones(len(X))])
    fit, *_ = np.linalg.lstsq(A, y, rcond=None)
    _, _, w2, b2 = linear_regression(n=2000, d=2, noise=0.5, seed=2, return_coef=True)
    np.testing.assert_allclose(fit, np.append(w2, b2), atol=0.05)


def test_price_series():
    prices, trend = price_series(n_days=720, seed=5, return_trend=True)
    t = np.arange(720)
    np.testing.assert_allclose(trend, 100 + 0.05 * t + 5 * np.sin(2 * np.pi * t / 90))
    assert 2.7 < np.std(prices - trend) < 3.3
    np.testing.assert_array_equal(price_series(n_days=720, seed=5), prices)
    assert price_series().shape == (365,)


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: spirals(n_per_class=0), "n_per_class must be >= 1"),
        (lambda: spirals(n_classes=1), "n_classes must be >= 2"),
        (lambda: spirals(n_per_class=2.5), "n_per_class must be an integer"),
        (lambda: moons(noise=-1), "noise must be >= 0"),
        (lambda: circles(factor=1.5), "factor must be in"),
        (lambda: xor(seed="a"), "seed"),
        (lambda: linear_regression(d=0), "d must be >= 1"),
        (lambda: price_series(n_days=0), "n_days must be >= 1"),
    ],
)
def test_synthetic_bad_input(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


# ------------------------------------------------------------------------------------------------
# digits
# ------------------------------------------------------------------------------------------------


def test_digits_file_is_the_shipped_uci_copy():
    resource = importlib.resources.files("course.data").joinpath("digits.csv.gz")
    raw = resource.read_bytes()
    assert (
        hashlib.sha256(raw).hexdigest()
        == "09f66e6debdee2cd2b5ae59e0d6abbb73fc2b0e0185d2e1957e9ebb51e23aa22"
    )
    first = gzip.decompress(raw).decode().splitlines()[0]
    assert first.startswith("0,0,5,13,9,1,0,0,") and first.endswith(",0")  # a zero
    readme = importlib.resources.files("course.data").joinpath("README.txt").read_text()
    assert "10.24432/C50P49" in readme and "CC BY 4.0" in readme


def test_load_digits_shapes_and_ranges():
    X, y = load_digits("all")
    assert X.shape == (1797, 64) and X.dtype == np.float64 and y.dtype == np.int64
    assert X.min() == 0.0 and X.max() == 1.0
    np.testing.assert_array_equal(np.bincount(y), [178, 182, 177, 183, 181, 182, 181, 179, 174, 180])
    Xr, _ = load_digits("all", scale=False)
    np.testing.assert_array_equal(Xr, X * 16)
    assert set(np.unique(Xr)) <= set(range(17))
    Xtr, ytr = load_digits("train")
    Xte, yte = load_digits()  # train is the default
    np.testing.assert_array_equal(Xtr, Xte)
    assert Xtr.shape == (1433, 64) and load_digits("test")[0].shape == (364, 64)


def test_digits_split_is_fixed_stratified_and_disjoint():
    train, test = digits_split()
    assert len(train) == 1433 and len(test) == 364
    assert np.intersect1d(train, test).size == 0
    np.testing.assert_array_equal(np.sort(np.concatenate([train, test])), np.arange(1797))
    _, y_all = load_digits("all")
    _, y_test = load_digits("test")
    np.testing.assert_array_equal(y_all[test], y_test)
    counts = np.bincount(y_all, minlength=10)
    np.testing.assert_array_equal(np.bincount(y_test, minlength=10), -(-counts // 5))  # ceil(n/5)
    # The split must never change: checksums of the test rows and their labels.
    assert (
        hashlib.sha256(test.astype("<i8").tobytes()).hexdigest()
        == "c0e2fd0581477082624ff3892f94e2a4eccd0a18f8c6ce6f2d886a9df276b056"
    )
    assert (
        hashlib.sha256(y_test.astype("<i8").tobytes()).hexdigest()
        == "e60993bd5c00306341c1e6324adb43073cf6b9bb31d96a2effa044765a385458"
    )


def test_load_digits_returns_fresh_arrays():
    X, y = load_digits("test")
    X[:] = -1
    y[:] = -1
    X2, y2 = load_digits("test")
    assert X2.min() == 0.0 and y2.min() == 0
    train, _ = digits_split()
    kept = train.copy()
    train[:] = 0
    np.testing.assert_array_equal(digits_split()[0], kept)


def test_load_digits_bad_split():
    with pytest.raises(ValueError, match="split must be one of"):
        load_digits("validation")


# ------------------------------------------------------------------------------------------------
# minibatches
# ------------------------------------------------------------------------------------------------


def _data(N=23, D=3):
    X = np.arange(N * D, dtype=np.float64).reshape(N, D)
    return X, np.arange(N)


def test_minibatches_in_order():
    X, y = _data()
    batches = list(minibatches(X, y, 5, shuffle=False))
    assert [len(b[1]) for b in batches] == [5, 5, 5, 5, 3]
    np.testing.assert_array_equal(np.concatenate([b[0] for b in batches]), X)
    np.testing.assert_array_equal(batches[1][1], [5, 6, 7, 8, 9])
    assert [len(b[1]) for b in minibatches(X, y, 5, shuffle=False, drop_last=True)] == [5] * 4
    assert [len(b[1]) for b in minibatches(X, y, 100, shuffle=False)] == [23]


def test_minibatches_shuffled_cover_every_row_once_and_keep_pairs():
    X, y = _data()
    batches = list(minibatches(X, y, 4, rng=np.random.default_rng(0)))
    ys = np.concatenate([b[1] for b in batches])
    assert sorted(ys) == list(range(23)) and not np.array_equal(ys, np.arange(23))
    for Xb, yb in batches:
        np.testing.assert_array_equal(Xb, X[yb])  # rows stay with their labels
    again = np.concatenate([b[1] for b in minibatches(X, y, 4, rng=0)])
    np.testing.assert_array_equal(again, np.concatenate([b[1] for b in minibatches(X, y, 4, rng=0)]))
    dropped = list(minibatches(X, y, 4, rng=1, drop_last=True))
    assert len(dropped) == 5 and all(len(b[1]) == 4 for b in dropped)


def test_minibatches_keep_backend(xp):  # noqa: F811
    X, y = _data(10, 2)
    batches = list(minibatches(xp.asarray(X), xp.asarray(y), 3, rng=0))
    assert all(xp.is_native(Xb) and xp.is_native(yb) for Xb, yb in batches)
    ys = np.concatenate([to_numpy(yb) for _, yb in batches])
    assert sorted(ys) == list(range(10))
    for Xb, yb in batches:
        np.testing.assert_array_equal(to_numpy(Xb), X[to_numpy(yb)])


@pytest.mark.parametrize(
    "args,kwargs,match",
    [
        ((np.zeros((4, 2)), np.zeros(4), 0), {}, "batch_size must be >= 1"),
        ((np.zeros((4, 2)), np.zeros(4), -3), {}, "batch_size must be >= 1"),
        ((np.zeros((4, 2)), np.zeros(4), 2.0), {}, "batch_size must be an integer"),
        ((np.zeros((4, 2)), np.zeros(5), 2), {}, "4 rows in X and 5 in y"),
        ((np.zeros((0, 2)), np.zeros(0), 2), {}, "empty"),
        ((None, np.zeros(0), 2), {}, "X must be an array"),
        ((np.zeros((4, 2)), np.zeros(4), 2), {"rng": "seed"}, "Generator"),
    ],
)
def test_minibatches_bad_input_fails_at_call_time(args, kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        minibatches(*args, **kwargs)  # no next(): the check happens on the call


# ------------------------------------------------------------------------------------------------
# DataLoader
# ------------------------------------------------------------------------------------------------


def _collect(loader, epochs=2):
    return [[(Xb.copy(), yb.copy()) for Xb, yb in loader] for _ in range(epochs)]


def test_loader_len_and_epochs_differ():
    X, y = _data()
    loader = DataLoader(X, y, 5, seed=0)
    assert len(loader) == 5 and len(DataLoader(X, y, 5, drop_last=True)) == 4
    e1, e2 = _collect(loader)
    assert len(e1) == 5
    y1, y2 = np.concatenate([b[1] for b in e1]), np.concatenate([b[1] for b in e2])
    assert sorted(y1) == sorted(y2) == list(range(23)) and not np.array_equal(y1, y2)
    assert "batches=5" in repr(loader)


@pytest.mark.parametrize("prefetch", [1, 3])
def test_prefetch_gives_the_same_batches(prefetch):
    X, y = _data()

    def transform(Xb, yb):
        return Xb * 2.0, yb + 100

    plain = _collect(DataLoader(X, y, 4, seed=7, transform=transform))
    fetched = _collect(DataLoader(X, y, 4, seed=7, transform=transform, prefetch=prefetch))
    for ep_a, ep_b in zip(plain, fetched):
        assert len(ep_a) == len(ep_b) == 6
        for (Xa, ya), (Xb, yb) in zip(ep_a, ep_b):
            np.testing.assert_array_equal(Xa, Xb)
            np.testing.assert_array_equal(ya, yb)
            np.testing.assert_array_equal(Xa, 2.0 * X[ya - 100])


def _prefetch_threads():
    return [t for t in threading.enumerate() if t.name == "DataLoader-prefetch"]


def test_transform_runs_on_a_background_thread_only_with_prefetch():
    X, y = _data()
    seen = []

    def transform(Xb, yb):
        seen.append(threading.get_ident())
        return Xb, yb

    list(DataLoader(X, y, 5, transform=transform))
    assert set(seen) == {threading.get_ident()}
    seen.clear()
    list(DataLoader(X, y, 5, transform=transform, prefetch=2))
    assert len(seen) == 5 and threading.get_ident() not in seen
    assert not _prefetch_threads()


def test_next_batch_is_prepared_while_the_current_one_is_used():
    """While the loop body holds batch 0, the worker must start preparing batch 1.

    Without a background thread the wait below could never succeed (it would time out)."""
    X, y = _data(20)
    started = [threading.Event() for _ in range(4)]
    count = iter(range(4))

    def transform(Xb, yb):
        started[next(count)].set()
        return Xb, yb

    for prefetch, expect in ((0, False), (1, True)):
        count = iter(range(4))
        for e in started:
            e.clear()
        loader = DataLoader(X, y, 5, shuffle=False, transform=transform, prefetch=prefetch)
        for i, _ in enumerate(loader):
            if i == 0:
                overlapped = started[1].wait(timeout=5.0 if expect else 0.2)
        assert overlapped is expect


def test_prefetch_queue_is_bounded():
    X, y = _data(40)
    prepared = []
    gate = threading.Event()

    def transform(Xb, yb):
        prepared.append(len(prepared))
        return Xb, yb

    loader = DataLoader(X, y, 2, shuffle=False, transform=transform, prefetch=2)
    it = iter(loader)
    next(it)
    gate.wait(0.3)  # give the worker ample time to run ahead as far as it can
    # batch 0 was taken; at most 2 wait in the queue and 1 more is blocked on put()
    assert len(prepared) <= 1 + 2 + 1
    it.close()
    assert not _prefetch_threads()


def test_worker_exception_is_raised_in_the_loop():
    X, y = _data()

    def transform(Xb, yb):
        if yb[0] >= 10:
            raise ArithmeticError("bad batch")
        return Xb, yb

    loader = DataLoader(X, y, 5, shuffle=False, transform=transform, prefetch=2)
    got = []
    with pytest.raises(ArithmeticError, match="bad batch"):
        for _, yb in loader:
            got.append(yb[0])
    assert got == [0, 5]
    assert not _prefetch_threads()


def test_breaking_out_early_stops_the_worker():
    X, y = _data(200)
    loader = DataLoader(X, y, 2, prefetch=2, seed=0)
    for i, _ in enumerate(loader):
        if i == 2:
            assert len(_prefetch_threads()) == 1
            break
    assert not _prefetch_threads()
    assert len(list(loader)) == 100  # the loader is still usable


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"batch_size": 0}, "batch_size must be >= 1"),
        ({"prefetch": -1}, "prefetch must be >= 0"),
        ({"transform": 3}, "transform must be callable"),
        ({"batch_size": 50, "drop_last": True}, "leaves no batch"),
        ({"y": np.zeros(3)}, "23 rows in X and 3 in y"),
    ],
)
def test_loader_bad_input(kwargs, match):
    X, y = _data()
    args = {"X": X, "y": y, "batch_size": 4} | kwargs
    with pytest.raises((ValueError, TypeError), match=match):
        DataLoader(**args)
