"""Lesson 17 (attention and the transformer block): scaled dot-product attention forward and
backward, splitting and merging heads, and the post-LN block's backward."""

from __future__ import annotations

import math

import numpy as np

from ...layers import dropout_backward, layernorm_backward, linear_backward, relu_backward
from ...layers.attention import (
    attention_backward,
    attention_forward,
    causal_mask,
    merge_heads,
    multihead_attention_backward,
    split_heads,
)
from ...layers.transformer import BLOCK_PARAMS, transformer_block_backward, transformer_block_forward
from ..cases import Case, randn, sizes
from ..registry import Variant, register
from ..run.runner import Backward

LESSON = "17_attention"


def _attention_cases(rng):
    N, T, d = sizes(rng, 3, 2, 6)
    mask = rng.random((T, T + 1)) > 0.4
    mask[:, 0] = True
    return [
        Case((randn(rng, N, T, d), randn(rng, N, T, d), randn(rng, N, T, d + 1)), note=f"N = {N}, T = {T}, d = {d}",
             N=N),
        Case((randn(rng, 2, 2, T, d), randn(rng, 2, 2, T, d), randn(rng, 2, 2, T, d)), {"mask": causal_mask(T)},
             note="heads (2, 2, T, d), causal mask", N=2),
        Case((randn(rng, N, T, d), randn(rng, N, T + 1, d), randn(rng, N, T + 1, 2)), {"mask": mask},
             note=f"{T} queries, {T + 1} keys, a random mask", N=N),
        Case((randn(rng, 1, T, 16, scale=3.0), randn(rng, 1, T, 16, scale=3.0), randn(rng, 1, T, 3)),
             note="d = 16: the scale matters", N=1),
        Case((randn(rng, 1, T, 4, scale=40.0), randn(rng, 1, T, 4, scale=40.0), randn(rng, 1, T, 2)),
             note="huge scores (|q.k| in the thousands): exp overflows without the max trick", N=1),
    ]


def _softmax(s, axis=-1):
    s = s - np.max(s, axis=axis, keepdims=True)
    e = np.exp(s)
    return e / e.sum(axis=axis, keepdims=True)


def _attention_variant(scale="sqrt", axis=-1, mask_after=False, masked_score=-np.inf):
    def forward(q, k, v, mask=None):
        d = q.shape[-1]
        s = q @ np.swapaxes(k, -1, -2) / {"sqrt": math.sqrt(d), "none": 1.0, "d": d}[scale]
        if mask is not None and not mask_after:
            s = np.where(mask, s, masked_score)
        P = _softmax(s, axis)
        if mask is not None and mask_after:
            P = P * mask
        return P @ v, None

    return forward


register(
    "attention.forward",
    lesson=LESSON,
    title="Scaled dot-product attention, forward",
    reference=attention_forward,
    cases=_attention_cases,
    outputs=("out", None),
    arg_names=("q", "k", "v"),
    variants=(
        Variant("missing_scale", _attention_variant(scale="none"),
                "You did not scale the scores: divide q @ k^T by sqrt(d), d = q.shape[-1], so that "
                "the softmax does not saturate as d grows."),
        Variant("scale_by_d", _attention_variant(scale="d"),
                "You divided the scores by d; the scale is 1 / sqrt(d)."),
        Variant("softmax_wrong_axis", _attention_variant(axis=-2),
                "Your softmax runs over the queries (axis -2); each query's weights over the KEYS must "
                "sum to 1: softmax over the last axis."),
        Variant("mask_after_softmax", _attention_variant(mask_after=True),
                "You zeroed the masked weights after the softmax, so the remaining ones no longer sum "
                "to 1: set the masked scores to -inf BEFORE the softmax (np.where(mask, scores, -np.inf))."),
        Variant("masked_scores_zero", _attention_variant(masked_score=0.0),
                "You set the masked scores to 0, but exp(0) = 1: masked keys still get weight. Set them "
                "to -inf (np.where(mask, scores, -np.inf)), so that their weight is exactly 0."),
    ),
    hints=(
        "scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(d); masked scores = -np.inf; a stable softmax over "
        "the last axis; out = P @ v.",
        "Return (out, cache) with cache = (q, k, v, P).",
    ),
)


