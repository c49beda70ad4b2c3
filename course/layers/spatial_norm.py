"""Normalisation for images, x of shape (N, C, H, W): spatial batch norm and group norm.

Both reuse the (N, D) layers of :mod:`course.layers.normalization` by reshaping:

- **Spatial batch norm** (``torch.nn.BatchNorm2d(C)``): one mean and variance per channel, over
  the batch *and* every position, i.e. batch norm of the (N * H * W, C) matrix whose rows are the
  pixels: ``x.transpose(0, 2, 3, 1).reshape(-1, C)``. gamma, beta: (C,). Running statistics as for
  batch norm (the unbiased variance divides by N * H * W - 1).
- **Group norm** (``torch.nn.GroupNorm(G, C)``): the C channels are split into G groups of C // G
  consecutive channels; each example's group is normalised over its channels and positions, i.e.
  layer norm (without its scale and shift) of the (N * G, C // G * H * W) matrix
  ``x.reshape(N * G, -1)``; then gamma, beta (C,) scale and shift per channel. No running
  statistics: train and eval are the same. G = 1 is layer norm over (C, H, W); G = C is instance norm.
"""

from __future__ import annotations

import numpy as np

from ..validation import check_ndim, check_shape, float_array, positive
from .normalization import batchnorm_backward, batchnorm_forward, layernorm_backward, layernorm_forward

__all__ = ["spatial_batchnorm_forward", "spatial_batchnorm_backward", "groupnorm_forward", "groupnorm_backward"]


def _image(fn, x, gamma, beta):
    x = np.asarray(float_array("x", x, fn=fn))
    check_ndim("x", x, 4, "(N, C, H, W)", fn=fn)
    C = x.shape[1]
    gamma = np.asarray(float_array("gamma", gamma, fn=fn))
    beta = np.asarray(float_array("beta", beta, fn=fn))
    check_shape("gamma", gamma, (C,), "(C,)", fn=fn, why="(one scale per channel of x)")
    check_shape("beta", beta, (C,), "(C,)", fn=fn, why="(one shift per channel of x)")
    return x, gamma, beta


def _pixels(a):
    """(N, C, H, W) -> (N * H * W, C): one row per pixel, one column per channel."""
    return a.transpose(0, 2, 3, 1).reshape(-1, a.shape[1])


def _image_of(rows, shape):
    """The inverse of :func:`_pixels`."""
    N, C, H, W = shape
    return rows.reshape(N, H, W, C).transpose(0, 3, 1, 2)


def spatial_batchnorm_forward(x, gamma, beta, bn_param):
    """Spatial batch normalisation forward pass (``torch.nn.BatchNorm2d``).

    Inputs: x (N, C, H, W); gamma, beta (C,); bn_param as for :func:`batchnorm_forward` (mode,
    eps, momentum, running_mean (C,), running_var (C,); updated in place in train mode).

    Returns ``(out, cache)``: out (N, C, H, W); cache = (bn_cache, shape), with bn_cache the cache of
    :func:`batchnorm_forward` on the (N * H * W, C) pixel matrix and shape = x.shape.
    """
    fn = "spatial_batchnorm_forward"
    x, gamma, beta = _image(fn, x, gamma, beta)
    if bn_param.get("mode", "train") == "train" and x.shape[0] * x.shape[2] * x.shape[3] < 2:
        raise ValueError(f"{fn}: training mode needs at least 2 values per channel (N * H * W >= 2), "
                         f"got x of shape {x.shape}")
    rows, bn_cache = batchnorm_forward(_pixels(x), gamma, beta, bn_param)
    return _image_of(rows, x.shape), (bn_cache, x.shape)


def spatial_batchnorm_backward(dout, cache):
    """Spatial batch normalisation backward pass.

    Inputs: dout (N, C, H, W); cache from :func:`spatial_batchnorm_forward`.
    Returns ``(dx, dgamma, dbeta)``: dx (N, C, H, W); dgamma, dbeta (C,), sums over N, H and W.
    """
    fn = "spatial_batchnorm_backward"
    bn_cache, shape = cache
    dout = np.asarray(float_array("dout", dout, fn=fn))
    check_shape("dout", dout, tuple(shape), "(N, C, H, W)", fn=fn, why="like the forward's output")
    drows, dgamma, dbeta = batchnorm_backward(_pixels(dout), bn_cache)
    return _image_of(drows, shape), dgamma, dbeta


def groupnorm_forward(x, gamma, beta, G, eps=1e-5):
    """Group normalisation forward pass (``torch.nn.GroupNorm(G, C, eps)``).

    Inputs: x (N, C, H, W); gamma, beta (C,); G, the number of groups (it divides C); eps, added to
    each group's biased variance.

    Returns ``(out, cache)``: out (N, C, H, W) = gamma * x_hat + beta (per channel);
    cache = (x_hat, gamma, inv_std, G) with x_hat (N, C, H, W) and inv_std (N * G, 1) =
    1 / sqrt(var + eps), one per example and group.
    """
    fn = "groupnorm_forward"
    x, gamma, beta = _image(fn, x, gamma, beta)
    N, C = x.shape[:2]
    if isinstance(G, bool) or not isinstance(G, (int, np.integer)) or G < 1 or C % G:
        raise ValueError(f"{fn}: G must be a positive whole number that divides the C = {C} channels of x "
                         f"{x.shape}, got {G!r}")
    positive("eps", eps, fn=fn)
    K = x[0].size // G
    rows, (x_hat, _, inv_std) = layernorm_forward(x.reshape(N * G, K), np.ones(K), np.zeros(K), eps=eps)
    x_hat = x_hat.reshape(x.shape)
    return gamma[:, None, None] * x_hat + beta[:, None, None], (x_hat, gamma, inv_std, int(G))


def groupnorm_backward(dout, cache):
    """Group normalisation backward pass.

    Inputs: dout (N, C, H, W); cache from :func:`groupnorm_forward`.

    Returns ``(dx, dgamma, dbeta)``: dgamma = sum of dout * x_hat and dbeta = sum of dout over N, H,
    W (C,); dx (N, C, H, W): the layer-norm formula on each example's group of K = C // G * H * W
    values, dx = inv_std / K * (K * dx_hat - sum(dx_hat) - x_hat * sum(dx_hat * x_hat)), with
    dx_hat = dout * gamma (per channel) and both sums over the group.
    """
    fn = "groupnorm_backward"
    x_hat, gamma, inv_std, G = cache
    dout = np.asarray(float_array("dout", dout, fn=fn))
    check_shape("dout", dout, x_hat.shape, "(N, C, H, W)", fn=fn, why="like the forward's output")
    N = x_hat.shape[0]
    dgamma, dbeta = (dout * x_hat).sum(axis=(0, 2, 3)), dout.sum(axis=(0, 2, 3))
    dx_hat = (dout * gamma[:, None, None]).reshape(N * G, -1)
    K = dx_hat.shape[1]
    dx, _, _ = layernorm_backward(dx_hat, (x_hat.reshape(N * G, K), np.ones(K), inv_std))
    return dx.reshape(x_hat.shape), dgamma, dbeta
