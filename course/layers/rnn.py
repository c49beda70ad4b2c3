"""A vanilla (Elman) recurrent network with tanh, and backpropagation through time (BPTT).

One step, for a batch of N sequences with D input features and H hidden units:

    next_h = tanh(x @ Wx + prev_h @ Wh + b)       x (N, D), prev_h (N, H), Wx (D, H), Wh (H, H), b (H,)

which is ``torch.nn.RNN(D, H, batch_first=True)`` with weight_ih = Wx.T, weight_hh = Wh.T and
bias_ih + bias_hh = b. Over a sequence x (N, T, D) from h0 (N, H), the hidden states are
h (N, T, H), h[:, t] = step(x[:, t], h[:, t - 1]).

BPTT walks the steps backwards. The gradient reaching h[:, t] has two parts: dh[:, t], from the
loss at step t, and the gradient coming back from step t + 1 through Wh. The weights are shared
by all steps, so their gradients are *sums* over the steps.

NumPy arrays only: these modules have no CuPy path (other backends' arrays are rejected).
"""

from __future__ import annotations

import numpy as np

from ..validation import check_ndim, check_shape, float_array

__all__ = ["rnn_step_forward", "rnn_step_backward", "rnn_forward", "rnn_backward"]


def _check_weights(fn, D, H, Wx, Wh, b):
    check_shape("Wx", Wx, (D, H), "(D, H)", fn=fn, why="(D from x, H from the hidden state)")
    check_shape("Wh", Wh, (H, H), "(H, H)", fn=fn)
    check_shape("b", b, (H,), "(H,)", fn=fn)


def rnn_step_forward(x, prev_h, Wx, Wh, b):
    """One RNN step: next_h = tanh(x @ Wx + prev_h @ Wh + b).

    Inputs: x (N, D), prev_h (N, H), Wx (D, H), Wh (H, H), b (H,).
    Returns ``(next_h, cache)``: next_h (N, H); cache = (x, prev_h, Wx, Wh, next_h).
    """
    fn = "rnn_step_forward"
    x, prev_h, Wx, Wh, b = (np.asarray(float_array(n, a, fn=fn)) for n, a in
                            zip(("x", "prev_h", "Wx", "Wh", "b"), (x, prev_h, Wx, Wh, b)))
    check_ndim("x", x, 2, "(N, D)", fn=fn)
    check_ndim("prev_h", prev_h, 2, "(N, H)", fn=fn)
    check_shape("prev_h", prev_h, (x.shape[0], None), "(N, H)", fn=fn, why=f"(N from x {tuple(x.shape)})")
    _check_weights(fn, x.shape[1], prev_h.shape[1], Wx, Wh, b)
    next_h = np.tanh(x @ Wx + prev_h @ Wh + b)
    return next_h, (x, prev_h, Wx, Wh, next_h)


def rnn_step_backward(dnext_h, cache):
    """Backward of one RNN step.

    Inputs: dnext_h (N, H), the gradient of the loss with respect to next_h; cache from
    :func:`rnn_step_forward`. With da = dnext_h * (1 - next_h**2) (tanh' from the output):

        dx = da @ Wx.T   dprev_h = da @ Wh.T   dWx = x.T @ da   dWh = prev_h.T @ da   db = da.sum(0)

    Returns ``(dx, dprev_h, dWx, dWh, db)`` with the shapes of x, prev_h, Wx, Wh, b.
    """
    fn = "rnn_step_backward"
    x, prev_h, Wx, Wh, next_h = cache
    dnext_h = np.asarray(float_array("dnext_h", dnext_h, fn=fn))
    check_shape("dnext_h", dnext_h, next_h.shape, "(N, H)", fn=fn, why="like next_h")
    da = dnext_h * (1.0 - next_h * next_h)
    return da @ Wx.T, da @ Wh.T, x.T @ da, prev_h.T @ da, da.sum(axis=0)


def rnn_forward(x, h0, Wx, Wh, b):
    """An RNN over whole sequences.

    Inputs: x (N, T, D), h0 (N, H), Wx (D, H), Wh (H, H), b (H,).
    Returns ``(h, cache)``: h (N, T, H) all hidden states (h0 not included); cache = the list of
    the T step caches, in time order.
    """
    fn = "rnn_forward"
    x = np.asarray(float_array("x", x, fn=fn))
    h0 = np.asarray(float_array("h0", h0, fn=fn))
    check_ndim("x", x, 3, "(N, T, D)", fn=fn)
    check_ndim("h0", h0, 2, "(N, H)", fn=fn)
    N, T, D = x.shape
    check_shape("h0", h0, (N, None), "(N, H)", fn=fn, why=f"(N from x {tuple(x.shape)})")
    _check_weights(fn, D, h0.shape[1], np.asarray(Wx), np.asarray(Wh), np.asarray(b))
    h, caches, prev = np.zeros((N, T, h0.shape[1])), [], h0
    for t in range(T):
        prev, c = rnn_step_forward(x[:, t], prev, Wx, Wh, b)
        h[:, t] = prev
        caches.append(c)
    return h, caches


def rnn_backward(dh, cache):
    """Backpropagation through time.

    Inputs: dh (N, T, H), the gradient of the loss with respect to every hidden state (from the
    loss at each step; zeros where a step has no loss); cache: the step caches of
    :func:`rnn_forward`. Walking t = T-1 .. 0, the gradient reaching h[:, t] is
    dh[:, t] + dprev (the part coming back from step t + 1), and each step's weight gradients
    are added to the totals.

    Returns ``(dx, dh0, dWx, dWh, db)``: dx (N, T, D), dh0 (N, H), and the weight gradients.
    """
    fn = "rnn_backward"
    dh = np.asarray(float_array("dh", dh, fn=fn))
    if not isinstance(cache, (list, tuple)) or not cache:
        raise TypeError(f"{fn}: cache must be the list of step caches from rnn_forward, got {type(cache).__name__}")
    x0, h0, Wx, Wh, _ = cache[0]
    N, T, D, H = x0.shape[0], len(cache), x0.shape[1], h0.shape[1]
    check_shape("dh", dh, (N, T, H), "(N, T, H)", fn=fn, why="like the hidden states h")
    dx, dWx, dWh, db = np.zeros((N, T, D)), np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(H)
    dprev = np.zeros((N, H))
    for t in reversed(range(T)):
        dx[:, t], dprev, dWx_t, dWh_t, db_t = rnn_step_backward(dh[:, t] + dprev, cache[t])
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    return dx, dprev, dWx, dWh, db
