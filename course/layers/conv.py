"""2-D convolution (cross-correlation, as in every deep-learning library), forward and backward.

Shapes: x (N, C, H, W) images; w (F, C, HH, WW) filters; b (F,) biases. With zero padding
``pad`` on every side and step ``stride``, the output is (N, F, H', W') with

    H' = 1 + (H + 2 * pad - HH) // stride        W' = 1 + (W + 2 * pad - WW) // stride

(floor division, as ``torch.nn.functional.conv2d``: rows and columns that no window reaches are
simply not used) and

    out[n, f, i, j] = b[f] + sum over c, di, dj of  x_pad[n, c, i*stride + di, j*stride + dj] * w[f, c, di, dj]

Two versions compute the same numbers: :func:`conv2d_forward_naive` / :func:`conv2d_backward_naive`
with explicit loops over output positions (the teaching version), and :func:`conv2d_forward` /
:func:`conv2d_backward`, vectorised with im2col: every receptive field becomes one column of a
matrix ``cols`` (C * HH * WW, N * H' * W'), so the convolution is one matrix product
``w.reshape(F, -1) @ cols``. Both share the cache ``(x, w, b, stride, pad)``.

NumPy arrays only: these modules have no CuPy path (other backends' arrays are rejected).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..validation import check_ndim, check_shape, float_array

__all__ = [
    "conv2d_forward",
    "conv2d_backward",
    "conv2d_forward_naive",
    "conv2d_backward_naive",
    "conv_output_size",
    "im2col",
    "col2im",
]


def conv_output_size(size, kernel, stride=1, pad=0):
    """Output length along one axis: 1 + (size + 2 * pad - kernel) // stride."""
    return 1 + (size + 2 * pad - kernel) // stride


def _check(fn, x, w, b, stride, pad):
    x = np.asarray(float_array("x", x, fn=fn))
    w = np.asarray(float_array("w", w, fn=fn))
    b = np.asarray(float_array("b", b, fn=fn))
    check_ndim("x", x, 4, "(N, C, H, W)", fn=fn)
    check_ndim("w", w, 4, "(F, C, HH, WW)", fn=fn)
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    check_shape("w", w, (None, C, None, None), "(F, C, HH, WW)", fn=fn,
                why=f"(C must match x of shape {tuple(x.shape)})")
    check_shape("b", b, (F,), "(F,)", fn=fn, why="(one bias per filter of w)")
    for name, v, low in (("stride", stride, 1), ("pad", pad, 0)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < low:
            raise ValueError(f"{fn}: {name} must be an int >= {low}, got {v!r}")
    if H + 2 * pad < HH or W + 2 * pad < WW:
        raise ValueError(
            f"{fn}: the filter ({HH}, {WW}) of w {tuple(w.shape)} is larger than the padded image "
            f"({H + 2 * pad}, {W + 2 * pad}) of x {tuple(x.shape)} with pad = {pad}"
        )
    return x, w, b


def _pad(x, pad):
    return np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad))) if pad else x


def conv2d_forward_naive(x, w, b, stride=1, pad=0):
    """Convolution forward with loops over the output positions (slow, to read).

    Inputs: x (N, C, H, W), w (F, C, HH, WW), b (F,), stride >= 1, pad >= 0 (zeros on all sides).
    Returns ``(out, cache)``: out (N, F, H', W') (see the module docstring for H', W');
    cache = (x, w, b, stride, pad).
    """
    x, w, b = _check("conv2d_forward_naive", x, w, b, stride, pad)
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    Ho, Wo = conv_output_size(H, HH, stride, pad), conv_output_size(W, WW, stride, pad)
    xp = _pad(x, pad)
    out = np.zeros((N, F, Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            window = xp[:, :, i * stride:i * stride + HH, j * stride:j * stride + WW]  # (N, C, HH, WW)
            # every filter against this window: sum over C, HH, WW
            out[:, :, i, j] = np.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3])) + b
    return out, (x, w, b, stride, pad)


