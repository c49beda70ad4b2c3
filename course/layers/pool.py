"""Max-pooling over square windows, forward and backward (``torch.nn.functional.max_pool2d``).

x (N, C, H, W) -> out (N, C, H', W') with H' = 1 + (H - size) // stride (no padding), and

    out[n, c, i, j] = max over the size x size window at (i * stride, j * stride)

Backward: each window's upstream gradient goes to ONE entry, the position of its maximum; when
several entries tie for the maximum, to the first in row-major order (what PyTorch does), not
to all of them. With overlapping windows (stride < size) an entry can receive from several.

NumPy arrays only: these modules have no CuPy path (other backends' arrays are rejected).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..validation import check_ndim, check_shape, float_array

__all__ = ["max_pool_forward", "max_pool_backward"]


def _windows(x, size, stride):
    """(N, C, H', W', size * size): every window, flattened in row-major order."""
    v = sliding_window_view(x, (size, size), axis=(2, 3))[:, :, ::stride, ::stride]
    return v.reshape(*v.shape[:4], size * size)


def max_pool_forward(x, size=2, stride=2):
    """Max-pooling forward.

    Inputs: x (N, C, H, W); size: the window side; stride: the step between windows.
    Returns ``(out, cache)``: out (N, C, H', W'), H' = 1 + (H - size) // stride (likewise W');
    cache = (x, size, stride).
    """
    fn = "max_pool_forward"
    x = np.asarray(float_array("x", x, fn=fn))
    check_ndim("x", x, 4, "(N, C, H, W)", fn=fn)
    for name, v in (("size", size), ("stride", stride)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{fn}: {name} must be an int >= 1, got {v!r}")
    if size > min(x.shape[2:]):
        raise ValueError(f"{fn}: the window size {size} is larger than the image {tuple(x.shape[2:])} of x")
    return _windows(x, size, stride).max(axis=-1), (x, size, stride)


def max_pool_backward(dout, cache):
    """Max-pooling backward.

    Inputs: dout (N, C, H', W'); cache (x, size, stride) from :func:`max_pool_forward`.
    Returns dx (N, C, H, W): zero except at each window's (first) maximum, which receives that
    window's dout (added up where windows overlap).
    """
    fn = "max_pool_backward"
    x, size, stride = cache
    dout = np.asarray(float_array("dout", dout, fn=fn))
    win = _windows(x, size, stride)
    check_shape("dout", dout, win.shape[:4], "(N, C, H', W')", fn=fn, why="like the forward's output")
    first = win.argmax(axis=-1)  # (N, C, H', W'): index of the first maximum in each window
    Ho, Wo = dout.shape[2:]
    dx = np.zeros_like(x)
    for di in range(size):
        for dj in range(size):
            hit = first == di * size + dj
            dx[:, :, di:di + stride * Ho:stride, dj:dj + stride * Wo:stride] += np.where(hit, dout, 0.0)
    return dx
