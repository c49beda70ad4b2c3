"""Gated recurrent cells: one step of an LSTM and of a GRU, forward and backward.

Shapes: a batch of N examples, D input features, H hidden units. Both cells keep PyTorch's gate
order, so that ``torch.nn.LSTMCell(D, H)`` and ``torch.nn.GRUCell(D, H)`` hold the same numbers
with weight_ih = Wx.T and weight_hh = Wh.T.

LSTM (gates in the order i, f, g, o; a = x @ Wx + prev_h @ Wh + b, (N, 4H)):

    i = sigmoid(a[:, :H])   f = sigmoid(a[:, H:2H])   g = tanh(a[:, 2H:3H])   o = sigmoid(a[:, 3H:])
    next_c = f * prev_c + i * g          next_h = o * tanh(next_c)

with b = bias_ih + bias_hh. The state is the pair (h, c): the forward returns it as its ``out``,
as ``LSTMCell`` does, and the backward takes its gradient, the pair (dnext_h, dnext_c).

GRU (gates in the order r, z, n; one bias b, i.e. PyTorch's bias_ih = b and bias_hh = 0):

    ax = x @ Wx + b    ah = prev_h @ Wh                                            both (N, 3H)
    r = sigmoid(ax_r + ah_r)   z = sigmoid(ax_z + ah_z)   n = tanh(ax_n + r * ah_n)
    next_h = (1 - z) * n + z * prev_h

The reset gate multiplies the hidden part ah_n only, as in PyTorch (not prev_h before the product).

NumPy arrays only, float64 (the gradient checks need it).
"""

from __future__ import annotations

import numpy as np

from ..validation import check_ndim, check_shape, float_array
from .activations import sigmoid as _sigmoid

__all__ = ["lstm_step_forward", "lstm_step_backward", "gru_step_forward", "gru_step_backward"]


def _inputs(fn, gates, x, prev_h, Wx, Wh, b, prev_c=None):
    """The arrays as float arrays, with their shapes checked: Wx (D, gH), Wh (H, gH), b (gH,)."""
    x, prev_h, Wx, Wh, b = (np.asarray(float_array(n, a, fn=fn)) for n, a in
                            zip(("x", "prev_h", "Wx", "Wh", "b"), (x, prev_h, Wx, Wh, b)))
    check_ndim("x", x, 2, "(N, D)", fn=fn)
    check_ndim("prev_h", prev_h, 2, "(N, H)", fn=fn)
    check_shape("prev_h", prev_h, (x.shape[0], None), "(N, H)", fn=fn, why=f"(N from x {tuple(x.shape)})")
    (N, D), H = x.shape, prev_h.shape[1]
    g = f"{gates}H"
    check_shape("Wx", Wx, (D, gates * H), f"(D, {g})", fn=fn,
                why=f"(D from x, H from prev_h: {gates} gates of H columns each)")
    check_shape("Wh", Wh, (H, gates * H), f"(H, {g})", fn=fn, why=f"(H from prev_h, {gates} gates)")
    check_shape("b", b, (gates * H,), f"({g},)", fn=fn)
    if prev_c is None:
        return x, prev_h, Wx, Wh, b
    prev_c = np.asarray(float_array("prev_c", prev_c, fn=fn))
    check_shape("prev_c", prev_c, (N, H), "(N, H)", fn=fn, why="like prev_h")
    return x, prev_h, prev_c, Wx, Wh, b


def _pair(fn, dnext, like):
    """The upstream gradient of a state pair (dnext_h, dnext_c), each shaped like ``like``."""
    if not (isinstance(dnext, (tuple, list)) and len(dnext) == 2):
        raise TypeError(f"{fn}: dnext must be the pair (dnext_h, dnext_c), the gradient of the forward's "
                        f"(next_h, next_c), got {type(dnext).__name__}")
    out = []
    for name, d in zip(("dnext_h", "dnext_c"), dnext):
        d = np.asarray(float_array(name, d, fn=fn))
        check_shape(name, d, like.shape, "(N, H)", fn=fn, why="like the forward's next_h and next_c")
        out.append(d)
    return out


def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
    """One LSTM step (``torch.nn.LSTMCell`` with weight_ih = Wx.T, weight_hh = Wh.T).

    Inputs: x (N, D), prev_h (N, H), prev_c (N, H), Wx (D, 4H), Wh (H, 4H), b (4H,); the four
    column blocks of H are the gates i, f, g, o in that order.

    Returns ``((next_h, next_c), cache)``: next_h and next_c (N, H);
    cache = (x, prev_h, prev_c, Wx, Wh, i, f, g, o, tanh_c) with the gates (N, H) each and
    tanh_c = tanh(next_c) (N, H).
    """
    fn = "lstm_step_forward"
    x, prev_h, prev_c, Wx, Wh, b = _inputs(fn, 4, x, prev_h, Wx, Wh, b, prev_c=prev_c)
    H = prev_h.shape[1]
    a = x @ Wx + prev_h @ Wh + b
    i, f, o = _sigmoid(a[:, :H]), _sigmoid(a[:, H:2 * H]), _sigmoid(a[:, 3 * H:])
    g = np.tanh(a[:, 2 * H:3 * H])
    next_c = f * prev_c + i * g
    tanh_c = np.tanh(next_c)
    return (o * tanh_c, next_c), (x, prev_h, prev_c, Wx, Wh, i, f, g, o, tanh_c)


