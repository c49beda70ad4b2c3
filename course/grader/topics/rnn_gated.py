"""Lesson 16 (gated recurrent cells): an LSTM step and a GRU step, forward and backward."""

from __future__ import annotations

import numpy as np

from ...layers.gated import gru_step_backward, gru_step_forward, lstm_step_backward, lstm_step_forward
from ..cases import Case, randn, sizes
from ..registry import Variant, register
from ..run.lesson_protocols import StatePair
from ..run.runner import Backward

LESSON = "16_conv_rnn"
_LSTM_ARGS = ("x", "prev_h", "prev_c", "Wx", "Wh", "b")
_GRU_ARGS = ("x", "prev_h", "Wx", "Wh", "b")


def _sig(a):
    return 1.0 / (1.0 + np.exp(-a))


def _cell_cases(rng, gates, with_c):
    """x, prev_h, (prev_c,) Wx, Wh, b for: a general batch, N = 1, D and H swapped, and large
    pre-activations (saturated gates)."""
    N, D, H = sizes(rng, 3, 2, 5)
    out = []
    for n, d, h, scale, note in ((N, D, H, 0.6, f"N = {N}, D = {D}, H = {H}"), (1, D, H, 0.6, "N = 1"),
                                 (N, H, D, 0.6, "D and H swapped"), (2, D, H, 8.0, "large weights: saturated gates")):
        state = (randn(rng, n, h), randn(rng, n, h, scale=2.0)) if with_c else (randn(rng, n, h),)
        args = (randn(rng, n, d), *state, randn(rng, d, gates * h, scale=scale), randn(rng, h, gates * h, scale=scale),
                randn(rng, gates * h, scale=0.5))
        out.append(Case(args, note=note, N=n, fd=scale < 1))
    return out


def _lstm_cases(rng):
    return _cell_cases(rng, 4, True)


def _lstm_variant(order="ifgo", candidate=np.tanh, squash_c=True, swap_if=False):
    def forward(x, prev_h, prev_c, Wx, Wh, b):
        H = prev_h.shape[1]
        a = x @ Wx + prev_h @ Wh + b
        block = {name: a[:, k * H:(k + 1) * H] for k, name in enumerate(order)}
        i, f, o, g = _sig(block["i"]), _sig(block["f"]), _sig(block["o"]), candidate(block["g"])
        if swap_if:
            i, f = f, i
        next_c = f * prev_c + i * g
        return (o * (np.tanh(next_c) if squash_c else next_c), next_c), None

    return forward


_LSTM_FORWARD_VARIANTS = (
    Variant("gate_order_ifog", _lstm_variant(order="ifog"),
            "Your gates are in the order i, f, o, g (CS231n's); this course keeps PyTorch's order i, f, g, o: the "
            "third block of H columns is the candidate g (tanh), the fourth the output gate o."),
    Variant("candidate_sigmoid", _lstm_variant(candidate=_sig),
            "Your candidate g goes through a sigmoid; it goes through tanh, so that it can be negative: "
            "g = tanh(a[:, 2H:3H]). Only the three gates i, f, o are sigmoids (values in (0, 1))."),
    Variant("no_tanh_on_cell", _lstm_variant(squash_c=False),
            "Your next_h is o * next_c: the cell state is squashed before the output gate, next_h = o * tanh(next_c)."),
    Variant("input_and_forget_swapped", _lstm_variant(swap_if=True),
            "You swapped the input and forget gates: f (the second block) multiplies prev_c and i (the first) "
            "multiplies g: next_c = f * prev_c + i * g."),
)


def _lstm_backward_cases(rng):
    return [Case(c.args, c.kwargs, c.note, c.N, c.fd,
                 {"dout": (randn(rng, *c.args[1].shape), randn(rng, *c.args[1].shape))}) for c in _lstm_cases(rng)]


