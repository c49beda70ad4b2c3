"""Lesson 10 (normalisation for images): spatial batch norm and group norm, forward and backward."""

import numpy as np

from course.layers import batchnorm_backward, batchnorm_forward


def sbn_fwd_reshape_without_transpose(x, gamma, beta, bn_param):  # x.reshape(-1, C): mixes channels
    N, C, H, W = x.shape
    out, cache = batchnorm_forward(x.reshape(-1, C), gamma, beta, bn_param)
    return out.reshape(N, C, H, W), cache


def sbn_fwd_batch_axis_only(x, gamma, beta, bn_param):  # statistics per channel AND position
    eps, m = bn_param.setdefault("eps", 1e-5), bn_param.setdefault("momentum", 0.1)
    g, b = gamma[:, None, None], beta[:, None, None]
    if bn_param.setdefault("mode", "train") == "eval":
        mean, var = bn_param["running_mean"][:, None, None], bn_param["running_var"][:, None, None]
        return g * (x - mean) / np.sqrt(var + eps) + b, None
    mean, var = x.mean(axis=0), x.var(axis=0)
    N = x.shape[0] * x.shape[2] * x.shape[3]
    bn_param["running_mean"] = (1 - m) * bn_param["running_mean"] + m * x.mean(axis=(0, 2, 3))
    bn_param["running_var"] = (1 - m) * bn_param["running_var"] + m * x.var(axis=(0, 2, 3)) * N / (N - 1)
    return g * (x - mean) / np.sqrt(var + eps) + b, None


def sbn_fwd_unbiased_over_n(x, gamma, beta, bn_param):  # running var: N - 1 with N the batch size only
    eps, m = bn_param.setdefault("eps", 1e-5), bn_param.setdefault("momentum", 0.1)
    g, b = gamma[:, None, None], beta[:, None, None]
    if bn_param.setdefault("mode", "train") == "eval":
        mean, var = bn_param["running_mean"], bn_param["running_var"]
    else:
        mean, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))
        N = x.shape[0]
        bn_param["running_mean"] = (1 - m) * bn_param["running_mean"] + m * mean
        bn_param["running_var"] = (1 - m) * bn_param["running_var"] + m * var * N / (N - 1)
    return g * (x - mean[:, None, None]) / np.sqrt(var[:, None, None] + eps) + b, None


def sbn_fwd_moveaxis(x, gamma, beta, bn_param):  # correct: moveaxis instead of transpose
    N, C, H, W = x.shape
    rows = np.moveaxis(x, 1, -1).reshape(-1, C)
    out, cache = batchnorm_forward(rows, gamma, beta, bn_param)
    return np.moveaxis(out.reshape(N, H, W, C), -1, 1), (cache, x.shape)


def sbn_bwd_reshape_back_without_transpose(dout, cache):
    bn_cache, (N, C, H, W) = cache
    dx, dgamma, dbeta = batchnorm_backward(dout.transpose(0, 2, 3, 1).reshape(-1, C), bn_cache)
    return dx.reshape(N, C, H, W), dgamma, dbeta


def sbn_bwd_dgamma_batch_only(dout, cache):
    bn_cache, (N, C, H, W) = cache
    dx, _, _ = batchnorm_backward(dout.transpose(0, 2, 3, 1).reshape(-1, C), bn_cache)
    x_hat = bn_cache[0].reshape(N, H, W, C).transpose(0, 3, 1, 2)
    return (dx.reshape(N, H, W, C).transpose(0, 3, 1, 2), (dout * x_hat).sum(axis=0).mean(axis=(1, 2)),
            dout.sum(axis=0).mean(axis=(1, 2)))


def gn_fwd_layer_norm(x, gamma, beta, G, eps=1e-5):  # ignores G: one group per example
    m, v = x.mean(axis=(1, 2, 3), keepdims=True), x.var(axis=(1, 2, 3), keepdims=True)
    return gamma[:, None, None] * (x - m) / np.sqrt(v + eps) + beta[:, None, None], None


