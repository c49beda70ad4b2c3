"""Normalisation for images (lesson 10): spatial batch norm and group norm, forward and backward,
for x of shape (N, C, H, W)."""

from __future__ import annotations

import numpy as np

from ...layers.normalization import batchnorm_backward, batchnorm_forward
from ...layers.spatial_norm import (
    groupnorm_backward,
    groupnorm_forward,
    spatial_batchnorm_backward,
    spatial_batchnorm_forward,
)
from ..cases import Case, randn, sizes
from ..registry import Variant, register
from ..run.lesson_protocols import WithRunningStats
from ..run.runner import Backward

LESSON = "10_normalization"


def _image(rng, N, C, H, W, scale=2.0):
    return 3.0 + randn(rng, N, C, H, W, scale=scale)  # mean 3, std 2: not normalised


def _bn_param(rng, C, mode, momentum=0.1):
    return {"mode": mode, "momentum": momentum, "eps": 1e-5,
            "running_mean": randn(rng, C, scale=0.5), "running_var": rng.uniform(0.5, 2.0, C)}


def _sbn_cases(rng):
    N, C, H, W = sizes(rng, 4, 2, 5)
    g, b = rng.uniform(0.5, 2.0, C), randn(rng, C)
    return [
        Case((_image(rng, N, C, H, W), g, b, _bn_param(rng, C, "train")), note=f"train, (N, C, H, W) = "
             f"({N}, {C}, {H}, {W})", N=N),
        Case((_image(rng, 1, C, H, W), g, b, _bn_param(rng, C, "train", 0.3)),
             note="train, N = 1 (the positions still give a variance), momentum 0.3", N=1),
        Case((_image(rng, N, C, H, W), g, b, _bn_param(rng, C, "eval")), note="eval mode: running statistics", N=N),
        Case((_image(rng, N, C, 1, 1), g, b, _bn_param(rng, C, "train")), note="H = W = 1: plain batch norm", N=N),
    ]


def _sbn_backward_cases(rng):
    out = []
    for c in _sbn_cases(rng):
        x = c.args[0]
        args = (x[:, :, :3, :3], *c.args[1:]) if x.size > 120 else c.args  # small enough for differences
        out.append(Case(args, c.kwargs, c.note.split(",")[0] + f", x {args[0].shape}", c.N, c.fd,
                        {"dout": randn(rng, *args[0].shape)}))
    return out


def _sbn_rows_without_transpose(x, gamma, beta, bn_param):
    out, cache = batchnorm_forward(x.reshape(-1, x.shape[1]), gamma, beta, bn_param)
    return out.reshape(x.shape), cache


def _sbn_per_position(x, gamma, beta, bn_param):
    """Batch norm over the batch axis only, one mean per channel AND position; the running statistics
    right (the mistake is in the normalisation)."""
    eps = bn_param.get("eps", 1e-5)
    if bn_param.get("mode", "train") == "eval":
        return spatial_batchnorm_forward(x, gamma, beta, bn_param)
    spatial_batchnorm_forward(x, gamma, beta, bn_param)
    x_hat = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + eps)
    return gamma[:, None, None] * x_hat + beta[:, None, None], None


def _sbn_unbiased_over_batch(x, gamma, beta, bn_param):
    """The running variance made unbiased with N / (N - 1), N the batch size, not N * H * W."""
    mode, m, old = bn_param.get("mode", "train"), bn_param.get("momentum", 0.1), bn_param.get("running_var")
    out, cache = spatial_batchnorm_forward(x, gamma, beta, bn_param)
    if mode == "train":
        N = x.shape[0]
        with np.errstate(divide="ignore", invalid="ignore"):
            bn_param["running_var"] = (1 - m) * old + m * x.var(axis=(0, 2, 3)) * (N / np.float64(N - 1))
    return out, cache


def _sbn_backward_rows(transpose_back):
    def backward(dout, cache):
        bn_cache, (N, C, H, W) = cache
        drows, dgamma, dbeta = batchnorm_backward(dout.transpose(0, 2, 3, 1).reshape(-1, C), bn_cache)
        dx = drows.reshape(N, H, W, C).transpose(0, 3, 1, 2) if transpose_back else drows.reshape(N, C, H, W)
        return dx, dgamma, dbeta

    return backward


