"""Lesson 16 (recurrent networks): one RNN step's backward, and backpropagation through time."""

from __future__ import annotations

import numpy as np

from ...layers.rnn import rnn_backward, rnn_forward, rnn_step_backward, rnn_step_forward
from ..cases import Case, randn, sizes
from ..registry import Variant, register
from ..run.runner import Backward

LESSON = "16_conv_rnn"


def _weights(rng, D, H, scale=0.6):
    return randn(rng, D, H, scale=scale), randn(rng, H, H, scale=scale), randn(rng, H, scale=0.2)


def _step_cases(rng):
    N, D, H = sizes(rng, 3, 2, 6)
    out = []
    for n, d, h, note in ((N, D, H, f"N = {N}, D = {D}, H = {H}"), (1, D, H, "N = 1"), (N, H, D, "D and H swapped")):
        out.append(Case((randn(rng, n, d), randn(rng, n, h), *_weights(rng, d, h)), note=note, N=n,
                        extra={"dout": randn(rng, n, h)}))
    return out


def _step_variant(da_rule="right", dWh_from="prev_h", db_axis=0):
    def backward(dnext_h, cache):
        x, prev_h, Wx, Wh, next_h = cache
        if da_rule == "right":
            da = dnext_h * (1 - next_h**2)
        elif da_rule == "prev_h":
            da = dnext_h * (1 - prev_h**2)
        else:
            da = dnext_h
        dWh = (prev_h if dWh_from == "prev_h" else next_h).T @ da
        return da @ Wx.T, da @ Wh.T, x.T @ da, dWh, da.sum(axis=db_axis)

    return backward


register(
    "rnn.step_backward",
    lesson=LESSON,
    title="One RNN step, backward",
    reference=rnn_step_backward,
    cases=_step_cases,
    outputs=("dx", "dprev_h", "dWx", "dWh", "db"),
    arg_names=("x", "prev_h", "Wx", "Wh", "b"),
    protocol=Backward(rnn_step_forward),
    variants=(
        Variant("no_tanh_backward", _step_variant(da_rule="none"),
                "You passed dnext_h straight through the tanh: multiply by its derivative first, "
                "da = dnext_h * (1 - next_h**2)."),
        Variant("tanh_derivative_of_prev_h", _step_variant(da_rule="prev_h"),
                "Your tanh derivative uses prev_h; it is 1 - tanh(a)**2 at this step's output, "
                "1 - next_h**2."),
        Variant("dWh_from_next_h", _step_variant(dWh_from="next_h"),
                "Your dWh uses next_h; Wh multiplied prev_h in the forward, so dWh = prev_h.T @ da."),
        Variant("db_axis", _step_variant(db_axis=1),
                "Your db sums over the hidden units (one value per example): sum over the batch, "
                "db = da.sum(axis=0)."),
    ),
    hints=(
        "da = dnext_h * (1 - next_h**2), then the linear backward of x @ Wx + prev_h @ Wh + b.",
        "dx = da @ Wx.T, dprev_h = da @ Wh.T, dWx = x.T @ da, dWh = prev_h.T @ da, db = da.sum(axis=0).",
    ),
)


def _bptt_cases(rng):
    N, T, D, H = sizes(rng, 4, 2, 6)
    out = []
    for n, t, note in ((N, T, f"N = {N}, T = {T}, D = {D}, H = {H}"), (1, T + 2, f"N = 1, T = {T + 2}"),
                       (N, 1, "a single step (T = 1)")):
        args = (randn(rng, n, t, D), randn(rng, n, H), *_weights(rng, D, H))
        out.append(Case(args, note=note, N=n, extra={"dout": randn(rng, n, t, H)}))
    ends = randn(rng, N, T, H) * np.isin(np.arange(T), (0, T - 1))[None, :, None]
    out.append(Case((randn(rng, N, T, D), randn(rng, N, H), *_weights(rng, D, H)),
                    note="losses at the first and last steps only", N=N, extra={"dout": ends}))
    return out


def _bptt_variant(carry=True, upstream="all", accumulate=True, backwards=True):
    def backward(dh, cache):
        N, T, H = dh.shape
        D = cache[0][0].shape[1]
        dx, dprev = np.zeros((N, T, D)), np.zeros((N, H))
        grads = [np.zeros_like(cache[0][2]), np.zeros_like(cache[0][3]), np.zeros(H)]
        for t in (reversed(range(T)) if backwards else range(T)):
            local = dh[:, t] if upstream == "all" or t == T - 1 else 0.0
            dx[:, t], dp, *gs = rnn_step_backward(local + (dprev if carry else 0.0), cache[t])
            dprev = dp
            grads = [g + n for g, n in zip(grads, gs)] if accumulate else gs
        return dx, dprev, *grads

    return backward


register(
    "rnn.bptt",
    lesson=LESSON,
    title="Backpropagation through time",
    reference=rnn_backward,
    cases=_bptt_cases,
    outputs=("dx", "dh0", "dWx", "dWh", "db"),
    arg_names=("x", "h0", "Wx", "Wh", "b"),
    protocol=Backward(rnn_forward),
    variants=(
        Variant("dh_not_carried", _bptt_variant(carry=False),
                "Each of your steps only gets dh[:, t], its own loss's gradient: the gradient coming "
                "back from step t + 1 (dprev_h of the step after) must be added, "
                "rnn_step_backward(dh[:, t] + dprev, cache[t])."),
        Variant("upstream_of_last_step_only", _bptt_variant(upstream="last"),
                "You only used dh at the last step; every hidden state can feed a loss, so add dh[:, t] "
                "at every step t."),
        Variant("weights_overwritten", _bptt_variant(accumulate=False),
                "Your weight gradients hold one step only: Wx, Wh and b are shared by all T steps, so "
                "add the gradients of every step (dWx += ...)."),
        Variant("forward_in_time", _bptt_variant(backwards=False),
                "You walked the steps forwards (t = 0 .. T-1); the gradient flows backwards in time: "
                "for t in reversed(range(T))."),
    ),
    hints=(
        "dprev = zeros (N, H); for t in reversed(range(T)): dx[:, t], dprev, dWx_t, dWh_t, db_t = "
        "rnn_step_backward(dh[:, t] + dprev, cache[t]); add the three weight gradients to their totals.",
        "dh0 is the last dprev.",
    ),
)