register(
    "rnn.lstm_step_forward",
    lesson=LESSON,
    title="One LSTM step, forward",
    reference=lstm_step_forward,
    cases=_lstm_cases,
    outputs=("next_h", "next_c"),
    arg_names=_LSTM_ARGS,
    protocol=StatePair(),
    variants=_LSTM_FORWARD_VARIANTS,
    hints=(
        "a = x @ Wx + prev_h @ Wh + b, (N, 4H); the blocks of H columns are i, f, g, o in that order.",
        "i, f, o through the sigmoid, g through tanh; next_c = f * prev_c + i * g; next_h = o * tanh(next_c). "
        "Return ((next_h, next_c), cache).",
    ),
)
def _lstm_bwd_variant(from_h=True, forget=True, g_rule="tanh", o_rule="tanh_c"):
    def backward(dnext, cache):
        dnext_h, dnext_c = dnext
        x, prev_h, prev_c, Wx, Wh, i, f, g, o, tanh_c = cache
        dc = dnext_c + (dnext_h * o * (1 - tanh_c**2) if from_h else 0.0)
        dg = dc * i * ((1 - g**2) if g_rule == "tanh" else g * (1 - g))
        do = dnext_h * (tanh_c if o_rule == "tanh_c" else 1 - tanh_c**2) * o * (1 - o)
        da = np.concatenate([dc * g * i * (1 - i), dc * prev_c * f * (1 - f), dg, do], axis=1)
        return da @ Wx.T, da @ Wh.T, dc * f if forget else dc, x.T @ da, prev_h.T @ da, da.sum(axis=0)

    return backward


_LSTM_BACKWARD_VARIANTS = (
    Variant("cell_path_from_h_missing", _lstm_bwd_variant(from_h=False),
            "Your cell-state gradient is dnext_c alone; next_c also reaches the loss through next_h = o * "
            "tanh(next_c), so add that path: dc = dnext_c + dnext_h * o * (1 - tanh_c**2)."),
    Variant("dprev_c_without_forget", _lstm_bwd_variant(forget=False),
            "Your dprev_c is dc; next_c = f * prev_c + i * g, so the gradient reaching prev_c is scaled by the "
            "forget gate: dprev_c = dc * f."),
    Variant("candidate_sigmoid_derivative", _lstm_bwd_variant(g_rule="sigmoid"),
            "Your candidate's local derivative is g * (1 - g), a sigmoid's; g = tanh(...), whose derivative is "
            "1 - g**2."),
    Variant("output_gate_uses_tanh_derivative", _lstm_bwd_variant(o_rule="dtanh"),
            "Your output gate's gradient uses 1 - tanh_c**2; o multiplies tanh_c itself, so do = dnext_h * tanh_c "
            "(then times o * (1 - o))."),
)


register(
    "rnn.lstm_step_backward",
    lesson=LESSON,
    title="One LSTM step, backward",
    reference=lstm_step_backward,
    cases=_lstm_backward_cases,
    outputs=("dx", "dprev_h", "dprev_c", "dWx", "dWh", "db"),
    arg_names=_LSTM_ARGS,
    protocol=Backward(lstm_step_forward),
    variants=_LSTM_BACKWARD_VARIANTS,
    hints=(
        "dc = dnext_c + dnext_h * o * (1 - tanh_c**2): the cell state gets gradient from both outputs.",
        "Gates: di = dc * g, df = dc * prev_c, dg = dc * i, do = dnext_h * tanh_c; times each gate's local "
        "derivative, stacked in the order i, f, g, o into da (N, 4H); then the linear part as for an RNN step.",
    ),
)


def _gru_cases(rng):
    return _cell_cases(rng, 3, False)


def _gru_backward_cases(rng):
    return [Case(c.args, c.kwargs, c.note, c.N, c.fd, {"dout": randn(rng, *c.args[1].shape)})
            for c in _gru_cases(rng)]


def _gru_variant(reset="hidden_part", update="right"):
    def forward(x, prev_h, Wx, Wh, b):
        H = prev_h.shape[1]
        ax, ah = x @ Wx + b, prev_h @ Wh
        r, z = _sig(ax[:, :H] + ah[:, :H]), _sig(ax[:, H:2 * H] + ah[:, H:2 * H])
        if reset == "hidden_part":
            n = np.tanh(ax[:, 2 * H:] + r * ah[:, 2 * H:])
        elif reset == "before_product":
            n = np.tanh(ax[:, 2 * H:] + (r * prev_h) @ Wh[:, 2 * H:])
        else:
            n = np.tanh(ax[:, 2 * H:] + ah[:, 2 * H:])
        return ((1 - z) * n + z * prev_h if update == "right" else z * n + (1 - z) * prev_h), None

    return forward


