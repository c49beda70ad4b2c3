"""Lesson 00 (NumPy basics) and 01 (forward pass): how learners really get them wrong."""

import numpy as np


def _softmax(x):
    z = x - x.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _log_softmax(x):
    z = x - x.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


# -- lesson 00
def add_bias_column(X, b):
    return X + b.reshape(-1, 1)


def add_bias_inplace(X, b):
    X += b
    return X


def standardize_no_eps_outside(X, eps=1e-8):
    return (X - X.mean(axis=0)) / np.sqrt(X.var(axis=0)) + eps


def standardize_global(X, eps=1e-8):
    return (X - X.mean()) / np.sqrt(X.var() + eps)


def standardize_no_sqrt(X, eps=1e-8):
    return (X - X.mean(axis=0)) / (X.var(axis=0) + eps)


def pairwise_no_broadcast(A, B):
    return np.sum((A - B) ** 2, axis=1)


def pairwise_wrong_axis(A, B):
    return np.sum((A[:, None, :] - B[None, :, :]) ** 2, axis=0)


def pairwise_expansion(A, B):  # correct, the |a|^2 - 2ab + |b|^2 way
    d = (A**2).sum(1)[:, None] - 2 * A @ B.T + (B**2).sum(1)[None, :]
    return np.maximum(d, 0.0)


# -- lesson 01
def relu_np_max(x):
    return np.max(x, 0), x


def relu_overwrites(x):
    out = x
    out[out < 0] = 0
    return out, x


def relu_mask_mul(x):  # correct
    return x * (x > 0), x


def leaky_fixed_slope(x, negative_slope=0.01):
    return np.maximum(x, 0.01 * x), x


def leaky_constant(x, negative_slope=0.01):
    return np.where(x > 0, x, negative_slope), x


def sigmoid_sign(x):
    return 1 / (1 + np.exp(x)), None


def sigmoid_ratio(x):
    return np.exp(x) / (1 + np.exp(x)), None


def sigmoid_via_tanh(x):  # correct
    out = 0.5 * (1 + np.tanh(0.5 * x))
    return out, out


def tanh_exp(x):
    return (np.exp(x) - np.exp(-x)) / (np.exp(x) + np.exp(-x)), None


def tanh_half(x):
    return 2 / (1 + np.exp(-x)) - 1, None


def softmax_unstable(x, axis=-1):
    e = np.exp(x)
    return e / e.sum(axis=1, keepdims=True)


def softmax_no_keepdims(x, axis=-1):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1)


def softmax_global(x, axis=-1):
    e = np.exp(x - x.max())
    return e / e.sum()


def log_softmax_log_of_softmax(x, axis=-1):
    return np.log(softmax_unstable(x))


def log_softmax_no_keepdims(x, axis=-1):
    z = x - x.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1))


def log_softmax_lse(x, axis=-1):  # correct, logsumexp spelled out
    m = np.max(x, axis=axis, keepdims=True)
    return x - (m + np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)))


def linear_w_first(x, W, b):
    return W @ x + b, (x, W, b)


def linear_w_transposed(x, W, b):
    return x @ W.T + b, (x, W, b)


def linear_b_column(x, W, b):
    return x @ W + b.reshape(-1, 1), (x, W, b)


def linear_einsum(x, W, b):  # correct
    return np.einsum("nd,dm->nm", x, W) + b, (x, W, b)


def mse_per_row(pred, target):
    return float(np.sum((pred - target) ** 2) / len(pred))


def mse_square_of_mean(pred, target):
    return float(np.mean(pred - target) ** 2)


def mse_square(pred, target):  # correct
    return float(np.square(pred - target).mean())


def ce_fancy_index(logits, y):
    return float(-np.mean(_log_softmax(logits)[:, y]))


def ce_sum(logits, y):
    return float(-np.sum(_log_softmax(logits)[np.arange(len(y)), y]))


def ce_unstable(logits, y):
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return float(-np.mean(np.log(p[np.arange(len(y)), y])))


BUGS = [
    ("numpy.add_bias", add_bias_column, ("shape",), {}),
    ("numpy.add_bias", add_bias_inplace, ("in place",), {}),
    ("numpy.standardize", standardize_no_eps_outside, ("0/0",), {}),
    ("numpy.standardize", standardize_global, ("axis",), {}),
    ("numpy.standardize", standardize_no_sqrt, (), {}),
    ("numpy.pairwise_sq_dists", pairwise_no_broadcast, ("shape",), {}),
    ("numpy.pairwise_sq_dists", pairwise_wrong_axis, ("axis",), {}),
    ("layers.relu_forward", relu_np_max, ("shape",), {}),
    ("layers.relu_forward", relu_overwrites, ("in place",), {}),
    ("layers.leaky_relu_forward", leaky_fixed_slope, ("< 0",), {}),
    ("layers.leaky_relu_forward", leaky_constant, ("< 0",), {}),
    ("layers.sigmoid_forward", sigmoid_sign, ("1 -",), {}),
    ("layers.sigmoid_forward", sigmoid_ratio, ("exp",), {}),
    ("layers.tanh_forward", tanh_exp, ("exp",), {}),
    ("layers.tanh_forward", tanh_half, (), {}),
    ("layers.softmax", softmax_unstable, ("exp",), {}),
    ("layers.softmax", softmax_no_keepdims, ("keepdims",), {}),
    ("layers.softmax", softmax_global, ("axis",), {}),
    ("layers.log_softmax", log_softmax_log_of_softmax, ("log",), {}),
    ("layers.log_softmax", log_softmax_no_keepdims, ("keepdims",), {}),
    ("layers.linear_forward", linear_w_first, ("(N, D)",), {}),
    ("layers.linear_forward", linear_w_transposed, ("W",), {}),
    ("layers.linear_forward", linear_b_column, ("b",), {}),
    ("forward.mse_loss", mse_per_row, ("mean",), {}),
    ("forward.mse_loss", mse_square_of_mean, (), {}),
    ("forward.cross_entropy_loss", ce_fancy_index, ("label",), {}),
    ("forward.cross_entropy_loss", ce_sum, ("N",), {}),
    ("forward.cross_entropy_loss", ce_unstable, ("exp",), {}),
]

CORRECT = [
    ("numpy.pairwise_sq_dists", pairwise_expansion, {}),
    ("layers.relu_forward", relu_mask_mul, {}),
    ("layers.sigmoid_forward", sigmoid_via_tanh, {}),
    ("layers.log_softmax", log_softmax_lse, {}),
    ("layers.linear_forward", linear_einsum, {}),
    ("forward.mse_loss", mse_square, {}),
]