def _backward_cases(rng):
    return [
        Case(c.args, c.kwargs, c.note, c.N, c.fd,
             {"dout": randn(rng, *attention_forward(*c.args, **c.kwargs)[0].shape)})
        for c in _attention_cases(rng)
    ]


def _attention_backward_variant(jacobian="right", scaled=True):
    def backward(dout, cache):
        q, k, v, P = cache
        scale = 1.0 / math.sqrt(q.shape[-1]) if scaled else 1.0
        dv = np.swapaxes(P, -1, -2) @ dout
        dP = dout @ np.swapaxes(v, -1, -2)
        if jacobian == "diagonal":
            dS = P * dP
        else:
            dS = P * (dP - np.sum(dP * P, axis=-1 if jacobian == "right" else -2, keepdims=True))
        return dS @ k * scale, np.swapaxes(dS, -1, -2) @ q * scale, dv

    return backward


register(
    "attention.backward",
    lesson=LESSON,
    title="Scaled dot-product attention, backward",
    reference=attention_backward,
    cases=_backward_cases,
    outputs=("dq", "dk", "dv"),
    arg_names=("q", "k", "v"),
    protocol=Backward(attention_forward),
    variants=(
        Variant("softmax_jacobian_diagonal", _attention_backward_variant(jacobian="diagonal"),
                "Your dS = P * dP keeps only the diagonal of the softmax Jacobian; each weight depends "
                "on every score of its row: dS = P * (dP - sum(dP * P, axis=-1, keepdims=True))."),
        Variant("jacobian_sum_wrong_axis", _attention_backward_variant(jacobian="axis"),
                "Your softmax backward sums dP * P over the queries (axis -2); the softmax ran over the "
                "keys, so sum over the last axis."),
        Variant("missing_scale_backward", _attention_backward_variant(scaled=False),
                "Your dq and dk miss the 1 / sqrt(d) of the forward: the scores were q @ k^T / sqrt(d)."),
    ),
    hints=(
        "dv = P^T @ dout; dP = dout @ v^T; dS = P * (dP - (dP * P).sum(-1, keepdims=True)).",
        "dq = dS @ k / sqrt(d); dk = dS^T @ q / sqrt(d) (swap the last two axes for ^T).",
    ),
)


def _heads_cases(rng):
    N, T, h, dh = sizes(rng, 4, 2, 5)
    return [
        Case((randn(rng, N, T, h * dh), h), note=f"N = {N}, T = {T}, {h} heads of size {dh}", N=N),
        Case((randn(rng, 1, T + 1, 3 * dh), 3), note="three heads, N = 1", N=1),
        Case((randn(rng, N, T, 8), 1), note="one head", N=N),
    ]


register(
    "attention.split_heads",
    lesson=LESSON,
    title="Split into heads",
    reference=split_heads,
    cases=_heads_cases,
    arg_names=("x", "num_heads"),
    variants=(
        Variant("heads_wrong_order", lambda x, h: x.reshape(x.shape[0], h, x.shape[1], -1),
                "You reshaped (N, T, E) straight to (N, h, T, E/h), which mixes positions between "
                "heads: reshape to (N, T, h, E/h) first, then transpose the T and h axes."),
        Variant("heads_not_transposed", lambda x, h: x.reshape(x.shape[0], x.shape[1], h, -1),
                "Your heads are (N, T, h, E/h): transpose(0, 2, 1, 3) to get (N, h, T, E/h)."),
        Variant("features_interleaved", lambda x, h: x.reshape(*x.shape[:2], -1, h).transpose(0, 3, 1, 2),
                "Your head i holds features i, i + h, i + 2h, ...; head i is the block of E/h "
                "consecutive features i * E/h .. (i + 1) * E/h - 1: reshape to (N, T, h, E/h)."),
    ),
    hints=("x.reshape(N, T, h, E // h).transpose(0, 2, 1, 3).",),
)


def _merge_cases(rng):
    return [Case((split_heads(*c.args),), note=c.note, N=c.N) for c in _heads_cases(rng)]