def _gru_bwd_variant(direct=True, r_in_dah=True, dz_sign=1.0):
    def backward(dnext_h, cache):
        x, prev_h, Wx, Wh, r, z, n, ah_n = cache
        dn = dnext_h * (1 - z) * (1 - n**2)
        dz = dz_sign * dnext_h * (prev_h - n) * z * (1 - z)
        dr = dn * ah_n * r * (1 - r)
        dax = np.concatenate([dr, dz, dn], axis=1)
        dah = np.concatenate([dr, dz, dn * r if r_in_dah else dn], axis=1)
        dprev = dah @ Wh.T + (dnext_h * z if direct else 0.0)
        return dax @ Wx.T, dprev, x.T @ dax, prev_h.T @ dah, dax.sum(axis=0)

    return backward


register(
    "rnn.gru_step_forward",
    lesson=LESSON,
    title="One GRU step, forward",
    reference=gru_step_forward,
    cases=_gru_cases,
    outputs=("next_h", None),
    arg_names=_GRU_ARGS,
    variants=(
        Variant("reset_before_product", _gru_variant(reset="before_product"),
                "You applied the reset gate to prev_h before the product, (r * prev_h) @ Wh_n (the original GRU "
                "paper's form); this course, like PyTorch, resets the product's result: n = tanh(ax_n + r * ah_n) "
                "with ah_n = (prev_h @ Wh)[:, 2H:]."),
        Variant("reset_unused", _gru_variant(reset="none"),
                "Your candidate n ignores the reset gate r: n = tanh(ax_n + r * ah_n)."),
        Variant("update_gate_swapped", _gru_variant(update="swapped"),
                "Your z weighs the candidate: next_h = z * n + (1 - z) * prev_h. In PyTorch's convention (this "
                "course's) z keeps the old state: next_h = (1 - z) * n + z * prev_h."),
    ),
    hints=(
        "ax = x @ Wx + b and ah = prev_h @ Wh, (N, 3H) each, blocks r, z, n.",
        "r, z = sigmoid of the sums of their blocks; n = tanh(ax_n + r * ah_n); "
        "next_h = (1 - z) * n + z * prev_h.",
    ),
)
register(
    "rnn.gru_step_backward",
    lesson=LESSON,
    title="One GRU step, backward",
    reference=gru_step_backward,
    cases=_gru_backward_cases,
    outputs=("dx", "dprev_h", "dWx", "dWh", "db"),
    arg_names=_GRU_ARGS,
    protocol=Backward(gru_step_forward),
    variants=(
        Variant("direct_path_missing", _gru_bwd_variant(direct=False),
                "Your dprev_h only has the paths through the gates; next_h = (1 - z) * n + z * prev_h also holds "
                "prev_h directly, so add dnext_h * z."),
        Variant("reset_missing_in_dWh", _gru_bwd_variant(r_in_dah=False),
                "The hidden part of n's pre-activation is r * ah_n: its gradient is dn_pre * r, and that is what "
                "goes into dWh's and dprev_h's n block (the input part, into dWx, has no r)."),
        Variant("update_sign", _gru_bwd_variant(dz_sign=-1.0),
                "Your update gate's gradient has the wrong sign: d next_h / dz = prev_h - n (z weighs prev_h), "
                "so dz_pre = dnext_h * (prev_h - n) * z * (1 - z)."),
    ),
    hints=(
        "prev_h reaches next_h twice: directly (times z) and through the three gates' products with Wh.",
        "dn_pre = dnext_h * (1 - z) * (1 - n**2); dz_pre = dnext_h * (prev_h - n) * z * (1 - z); "
        "dr_pre = dn_pre * ah_n * r * (1 - r); the hidden part of n's block is dn_pre * r.",
    ),
)
