"""Data preprocessing without leaks, and augmentation of the 8x8 digits (lesson 11).

Standardising: every statistic a model uses comes from the TRAINING split only. Fit the mean and
standard deviation on the training rows, then apply those same numbers to the validation and
test rows. Fitting on all the data lets the validation and test sets leak into training, and the
validation score no longer measures what it claims to.

    scaler = Standardizer().fit(X_train)
    X_train_s, X_val_s, X_test_s = (scaler.transform(X) for X in (X_train, X_val, X_test))

A feature that is constant on the training rows (the digits' border pixels are always 0) has
std 0; its scale is taken as 1, so it becomes 0 everywhere instead of NaN (scikit-learn's
``StandardScaler`` does the same).

Augmentation: :func:`augment_digits` makes new training images from old ones, each shifted by
at most ``max_shift`` pixels in each direction (zeros come in at the border: the image does
not wrap around) plus a little Gaussian noise.
"""

from __future__ import annotations

import numbers

import numpy as np

from .init import as_generator
from .validation import check_ndim, float_array, non_negative

__all__ = ["Standardizer", "standardize_splits", "shift_image", "augment_digits"]


class Standardizer:
    """Per-feature standardisation fitted on training data: (X - mean_) / scale_.

    Attributes after :meth:`fit`: ``mean_`` (D,) and ``scale_`` (D,), the training rows' mean and
    (biased, divide by N) standard deviation, with 1 in place of 0 for constant features.
    """

    def __init__(self):
        self.mean_ = None
        self.scale_ = None

    def fit(self, X):
        """Learn mean_ and scale_ from X (N, D), the training rows only. Returns self."""
        X = float_array("X", X, fn="Standardizer.fit")
        check_ndim("X", X, 2, "(N, D)", fn="Standardizer.fit")
        self.mean_ = X.mean(axis=0)
        std = X.std(axis=0)
        self.scale_ = np.where(std > 0, std, 1.0)
        return self

    def transform(self, X):
        """(X - mean_) / scale_ for X (M, D), with the statistics learned by :meth:`fit`."""
        fn = "Standardizer.transform"
        if self.mean_ is None:
            raise ValueError(f"{fn}: call fit(X_train) first")
        X = float_array("X", X, fn=fn)
        check_ndim("X", X, 2, "(M, D)", fn=fn)
        if X.shape[1] != self.mean_.shape[0]:
            raise ValueError(f"{fn}: X has {X.shape[1]} features, the data fitted had {self.mean_.shape[0]}")
        return (X - self.mean_) / self.scale_


def standardize_splits(X_train, X_val, X_test):
    """Standardise three splits with the statistics of the training split only.

    - X_train: (N, D); X_val: (M, D); X_test: (K, D).

    Returns ``(train, val, test)``, each like its input: (X - mean) / scale with mean and scale
    (the std, 1 where it is 0) of X_train's columns.
    """
    scaler = Standardizer().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_val), scaler.transform(X_test)


def shift_image(img, dy, dx):
    """``img`` (H, W) moved down by dy rows and right by dx columns (negative: up, left); the
    pixels that come in are 0 (nothing wraps around)."""
    H, W = img.shape
    out = np.zeros_like(img)
    ys, yd = (slice(0, H - dy), slice(dy, H)) if dy >= 0 else (slice(-dy, H), slice(0, H + dy))
    xs, xd = (slice(0, W - dx), slice(dx, W)) if dx >= 0 else (slice(-dx, W), slice(0, W + dx))
    out[yd, xd] = img[ys, xs]
    return out


def augment_digits(X, rng=None, max_shift=1, noise=0.05):
    """Random shifts and noise for 8x8 digit images.

    - X: (N, 64), each row an 8x8 image in row-major order (see :func:`course.data.load_digits`).
    - rng: a ``numpy.random.Generator`` or an integer seed.
    - max_shift: each image moves by dy, dx drawn uniformly from the integers -max_shift ..
      max_shift (``rng.integers(-max_shift, max_shift + 1, size=(N, 2))``, column 0 is dy).
    - noise: the std of the Gaussian noise added afterwards (``noise * rng.standard_normal((N, 64))``,
      drawn after the shifts).

    Returns a new (N, 64) array; X is not changed.
    """
    fn = "augment_digits"
    X = float_array("X", X, fn=fn)
    check_ndim("X", X, 2, "(N, 64)", fn=fn)
    if X.shape[1] != 64:
        raise ValueError(f"{fn}: X must hold 8x8 images as rows of 64 pixels, got shape {tuple(X.shape)}")
    if not isinstance(max_shift, numbers.Integral) or isinstance(max_shift, bool) or not 0 <= max_shift < 8:
        raise ValueError(f"{fn}: max_shift must be an integer in 0 .. 7, got {max_shift!r}")
    non_negative("noise", noise, fn=fn)
    gen = as_generator(rng, fn=fn)
    N = X.shape[0]
    shifts = gen.integers(-max_shift, max_shift + 1, size=(N, 2))
    images = X.reshape(N, 8, 8)
    out = np.stack([shift_image(images[i], int(dy), int(dx)) for i, (dy, dx) in enumerate(shifts)])
    out = out.reshape(N, 64)
    return out + noise * gen.standard_normal((N, 64))