register(
    "attention.merge_heads",
    lesson=LESSON,
    title="Merge the heads",
    reference=merge_heads,
    cases=_merge_cases,
    arg_names=("x",),
    variants=(
        Variant("merge_without_transpose", lambda x: x.reshape(x.shape[0], x.shape[2], -1),
                "You reshaped (N, h, T, d) straight to (N, T, h * d), which mixes positions: "
                "transpose(0, 2, 1, 3) to (N, T, h, d) first, then reshape."),
    ),
    hints=("x.transpose(0, 2, 1, 3).reshape(N, T, h * d).",),
)


# ---------------------------------------------------------------------------------------------
# The block's backward


def _block_params(rng, E, Dff):
    P = {n: randn(rng, E, E, scale=0.5) if n[0] == "W" else randn(rng, E, scale=0.1) for n in BLOCK_PARAMS[:8]}
    P.update(W1=randn(rng, E, Dff, scale=0.5), b1=randn(rng, Dff, scale=0.1), W2=randn(rng, Dff, E, scale=0.5),
             b2=randn(rng, E, scale=0.1))
    for i in "12":
        P["gamma" + i], P["beta" + i] = 1.0 + randn(rng, E, scale=0.1), randn(rng, E, scale=0.1)
    return P


def _block_cases(rng):
    N, T, Dff = sizes(rng, 3, 2, 5)
    specs = ((N, T, 4, 2, Dff, {}, f"N = {N}, T = {T}, E = 4, 2 heads, no dropout"),
             (1, T + 1, 6, 3, Dff + 2, {"p": 0.2, "rng": int(rng.integers(1000))}, "dropout p = 0.2, 3 heads"),
             (2, T, 4, 1, Dff, {"mask": causal_mask(T), "p": 0.1, "rng": 5}, "causal mask, one head, p = 0.1"))
    out = []
    for n, t, E, h, dff, kw, note in specs:
        x = randn(rng, n, t, E)
        out.append(Case((x, _block_params(rng, E, dff), h), kw, note=note, N=n, extra={"dout": randn(rng, n, t, E)}))
    return out


def _block_variant(attn_residual=True, ffn_residual=True, dropout=True):
    def backward(dout, cache):
        N, T, E = cache["shape"]
        drop = dropout_backward if dropout else (lambda d, mask: d)
        g = {}
        dr2, g["gamma2"], g["beta2"] = layernorm_backward(dout.reshape(N * T, E), cache["ln2"])
        dr, g["W2"], g["b2"] = linear_backward(drop(dr2, cache["drop2"]), cache["ff2"])
        dh, g["W1"], g["b1"] = linear_backward(relu_backward(dr, cache["relu"]), cache["ff1"])
        dh = dh + dr2 if ffn_residual else dh
        dr1, g["gamma1"], g["beta1"] = layernorm_backward(dh, cache["ln1"])
        dx, ga = multihead_attention_backward(drop(dr1.reshape(N, T, E), cache["drop1"]), cache["attn"])
        g.update(ga)
        return (dx + dr1.reshape(N, T, E) if attn_residual else dx), {n: g[n] for n in BLOCK_PARAMS}

    return backward


register(
    "attention.block_backward",
    lesson=LESSON,
    title="The transformer block's backward",
    reference=transformer_block_backward,
    cases=_block_cases,
    points=2,
    outputs=("dx", "grads"),
    arg_names=("x", "params", "num_heads"),
    protocol=Backward(transformer_block_forward, wrt=(0,)),
    variants=(
        Variant("attention_residual_missing", _block_variant(attn_residual=False),
                "Your dx misses the first residual: h = layernorm1(x + a), so x reaches h directly as "
                "well as through attention; add the gradient of x + a to dx."),
        Variant("ffn_residual_missing", _block_variant(ffn_residual=False),
                "Your gradient of h misses the second residual: out = layernorm2(h + f), so add the "
                "gradient of h + f to the one coming back through the feed-forward network."),
        Variant("dropout_ignored", _block_variant(dropout=False),
                "Your backward ignores the dropout masks: multiply by the same mask (already scaled by "
                "1 / (1 - p)) that the forward used, stored in the cache."),
    ),
    hints=(
        "Walk the forward backwards: ln2, dropout2, ff2, relu, ff1, (+ the residual), ln1, dropout1, "
        "attention, (+ the residual).",
        "Each residual sum a + b sends its gradient, unchanged, to both a and b.",
    ),
)
