"""Lesson 16 (convolutional networks): a 2-D convolution forward and backward, and max-pooling's
backward, against the references of :mod:`course.layers.conv` and :mod:`course.layers.pool`."""

from __future__ import annotations

import numpy as np

from ...layers.conv import conv2d_backward, conv2d_forward
from ...layers.pool import max_pool_backward, max_pool_forward
from ..cases import Case, randn
from ..registry import Variant, register
from ..run.runner import Backward

LESSON = "16_conv_rnn"


def _conv_cases(rng):
    specs = (  # N, C, H, W, F, HH, WW, stride, pad, note
        (2, 2, 5, 6, 3, 3, 3, 1, 1, "3x3 filters, stride 1, pad 1 (same size)"),
        (1, 3, 7, 6, 2, 3, 2, 2, 0, "stride 2, no padding, 3x2 filters"),
        (2, 1, 6, 5, 2, 3, 3, 2, 1, "stride 2, pad 1: the last row and column are not all read"),
        (3, 2, 4, 4, 4, 1, 1, 1, 0, "1x1 filters"),
    )
    return [
        Case((randn(rng, N, C, H, W), randn(rng, F, C, HH, WW), randn(rng, F), s, p), note=note, N=N)
        for N, C, H, W, F, HH, WW, s, p, note in specs
    ]


def _conv_backward_cases(rng):
    return [
        Case(c.args, c.kwargs, c.note, c.N, c.fd, {"dout": randn(rng, *conv2d_forward(*c.args)[0].shape)})
        for c in _conv_cases(rng)
    ]


def _one_row_short(x, w, b, stride=1, pad=0):
    out, cache = conv2d_forward(x, w, b, stride, pad)
    return out[:, :, :-1, :-1], cache


register(
    "conv.conv2d_forward",
    lesson=LESSON,
    title="Convolution forward",
    reference=conv2d_forward,
    cases=_conv_cases,
    outputs=("out", None),
    arg_names=("x", "w", "b", "stride", "pad"),
    variants=(
        Variant("output_size_off_by_one", _one_row_short,
                "Your output misses the last row and column: H' = 1 + (H + 2 * pad - HH) // stride "
                "(the + 1 counts the first window); loop over range(H'), not range(H' - 1)."),
        Variant("padding_ignored", lambda x, w, b, stride=1, pad=0: conv2d_forward(x, w, b, stride, 0),
                "Your output is what you get without padding: pad x with `pad` zeros on every side of "
                "its two spatial axes first, np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))."),
        Variant("stride_ignored", lambda x, w, b, stride=1, pad=0: conv2d_forward(x, w, b, 1, pad),
                "Your output is the stride-1 one: window (i, j) starts at row i * stride and column "
                "j * stride, and H' uses // stride."),
        Variant("no_bias", lambda x, w, b, stride=1, pad=0: conv2d_forward(x, w, 0 * b, stride, pad),
                "You forgot the bias: add b[f] to every output of filter f."),
        Variant("flipped_filter",
                lambda x, w, b, stride=1, pad=0: conv2d_forward(x, w[:, :, ::-1, ::-1], b, stride, pad),
                "You flipped the filters (the convolution of signal processing). Convolution layers in "
                "deep learning, PyTorch's included, compute the cross-correlation: "
                "sum of window * w, without flipping w."),
    ),
    hints=(
        "H' = 1 + (H + 2 * pad - HH) // stride; pad only axes 2 and 3.",
        "out[:, f, i, j] = sum over (c, di, dj) of window * w[f] + b[f], with "
        "window = xp[:, :, i*stride:i*stride+HH, j*stride:j*stride+WW].",
        "Return (out, cache) with cache = (x, w, b, stride, pad).",
    ),
)


def _naive_backward(assign_dx=False, assign_dw=False):
    """The loop backward with = where += is needed (a grader variant)."""

    def backward(dout, cache):
        x, w, b, stride, pad = cache
        HH, WW = w.shape[2:]
        xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
        dxp, dw = np.zeros_like(xp), np.zeros_like(w)
        for i in range(dout.shape[2]):
            for j in range(dout.shape[3]):
                rows, cols = slice(i * stride, i * stride + HH), slice(j * stride, j * stride + WW)
                d = dout[:, :, i, j]
                gx, gw = np.tensordot(d, w, axes=([1], [0])), np.tensordot(d, xp[:, :, rows, cols], axes=([0], [0]))
                dxp[:, :, rows, cols] = gx if assign_dx else dxp[:, :, rows, cols] + gx
                dw = gw if assign_dw else dw + gw
        return dxp[:, :, pad:pad + x.shape[2], pad:pad + x.shape[3]], dw, dout.sum(axis=(0, 2, 3))

    return backward


def _uncropped(dout, cache):
    x, w, b, stride, pad = cache
    dx, dw, db = conv2d_backward(dout, cache)
    return np.pad(dx, ((0, 0), (0, 0), (pad, pad), (pad, pad))), dw, db