def conv2d_backward_naive(dout, cache):
    """Convolution backward with loops over the output positions.

    Inputs: dout (N, F, H', W'); cache (x, w, b, stride, pad) from a conv2d forward.
    Returns ``(dx, dw, db)`` shaped like x, w, b: each output position (i, j) sends
    dout[:, :, i, j] back to the window it read (dx) and to the filters (dw); db sums dout over
    the batch and both spatial axes (axes 0, 2, 3).
    """
    x, w, b, stride, pad = cache
    dout = _check_dout("conv2d_backward_naive", dout, x, w, stride, pad)
    HH, WW = w.shape[2:]
    xp = _pad(x, pad)
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            rows, cols = slice(i * stride, i * stride + HH), slice(j * stride, j * stride + WW)
            d = dout[:, :, i, j]  # (N, F)
            dxp[:, :, rows, cols] += np.tensordot(d, w, axes=([1], [0]))  # (N, C, HH, WW)
            dw += np.tensordot(d, xp[:, :, rows, cols], axes=([0], [0]))  # (F, C, HH, WW)
    dx = dxp[:, :, pad:pad + x.shape[2], pad:pad + x.shape[3]]
    return dx, dw, dout.sum(axis=(0, 2, 3))


def _check_dout(fn, dout, x, w, stride, pad):
    dout = np.asarray(float_array("dout", dout, fn=fn))
    shape = (x.shape[0], w.shape[0], conv_output_size(x.shape[2], w.shape[2], stride, pad),
             conv_output_size(x.shape[3], w.shape[3], stride, pad))
    check_shape("dout", dout, shape, "(N, F, H', W')", fn=fn, why="like the forward's output")
    return dout


def im2col(x, HH, WW, stride=1, pad=0):
    """The receptive fields of x as columns.

    x (N, C, H, W) -> cols (C * HH * WW, N * H' * W'): column n * H' * W' + i * W' + j holds the
    window of image n read by output position (i, j), flattened in (c, di, dj) order, the order
    of ``w.reshape(F, -1)``.
    """
    xp = _pad(x, pad)
    # windows: (N, C, H', W', HH, WW), a view (no copy) of every window of the padded image
    windows = sliding_window_view(xp, (HH, WW), axis=(2, 3))[:, :, ::stride, ::stride]
    N, C, Ho, Wo = windows.shape[:4]
    return windows.transpose(1, 4, 5, 0, 2, 3).reshape(C * HH * WW, N * Ho * Wo)


def col2im(cols, x_shape, HH, WW, stride=1, pad=0):
    """The adjoint of :func:`im2col`: add every column back onto the window it came from.

    cols (C * HH * WW, N * H' * W') -> (N, C, H, W). Overlapping windows add up, which is exactly
    what the backward of a convolution needs.
    """
    N, C, H, W = x_shape
    Ho, Wo = conv_output_size(H, HH, stride, pad), conv_output_size(W, WW, stride, pad)
    c6 = cols.reshape(C, HH, WW, N, Ho, Wo)
    dxp = np.zeros((N, C, H + 2 * pad, W + 2 * pad))
    for di in range(HH):  # one strided slice per filter offset: HH * WW vectorised additions
        for dj in range(WW):
            dxp[:, :, di:di + stride * Ho:stride, dj:dj + stride * Wo:stride] += c6[:, di, dj].transpose(1, 0, 2, 3)
    return dxp[:, :, pad:pad + H, pad:pad + W]


def conv2d_forward(x, w, b, stride=1, pad=0):
    """Convolution forward, vectorised with im2col (same inputs, outputs and cache as the naive one).

    out = (w.reshape(F, C * HH * WW) @ im2col(x)) + b, reshaped to (N, F, H', W').
    """
    x, w, b = _check("conv2d_forward", x, w, b, stride, pad)
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    Ho, Wo = conv_output_size(H, HH, stride, pad), conv_output_size(W, WW, stride, pad)
    cols = im2col(x, HH, WW, stride, pad)
    out = (w.reshape(F, -1) @ cols).reshape(F, N, Ho, Wo).transpose(1, 0, 2, 3) + b[None, :, None, None]
    return out, (x, w, b, stride, pad)


def conv2d_backward(dout, cache):
    """Convolution backward, vectorised: with d = dout as (F, N * H' * W'),

        dw = d @ cols.T (reshaped to w's shape)     dx = col2im(w.reshape(F, -1).T @ d)
        db = dout.sum(axis=(0, 2, 3))

    Inputs: dout (N, F, H', W'); cache (x, w, b, stride, pad). Returns ``(dx, dw, db)``.
    """
    x, w, b, stride, pad = cache
    dout = _check_dout("conv2d_backward", dout, x, w, stride, pad)
    F, C, HH, WW = w.shape
    d = dout.transpose(1, 0, 2, 3).reshape(F, -1)
    cols = im2col(x, HH, WW, stride, pad)
    dw = (d @ cols.T).reshape(w.shape)
    dx = col2im(w.reshape(F, -1).T @ d, x.shape, HH, WW, stride, pad)
    return dx, dw, dout.sum(axis=(0, 2, 3))