def lstm_step_backward(dnext, cache):
    """Backward of one LSTM step.

    Inputs: dnext = (dnext_h, dnext_c), each (N, H): the gradients of the loss with respect to
    next_h and next_c (dnext_c is what comes back from the next step's cell, zeros at the last);
    cache from :func:`lstm_step_forward`. The cell state collects two paths:

        dc = dnext_c + dnext_h * o * (1 - tanh_c**2)
        di = dc * g   df = dc * prev_c   dg = dc * i   do = dnext_h * tanh_c   dprev_c = dc * f

    then each gate through its own nonlinearity (sigmoid' = s (1 - s), tanh' = 1 - t**2) gives
    da (N, 4H), and the linear part as for a plain RNN step.

    Returns ``(dx, dprev_h, dprev_c, dWx, dWh, db)`` with the shapes of x, prev_h, prev_c, Wx, Wh, b.
    """
    fn = "lstm_step_backward"
    x, prev_h, prev_c, Wx, Wh, i, f, g, o, tanh_c = cache
    dnext_h, dnext_c = _pair(fn, dnext, tanh_c)
    dc = dnext_c + dnext_h * o * (1.0 - tanh_c * tanh_c)
    da = np.concatenate([dc * g * i * (1.0 - i), dc * prev_c * f * (1.0 - f), dc * i * (1.0 - g * g),
                         dnext_h * tanh_c * o * (1.0 - o)], axis=1)
    return da @ Wx.T, da @ Wh.T, dc * f, x.T @ da, prev_h.T @ da, da.sum(axis=0)


def gru_step_forward(x, prev_h, Wx, Wh, b):
    """One GRU step (``torch.nn.GRUCell`` with weight_ih = Wx.T, weight_hh = Wh.T, bias_ih = b,
    bias_hh = 0).

    Inputs: x (N, D), prev_h (N, H), Wx (D, 3H), Wh (H, 3H), b (3H,); the three column blocks of
    H are r (reset), z (update) and n (the candidate) in that order.

    Returns ``(next_h, cache)``: next_h (N, H) = (1 - z) * n + z * prev_h;
    cache = (x, prev_h, Wx, Wh, r, z, n, ah_n) with the gates (N, H) each and ah_n = (prev_h @ Wh)
    [:, 2H:] (N, H), the hidden part of n's pre-activation that r multiplies.
    """
    fn = "gru_step_forward"
    x, prev_h, Wx, Wh, b = _inputs(fn, 3, x, prev_h, Wx, Wh, b)
    H = prev_h.shape[1]
    ax, ah = x @ Wx + b, prev_h @ Wh
    r, z = _sigmoid(ax[:, :H] + ah[:, :H]), _sigmoid(ax[:, H:2 * H] + ah[:, H:2 * H])
    ah_n = ah[:, 2 * H:]
    n = np.tanh(ax[:, 2 * H:] + r * ah_n)
    return (1.0 - z) * n + z * prev_h, (x, prev_h, Wx, Wh, r, z, n, ah_n)


def gru_step_backward(dnext_h, cache):
    """Backward of one GRU step.

    Inputs: dnext_h (N, H); cache from :func:`gru_step_forward`. With dn_pre = dnext_h * (1 - z)
    * (1 - n**2), the gradient of n's pre-activation:

        dz_pre = dnext_h * (prev_h - n) * z * (1 - z)    dr_pre = dn_pre * ah_n * r * (1 - r)
        dax = [dr_pre, dz_pre, dn_pre]                   dah = [dr_pre, dz_pre, dn_pre * r]
        dx = dax @ Wx.T   dWx = x.T @ dax   db = dax.sum(0)
        dprev_h = dnext_h * z + dah @ Wh.T               dWh = prev_h.T @ dah

    Returns ``(dx, dprev_h, dWx, dWh, db)`` with the shapes of x, prev_h, Wx, Wh and b.
    """
    fn = "gru_step_backward"
    x, prev_h, Wx, Wh, r, z, n, ah_n = cache
    dnext_h = np.asarray(float_array("dnext_h", dnext_h, fn=fn))
    check_shape("dnext_h", dnext_h, n.shape, "(N, H)", fn=fn, why="like next_h")
    dn = dnext_h * (1.0 - z) * (1.0 - n * n)
    dz = dnext_h * (prev_h - n) * z * (1.0 - z)
    dr = dn * ah_n * r * (1.0 - r)
    dax = np.concatenate([dr, dz, dn], axis=1)
    dah = np.concatenate([dr, dz, dn * r], axis=1)
    return dax @ Wx.T, dnext_h * z + dah @ Wh.T, x.T @ dax, prev_h.T @ dah, dax.sum(axis=0)