register(
    "conv.conv2d_backward",
    lesson=LESSON,
    title="Convolution backward (dx, dw, db)",
    reference=conv2d_backward,
    cases=_conv_backward_cases,
    outputs=("dx", "dw", "db"),
    arg_names=("x", "w", "b"),
    protocol=Backward(conv2d_forward),
    variants=(
        Variant("db_over_batch_only", lambda d, c: (*conv2d_backward(d, c)[:2], d.sum(axis=0)),
                "Your db sums dout over the batch only; every output position of filter f used b[f], "
                "so sum over the batch AND both spatial axes: db = dout.sum(axis=(0, 2, 3))."),
        Variant("db_wrong_axes", lambda d, c: (*conv2d_backward(d, c)[:2], d.sum(axis=(1, 2, 3))),
                "Your db has one value per example: sum over axes (0, 2, 3), keeping the filter axis 1."),
        Variant("dx_overwritten", _naive_backward(assign_dx=True),
                "Your dx is assigned (=) window by window, so where windows overlap only the last one "
                "counts: add (+=) each window's gradient."),
        Variant("dw_overwritten", _naive_backward(assign_dw=True),
                "Your dw holds the last output position only: every position uses the same filter, so "
                "add (+=) their contributions."),
        Variant("padding_not_cropped", _uncropped,
                "Your dx still has the padding: compute the gradient of the padded x, then drop the "
                "pad rows and columns, dxp[:, :, pad:pad + H, pad:pad + W]."),
    ),
    hints=(
        "dx like x (N, C, H, W), dw like w (F, C, HH, WW), db like b (F,).",
        "For each output position (i, j): dxp[window] += sum over f of dout[:, f, i, j] * w[f]; "
        "dw[f] += sum over n of dout[n, f, i, j] * window[n].",
        "db = dout.sum(axis=(0, 2, 3)).",
    ),
)


# ---------------------------------------------------------------------------------------------
# Max-pool backward


def _pool_cases(rng):
    distinct = rng.permutation(2 * 3 * 6 * 6).reshape(2, 3, 6, 6) / 7.0 - 5.0
    ties = rng.integers(0, 3, (2, 2, 6, 6)).astype(float)
    overlap = randn(rng, 1, 2, 5, 5)
    out = [
        Case((distinct,), {"size": 2, "stride": 2}, note="2x2 windows, stride 2", N=2),
        Case((ties,), {"size": 2, "stride": 2}, note="ties: several maxima in a window", N=2, fd=False),
        Case((overlap,), {"size": 3, "stride": 1}, note="overlapping 3x3 windows, stride 1", N=1),
        Case((randn(rng, 3, 1, 7, 5),), {"size": 3, "stride": 2}, note="3x3, stride 2, odd sizes", N=3),
    ]
    return [Case(c.args, c.kwargs, c.note, c.N, c.fd,
                 {"dout": randn(rng, *max_pool_forward(*c.args, **c.kwargs)[0].shape)}) for c in out]


def _pool_variant(kind):
    def backward(dout, cache):
        x, size, stride = cache
        Ho, Wo = dout.shape[2:]
        dx = np.zeros_like(x)
        for i in range(Ho):
            for j in range(Wo):
                rows, cols = slice(i * stride, i * stride + size), slice(j * stride, j * stride + size)
                win = x[:, :, rows, cols]
                d = dout[:, :, i, j][:, :, None, None]
                if kind == "all":
                    g = np.broadcast_to(d, win.shape)
                elif kind == "average":
                    g = np.broadcast_to(d / (size * size), win.shape)
                elif kind == "last":  # the last maximum in row-major order
                    flat = win.reshape(*win.shape[:2], -1)
                    k = size * size - 1 - flat[..., ::-1].argmax(-1)
                    g = d * (np.arange(size * size) == k[..., None]).reshape(win.shape)
                else:  # "ties" or "overwrite": the mask of every maximum / of the first one
                    g = d * (win == win.max(axis=(2, 3), keepdims=True))
                    if kind == "overwrite":
                        flat = win.reshape(*win.shape[:2], -1).argmax(-1)
                        g = d * (np.arange(size * size) == flat[..., None]).reshape(win.shape)
                        dx[:, :, rows, cols] = np.where(g != 0, g, dx[:, :, rows, cols])
                        continue
                dx[:, :, rows, cols] += g
        return dx

    return backward


register(
    "conv.max_pool_backward",
    lesson=LESSON,
    title="Max-pooling backward",
    reference=max_pool_backward,
    cases=_pool_cases,
    outputs=("dx",),
    arg_names=("x",),
    protocol=Backward(max_pool_forward),
    variants=(
        Variant("gradient_to_all_entries", _pool_variant("all"),
                "You sent each window's gradient to every entry of the window; only the maximum "
                "affected the output, so only it gets the gradient."),
        Variant("average_pool_gradient", _pool_variant("average"),
                "Your gradient is average-pooling's (dout / size**2 everywhere); max-pooling sends "
                "all of dout to the position of the maximum."),
        Variant("gradient_to_all_ties", _pool_variant("ties"),
                "Where several entries tie for the maximum you sent the gradient to each of them, "
                "which multiplies it; send it to ONE of them, the first in row-major order (what "
                "np.argmax and PyTorch pick)."),
        Variant("gradient_to_last_tie", _pool_variant("last"),
                "Where several entries tie for the maximum you sent the gradient to the LAST of them "
                "(a loop with >=, or argmax of a reversed window); the convention (np.argmax, PyTorch) "
                "is the first in row-major order."),
        Variant("overlap_overwritten", _pool_variant("overwrite"),
                "Where windows overlap (stride < size) an entry can be the maximum of several windows: "
                "add (+=) their gradients instead of overwriting."),
    ),
    hints=(
        "For each window: k = np.argmax of the flattened window (the first maximum); "
        "add dout[n, c, i, j] at that position of dx.",
        "dx has the shape of x and is zero except at the maxima; overlapping windows add up.",
    ),
)
