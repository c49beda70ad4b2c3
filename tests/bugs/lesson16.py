"""Lesson 16 (gated recurrent cells): LSTM and GRU steps, forward and backward."""

import numpy as np


def _sig(a):
    return 1 / (1 + np.exp(-a))


def lstm_fwd_cs231n_order(x, prev_h, prev_c, Wx, Wh, b):  # gates read as i, f, o, g
    H = prev_h.shape[1]
    a = x @ Wx + prev_h @ Wh + b
    i, f, o, g = _sig(a[:, :H]), _sig(a[:, H:2 * H]), _sig(a[:, 2 * H:3 * H]), np.tanh(a[:, 3 * H:])
    c = f * prev_c + i * g
    h = o * np.tanh(c)
    return (h, c), (x, prev_h, prev_c, Wx, Wh, i, f, g, o, np.tanh(c))


def lstm_fwd_sigmoid_candidate(x, prev_h, prev_c, Wx, Wh, b):  # g through a sigmoid, not a tanh
    H = prev_h.shape[1]
    a = x @ Wx + prev_h @ Wh + b
    i, f, g, o = (_sig(a[:, k * H:(k + 1) * H]) for k in range(4))
    c = f * prev_c + i * g
    return (o * np.tanh(c), c), None


def lstm_fwd_no_tanh_on_c(x, prev_h, prev_c, Wx, Wh, b):  # next_h = o * next_c
    H = prev_h.shape[1]
    a = x @ Wx + prev_h @ Wh + b
    i, f, g, o = _sig(a[:, :H]), _sig(a[:, H:2 * H]), np.tanh(a[:, 2 * H:3 * H]), _sig(a[:, 3 * H:])
    c = f * prev_c + i * g
    return (o * c, c), None


def lstm_fwd_split_products(x, prev_h, prev_c, Wx, Wh, b):  # correct: one product per gate
    H = prev_h.shape[1]
    gate = [x @ Wx[:, k * H:(k + 1) * H] + prev_h @ Wh[:, k * H:(k + 1) * H] + b[k * H:(k + 1) * H]
            for k in range(4)]
    i, f, g, o = _sig(gate[0]), _sig(gate[1]), np.tanh(gate[2]), _sig(gate[3])
    c = f * prev_c + i * g
    return (o * np.tanh(c), c), None


def _lstm_bwd(dc_from_h=True, forget_in_dprev_c=True, tanh_of="tanh_c"):
    def backward(dnext, cache):
        dnext_h, dnext_c = dnext
        x, prev_h, prev_c, Wx, Wh, i, f, g, o, tanh_c = cache
        t = tanh_c if tanh_of == "tanh_c" else np.arctanh(tanh_c)  # the latter: next_c itself
        dc = dnext_c + (dnext_h * o * (1 - t**2) if dc_from_h else 0)
        da = np.hstack([dc * g * i * (1 - i), dc * prev_c * f * (1 - f), dc * i * (1 - g**2),
                        dnext_h * tanh_c * o * (1 - o)])
        return da @ Wx.T, da @ Wh.T, dc * f if forget_in_dprev_c else dc, x.T @ da, prev_h.T @ da, da.sum(0)

    return backward


lstm_bwd_no_path_from_h = _lstm_bwd(dc_from_h=False)
lstm_bwd_no_path_from_h.__name__ = "lstm_bwd_no_path_from_h"
lstm_bwd_dprev_c_without_f = _lstm_bwd(forget_in_dprev_c=False)
lstm_bwd_dprev_c_without_f.__name__ = "lstm_bwd_dprev_c_without_f"
lstm_bwd_tanh_of_c = _lstm_bwd(tanh_of="c")
lstm_bwd_tanh_of_c.__name__ = "lstm_bwd_tanh_of_c"


def _gru_parts(x, prev_h, Wx, Wh, b):
    H = prev_h.shape[1]
    ax, ah = x @ Wx + b, prev_h @ Wh
    r, z = _sig(ax[:, :H] + ah[:, :H]), _sig(ax[:, H:2 * H] + ah[:, H:2 * H])
    return H, ax, ah, r, z


def gru_fwd_reset_before_product(x, prev_h, Wx, Wh, b):  # n = tanh(ax_n + (r * prev_h) @ Wh_n)
    H, ax, ah, r, z = _gru_parts(x, prev_h, Wx, Wh, b)
    n = np.tanh(ax[:, 2 * H:] + (r * prev_h) @ Wh[:, 2 * H:])
    return (1 - z) * n + z * prev_h, None


def gru_fwd_z_swapped(x, prev_h, Wx, Wh, b):  # z * n + (1 - z) * prev_h
    H, ax, ah, r, z = _gru_parts(x, prev_h, Wx, Wh, b)
    n = np.tanh(ax[:, 2 * H:] + r * ah[:, 2 * H:])
    return z * n + (1 - z) * prev_h, None


def _gru_bwd(direct=True, r_in_dah=True):
    def backward(dnext_h, cache):
        x, prev_h, Wx, Wh, r, z, n, ah_n = cache
        dn = dnext_h * (1 - z) * (1 - n**2)
        dz = dnext_h * (prev_h - n) * z * (1 - z)
        dr = dn * ah_n * r * (1 - r)
        dax = np.hstack([dr, dz, dn])
        dah = np.hstack([dr, dz, dn * r if r_in_dah else dn])
        dprev = dah @ Wh.T + (dnext_h * z if direct else 0)
        return dax @ Wx.T, dprev, x.T @ dax, prev_h.T @ dah, dax.sum(0)

    return backward


gru_bwd_no_direct_path = _gru_bwd(direct=False)
gru_bwd_no_direct_path.__name__ = "gru_bwd_no_direct_path"
gru_bwd_reset_forgotten = _gru_bwd(r_in_dah=False)
gru_bwd_reset_forgotten.__name__ = "gru_bwd_reset_forgotten"

BUGS = [
    ("rnn.lstm_step_forward", lstm_fwd_cs231n_order, ("order",), {}),
    ("rnn.lstm_step_forward", lstm_fwd_sigmoid_candidate, ("tanh",), {}),
    ("rnn.lstm_step_forward", lstm_fwd_no_tanh_on_c, ("tanh(next_c)",), {}),
    ("rnn.lstm_step_backward", lstm_bwd_no_path_from_h, ("dnext_h",), {}),
    ("rnn.lstm_step_backward", lstm_bwd_dprev_c_without_f, ("f",), {}),
    ("rnn.lstm_step_backward", lstm_bwd_tanh_of_c, ("tanh_c",), {}),
    ("rnn.gru_step_forward", gru_fwd_reset_before_product, ("reset",), {}),
    ("rnn.gru_step_forward", gru_fwd_z_swapped, ("z",), {}),
    ("rnn.gru_step_backward", gru_bwd_no_direct_path, ("z",), {}),
    ("rnn.gru_step_backward", gru_bwd_reset_forgotten, ("r",), {}),
]

CORRECT = [
    ("rnn.lstm_step_forward", lstm_fwd_split_products, {}),
]
