"""Lesson 16 (convolutional networks): a 2-D convolution forward and backward, and max-pooling's
backward, against the references of :mod:`course.layers.conv` and :mod:`course.layers.pool`."""

from __future__ import annotations

import numpy as np

from ...layers.conv import conv2d_backward, conv2d_forward
from ...layers.pool import max_pool_backward, max_pool_forward
from ..cases import Case, randn
from ..registry import Knob, Variant, register
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


def _conv_forward_model(x, w, b, stride=1, pad=0, window_step="stride"):
    """The convolution with how far each window moves as a switch: by ``stride`` along rows and
    columns (the reference), or by 1 along one of them or both (the output size still uses stride)."""
    out, cache = conv2d_forward(x, w, b, stride, pad)
    if window_step == "stride":
        return out, cache
    rows, cols = {"1 along the rows": (1, stride), "1 along the columns": (stride, 1), "1": (1, 1)}[window_step]
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    HH, WW = w.shape[2:]
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            win = xp[:, :, i * rows:i * rows + HH, j * cols:j * cols + WW]
            out[:, :, i, j] = np.tensordot(win, w, axes=([1, 2, 3], [1, 2, 3])) + b
    return out, cache


register(
    "conv.conv2d_forward",
    lesson=LESSON,
    title="Convolution forward",
    reference=conv2d_forward,
    cases=_conv_cases,
    outputs=("out", None),
    arg_names=("x", "w", "b", "stride", "pad"),
    model=_conv_forward_model,
    knobs=(
        Knob("window_step", ("1 along the rows", "1 along the columns", "1"), {
            "1 along the rows": "Your windows move down by 1 row where they must move by `stride`: window (i, j) "
                                "starts at row i * stride (and column j * stride).",
            "1 along the columns": "Your windows move right by 1 column where they must move by `stride`: window "
                                   "(i, j) starts at column j * stride (and row i * stride).",
            "1": "Your windows move by 1 where they must move by `stride`, although your output has the strided "
                 "size: window (i, j) starts at row i * stride and column j * stride."}),
    ),
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


def _position_alone(dout, i, j):
    """dout with every output position but (i, j) set to zero."""
    one = np.zeros_like(dout)
    one[:, :, i, j] = dout[:, :, i, j]
    return one


def _overwritten(which):
    """The reference with one switch: each output position's gradient is assigned (=) to dx's
    window, or to dw, where it must be added (+=). Each position's gradient is the reference's,
    on dout with every other position zero; with = the last position (in loop order) wins."""

    def backward(dout, cache):
        x, w, _, stride, pad = cache
        dx, dw, db = conv2d_backward(dout, cache)
        Ho, Wo = dout.shape[2:]
        if which == "dw":
            return dx, conv2d_backward(_position_alone(dout, Ho - 1, Wo - 1), cache)[1], db
        HH, WW = w.shape[2:]
        dx = np.zeros_like(dx)
        for i in range(Ho):
            for j in range(Wo):
                gx = conv2d_backward(_position_alone(dout, i, j), cache)[0]
                r, c = i * stride - pad, j * stride - pad  # the window's corner in x (unpadded)
                rows, cols = slice(max(r, 0), max(r + HH, 0)), slice(max(c, 0), max(c + WW, 0))
                dx[:, :, rows, cols] = gx[:, :, rows, cols]
        return dx, dw, db

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
        Variant("dx_overwritten", _overwritten("dx"),
                "Your dx is assigned (=) window by window, so where windows overlap only the last one "
                "counts: add (+=) each window's gradient."),
        Variant("dw_overwritten", _overwritten("dw"),
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
                elif kind == "column-major":  # the flat argmax read as (k % size, k // size)
                    k = win.reshape(*win.shape[:2], -1).argmax(-1)
                    g = np.zeros(win.shape)
                    n_, c_ = np.indices(k.shape)
                    g[n_, c_, k % size, k // size] = d[..., 0, 0]
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


def _pool_model(dout, cache, argmax_read_as="row-major"):
    """Max-pooling's backward with how the flat argmax is read back as a (row, column) switch."""
    return max_pool_backward(dout, cache) if argmax_read_as == "row-major" else _pool_variant("column-major")(
        dout, cache)


register(
    "conv.max_pool_backward",
    lesson=LESSON,
    title="Max-pooling backward",
    reference=max_pool_backward,
    cases=_pool_cases,
    outputs=("dx",),
    arg_names=("x",),
    protocol=Backward(max_pool_forward),
    model=_pool_model,
    knobs=(
        Knob("argmax_read_as", ("column-major",), "You read the flat argmax k of a window as (k % size, "
             "k // size): row and column swapped. A window flattened row by row puts entry (r, c) at "
             "k = r * size + c, so r, c = divmod(k, size) (or np.unravel_index)."),
    ),
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