def _sbn_backward_no_transpose_in(dout, cache):
    bn_cache, (N, C, H, W) = cache
    drows, dgamma, dbeta = batchnorm_backward(dout.reshape(-1, C), bn_cache)
    return drows.reshape(N, H, W, C).transpose(0, 3, 1, 2), dgamma, dbeta


_TRANSPOSE = ("x.reshape(-1, C) keeps the memory order (N, C, H, W), so its rows mix channels; move the channels "
              "last first: rows = x.transpose(0, 2, 3, 1).reshape(-1, C), and back with "
              "rows.reshape(N, H, W, C).transpose(0, 3, 1, 2).")

register(
    "normalization.spatial_batchnorm_forward",
    lesson=LESSON,
    title="Spatial batch norm forward (N, C, H, W)",
    reference=spatial_batchnorm_forward,
    cases=_sbn_cases,
    outputs=("out", "running_mean", "running_var"),
    arg_names=("x", "gamma", "beta", "bn_param"),
    protocol=WithRunningStats(),
    variants=(
        Variant("reshape_without_transpose", _sbn_rows_without_transpose, "You reshaped x to (N * H * W, C) "
                "without moving the channel axis: " + _TRANSPOSE),
        Variant("statistics_per_position", _sbn_per_position,
                "Your normalisation takes a mean and variance per channel AND position (over the batch axis "
                "only); spatial batch norm shares them over every position of a channel: axes (0, 2, 3), "
                "N * H * W values each."),
        Variant("running_var_unbiased_over_batch", _sbn_unbiased_over_batch,
                "Your running variance is made unbiased with N / (N - 1), N the batch size; each channel's "
                "statistics come from N * H * W values, so the factor is N * H * W / (N * H * W - 1)."),
    ),
    hints=(
        "Move the channels last and flatten the rest: rows = x.transpose(0, 2, 3, 1).reshape(-1, C), one row "
        "per pixel; batch norm of rows; then back with reshape(N, H, W, C).transpose(0, 3, 1, 2).",
        "Each channel's mean and variance are over axes (0, 2, 3): N * H * W values.",
    ),
)
register(
    "normalization.spatial_batchnorm_backward",
    lesson=LESSON,
    title="Spatial batch norm backward",
    reference=spatial_batchnorm_backward,
    cases=_sbn_backward_cases,
    outputs=("dx", "dgamma", "dbeta"),
    arg_names=("x", "gamma", "beta", "bn_param"),
    protocol=Backward(spatial_batchnorm_forward, wrt=(0, 1, 2)),
    variants=(
        Variant("reshape_back_without_transpose", _sbn_backward_rows(transpose_back=False),
                "Your dx rows went back to (N, C, H, W) with a plain reshape: " + _TRANSPOSE),
        Variant("dout_reshape_without_transpose", _sbn_backward_no_transpose_in,
                "You reshaped dout to rows without moving the channel axis: " + _TRANSPOSE),
    ),
    hints=(
        "The same reshape as the forward: dout to (N * H * W, C) rows, batchnorm_backward, and dx back to "
        "(N, C, H, W) with the inverse reshape and transpose.",
    ),
)


def _gn_cases(rng):
    N, H, W = sizes(rng, 3, 2, 4)
    out = []
    for n, C, G, note in ((N, 6, 2, f"N = {N}, C = 6, G = 2 groups of 3 channels"), (1, 6, 3, "N = 1, G = 3"),
                          (N, 4, 1, "G = 1: one group (layer norm over C, H, W)"),
                          (2, 4, 4, "G = C = 4: one channel per group (instance norm)")):
        out.append(Case((_image(rng, n, C, H, W), rng.uniform(0.5, 2.0, C), randn(rng, C), G), note=note, N=n))
    out.append(Case((_image(rng, 2, 6, H, W, scale=30.0), rng.uniform(0.5, 2.0, 6), randn(rng, 6), 3),
                    {"eps": 1e-3}, note="large values, eps = 1e-3", N=2))
    return out


def _gn_backward_cases(rng):
    return [Case(c.args, c.kwargs, c.note, c.N, c.fd, {"dout": randn(rng, *c.args[0].shape)})
            for c in _gn_cases(rng)]


