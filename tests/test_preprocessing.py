"""Leak-free standardising and digit augmentation (course.preprocessing): hand-computed cases."""

import numpy as np
import pytest

from course.data import load_digits
from course.preprocessing import Standardizer, augment_digits, shift_image, standardize_splits


def test_standardizer_uses_training_statistics_only():
    X_train = np.array([[1.0, 5.0], [3.0, 5.0]])  # column 1 is constant: scale 1, not 0
    X_val = np.array([[5.0, 7.0]])
    scaler = Standardizer().fit(X_train)
    np.testing.assert_array_equal(scaler.mean_, [2.0, 5.0])
    np.testing.assert_array_equal(scaler.scale_, [1.0, 1.0])
    tr, val, te = standardize_splits(X_train, X_val, X_val)
    np.testing.assert_array_equal(tr, [[-1.0, 0.0], [1.0, 0.0]])
    np.testing.assert_array_equal(val, [[3.0, 2.0]])  # the validation row is NOT re-centred
    np.testing.assert_array_equal(te, val)


def test_standardizer_on_the_digits_has_no_nan_and_unit_scale():
    X, _ = load_digits("train")
    Xs = Standardizer().fit(X).transform(X)
    assert not np.isnan(Xs).any()
    varying = X.std(axis=0) > 0
    np.testing.assert_allclose(Xs[:, varying].std(axis=0), 1.0, rtol=1e-12)
    np.testing.assert_allclose(Xs.mean(axis=0), 0.0, atol=1e-12)


def test_standardizer_errors():
    with pytest.raises(ValueError, match="fit"):
        Standardizer().transform(np.ones((2, 2)))
    with pytest.raises(ValueError, match="features"):
        Standardizer().fit(np.ones((3, 2))).transform(np.ones((1, 3)))


def test_shift_image_fills_with_zeros_and_never_wraps():
    img = np.arange(1.0, 10.0).reshape(3, 3)
    np.testing.assert_array_equal(shift_image(img, 1, 0), [[0, 0, 0], [1, 2, 3], [4, 5, 6]])
    np.testing.assert_array_equal(shift_image(img, 0, -1), [[2, 3, 0], [5, 6, 0], [8, 9, 0]])
    np.testing.assert_array_equal(shift_image(img, -2, 2), [[0, 0, 7], [0, 0, 0], [0, 0, 0]])
    np.testing.assert_array_equal(shift_image(img, 0, 0), img)


def test_augment_follows_the_documented_draws():
    X, _ = load_digits("train")
    X = X[:5]
    out = augment_digits(X, rng=3, max_shift=1, noise=0.1)
    g = np.random.default_rng(3)
    shifts = g.integers(-1, 2, size=(5, 2))
    noise = 0.1 * g.standard_normal((5, 64))
    for i, (dy, dx) in enumerate(shifts):
        expected = shift_image(X[i].reshape(8, 8), int(dy), int(dx)).reshape(64) + noise[i]
        np.testing.assert_allclose(out[i], expected, rtol=1e-15)
    np.testing.assert_array_equal(augment_digits(X, rng=0, max_shift=0, noise=0.0), X)
    assert not np.shares_memory(augment_digits(X, rng=0, max_shift=0, noise=0.0), X)


def test_augment_errors():
    with pytest.raises(ValueError, match="64"):
        augment_digits(np.ones((2, 63)))
    with pytest.raises(ValueError, match="max_shift"):
        augment_digits(np.ones((2, 64)), max_shift=8)
