"""The UCI 8x8 handwritten digits, shipped in the package (``digits.csv.gz``), with a fixed split."""

from __future__ import annotations

import functools
import gzip
import importlib.resources

import numpy as np

from ..validation import choice
from ._common import _out

__all__ = ["load_digits", "digits_split", "DIGITS_FILE"]

DIGITS_FILE = "digits.csv.gz"
#: Only in the instructor's grading view: the test rows, one per line. The view's digits file has
#: -1 for their labels (the grader keeps them), so the split cannot be derived from the labels there.
TEST_ROWS_FILE = "digits_test_rows.txt"


@functools.lru_cache(maxsize=1)
def _digits_raw():
    """The shipped file as (pixels (1797, 64) int64 in 0..16, labels (1797,) int64), read once."""
    resource = importlib.resources.files(__package__).joinpath(DIGITS_FILE)
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


def rule_test_rows(labels) -> np.ndarray:
    """The rule of :func:`digits_split`: every fifth image of each class, in file order."""
    is_test = np.zeros(labels.shape[0], dtype=bool)
    for c in range(10):
        rows = np.flatnonzero(labels == c)  # this class's rows, in file order
        is_test[rows[::5]] = True  # positions 0, 5, 10, ... go to the test split
    return np.flatnonzero(is_test)


@functools.lru_cache(maxsize=1)
def _digits_split_cached():
    _, labels = _digits_raw()
    shipped = importlib.resources.files(__package__).joinpath(TEST_ROWS_FILE)
    test = np.loadtxt(shipped.open("r"), dtype=np.int64).reshape(-1) if shipped.is_file() else rule_test_rows(labels)
    is_test = np.zeros(labels.shape[0], dtype=bool)
    is_test[test] = True
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
    to (8, 8) to draw it), and ``y`` (N,) int64 labels 0..9 (-1 for the test images while an
    instructor grades the notebook: the grader keeps those labels).

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