def _gn_variant(grouping="consecutive", ddof=0):
    def forward(x, gamma, beta, G, eps=1e-5):
        N, C, H, W = x.shape
        if grouping == "consecutive":
            xg = x.reshape(N, G, -1)
            axes = (2,)
        elif grouping == "interleaved":
            xg = x.reshape(N, C // G, G, H * W)
            axes = (1, 3)
        elif grouping == "example":
            xg, axes = x.reshape(N, 1, -1), (2,)
        else:  # one group per channel
            xg, axes = x.reshape(N, C, -1), (2,)
        m, v = xg.mean(axis=axes, keepdims=True), xg.var(axis=axes, ddof=ddof, keepdims=True)
        x_hat = ((xg - m) / np.sqrt(v + eps)).reshape(x.shape)
        return gamma[:, None, None] * x_hat + beta[:, None, None], None

    return forward


def _gn_bwd_variant(over="group", mean_terms=True):
    def backward(dout, cache):
        x_hat, gamma, inv_std, G = cache
        N = x_hat.shape[0]
        dxh = (dout * gamma[:, None, None]).reshape(N, G, -1)
        xh, s = x_hat.reshape(N, G, -1), inv_std.reshape(N, G, 1)
        axes = (2,) if over == "group" else (1, 2)
        if mean_terms:
            dx = s * (dxh - dxh.mean(axis=axes, keepdims=True) - xh * (dxh * xh).mean(axis=axes, keepdims=True))
        else:
            dx = s * dxh
        return dx.reshape(x_hat.shape), (dout * x_hat).sum(axis=(0, 2, 3)), dout.sum(axis=(0, 2, 3))

    return backward


register(
    "normalization.groupnorm_forward",
    lesson=LESSON,
    title="Group norm forward",
    reference=groupnorm_forward,
    cases=_gn_cases,
    outputs=("out", None),
    arg_names=("x", "gamma", "beta", "G"),
    variants=(
        Variant("groups_interleaved", _gn_variant(grouping="interleaved"),
                "Your groups take every G-th channel (x.reshape(N, C // G, G, ...)); a group is C // G "
                "consecutive channels: x.reshape(N, G, -1) (channels 0 .. C/G - 1 form group 0)."),
        Variant("one_group_per_example", _gn_variant(grouping="example"),
                "You normalised each example over all its channels at once (layer norm): G is ignored. Split the "
                "channels into G groups, x.reshape(N, G, -1), one mean and variance per example and group."),
        Variant("one_group_per_channel", _gn_variant(grouping="channel"),
                "You normalised each channel on its own (instance norm, G = C); a group holds C // G consecutive "
                "channels: x.reshape(N, G, -1)."),
        Variant("unbiased_var", _gn_variant(ddof=1),
                "You used the unbiased variance (ddof=1); group norm divides by the group's size, as PyTorch "
                "does: var(axis=2) with the default ddof=0."),
    ),
    hints=(
        "xg = x.reshape(N, G, -1): each row of an example holds its group's C // G consecutive channels and "
        "all their positions; mean and (biased) variance over axis 2, keepdims=True.",
        "x_hat = ((xg - mean) / sqrt(var + eps)).reshape(x.shape); out = gamma[:, None, None] * x_hat + "
        "beta[:, None, None] (per channel).",
    ),
)
register(
    "normalization.groupnorm_backward",
    lesson=LESSON,
    title="Group norm backward",
    reference=groupnorm_backward,
    cases=_gn_backward_cases,
    outputs=("dx", "dgamma", "dbeta"),
    arg_names=("x", "gamma", "beta"),
    protocol=Backward(groupnorm_forward),
    variants=(
        Variant("sums_over_the_example", _gn_bwd_variant(over="example"),
                "The sums in your dx run over the whole example; the statistics are per group, so the sums (and "
                "the count K = C // G * H * W) are per example and group: reshape to (N, G, -1), sum over axis 2."),
        Variant("missing_mean_terms", _gn_bwd_variant(mean_terms=False),
                "Your dx treats each group's mean and variance as constants (dx = dx_hat * inv_std); they depend "
                "on every value of the group: subtract the group's mean of dx_hat and x_hat * mean(dx_hat * x_hat)."),
    ),
    hints=(
        "dgamma = (dout * x_hat).sum(axis=(0, 2, 3)), dbeta = dout.sum(axis=(0, 2, 3)); dx_hat = dout * "
        "gamma[:, None, None].",
        "dx: the layer-norm formula on the (N * G, K) rows, K = C // G * H * W: dx = inv_std / K * (K * dx_hat "
        "- sum(dx_hat) - x_hat * sum(dx_hat * x_hat)), sums over each row.",
    ),
)