def gn_fwd_interleaved_groups(x, gamma, beta, G, eps=1e-5):  # channels c, c + G, ... in one group
    N, C, H, W = x.shape
    xg = x.reshape(N, C // G, G, H, W)
    m, v = xg.mean(axis=(1, 3, 4), keepdims=True), xg.var(axis=(1, 3, 4), keepdims=True)
    x_hat = ((xg - m) / np.sqrt(v + eps)).reshape(x.shape)
    return gamma[:, None, None] * x_hat + beta[:, None, None], None


def gn_fwd_unbiased(x, gamma, beta, G, eps=1e-5):
    N, C, H, W = x.shape
    xg = x.reshape(N, G, -1)
    m, v = xg.mean(axis=2, keepdims=True), xg.var(axis=2, ddof=1, keepdims=True)
    x_hat = ((xg - m) / np.sqrt(v + eps)).reshape(x.shape)
    return gamma[:, None, None] * x_hat + beta[:, None, None], None


def gn_fwd_five_dims(x, gamma, beta, G, eps=1e-5):  # correct: (N, G, C // G, H, W)
    N, C, H, W = x.shape
    xg = x.reshape(N, G, C // G, H, W)
    m, v = xg.mean(axis=(2, 3, 4), keepdims=True), xg.var(axis=(2, 3, 4), keepdims=True)
    x_hat = ((xg - m) / np.sqrt(v + eps)).reshape(x.shape)
    return gamma.reshape(1, C, 1, 1) * x_hat + beta.reshape(1, C, 1, 1), None


def _gn_bwd(sums_over=(2,), mean_terms=True):
    def backward(dout, cache):
        x_hat, gamma, inv_std, G = cache
        N, C, H, W = x_hat.shape
        dgamma, dbeta = (dout * x_hat).sum(axis=(0, 2, 3)), dout.sum(axis=(0, 2, 3))
        dxh = (dout * gamma[:, None, None]).reshape(N, G, -1)
        xh = x_hat.reshape(N, G, -1)
        s = inv_std.reshape(N, G, 1)
        if not mean_terms:
            return (dxh * s).reshape(x_hat.shape), dgamma, dbeta
        m1, m2 = dxh.mean(axis=sums_over, keepdims=True), (dxh * xh).mean(axis=sums_over, keepdims=True)
        return (s * (dxh - m1 - xh * m2)).reshape(x_hat.shape), dgamma, dbeta

    return backward


gn_bwd_sums_over_the_example = _gn_bwd(sums_over=(1, 2))
gn_bwd_sums_over_the_example.__name__ = "gn_bwd_sums_over_the_example"
gn_bwd_no_mean_terms = _gn_bwd(mean_terms=False)
gn_bwd_no_mean_terms.__name__ = "gn_bwd_no_mean_terms"


def gn_bwd_dgamma_not_reduced(dout, cache):
    x_hat, gamma, inv_std, G = cache
    dx = _gn_bwd()(dout, cache)[0]
    return dx, (dout * x_hat).sum(axis=0), dout.sum(axis=0)


BUGS = [
    ("normalization.spatial_batchnorm_forward", sbn_fwd_reshape_without_transpose, ("transpose",), {}),
    ("normalization.spatial_batchnorm_forward", sbn_fwd_batch_axis_only, ("(0, 2, 3)",), {}),
    ("normalization.spatial_batchnorm_forward", sbn_fwd_unbiased_over_n, ("N * H * W",), {}),
    ("normalization.spatial_batchnorm_backward", sbn_bwd_reshape_back_without_transpose, ("transpose",), {}),
    ("normalization.spatial_batchnorm_backward", sbn_bwd_dgamma_batch_only, ("(0, 2, 3)",), {}),
    ("normalization.groupnorm_forward", gn_fwd_layer_norm, ("group",), {}),
    ("normalization.groupnorm_forward", gn_fwd_interleaved_groups, ("consecutive",), {}),
    ("normalization.groupnorm_forward", gn_fwd_unbiased, ("ddof",), {}),
    ("normalization.groupnorm_backward", gn_bwd_sums_over_the_example, ("group",), {}),
    ("normalization.groupnorm_backward", gn_bwd_no_mean_terms, ("mean",), {}),
    ("normalization.groupnorm_backward", gn_bwd_dgamma_not_reduced, ("(0, 2, 3)",), {}),
]

CORRECT = [
    ("normalization.spatial_batchnorm_forward", sbn_fwd_moveaxis, {}),
    ("normalization.groupnorm_forward", gn_fwd_five_dims, {}),
]
