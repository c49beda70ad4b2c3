"""Lesson 03 (backpropagation): layer backwards, losses with their gradients, a training step."""

import numpy as np


def _softmax(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def relu_bwd_mutates(dout, cache):
    dout[cache < 0] = 0
    return dout


def relu_bwd_times_output(dout, cache):
    return dout * np.maximum(cache, 0)


def relu_bwd_mask(dout, cache):  # correct
    return dout * (cache > 0)


def leaky_bwd_fixed_slope(dout, cache):
    x, slope = cache
    return np.where(x > 0, dout, 0.01 * dout)


def leaky_bwd_no_dout(dout, cache):
    x, slope = cache
    return np.where(x > 0, dout, slope)


def sigmoid_bwd_tanh_rule(dout, cache):
    return dout * (1 - cache**2)


def sigmoid_bwd_forgot_out(dout, cache):
    return dout * (1 - cache)


def tanh_bwd_square_outside(dout, cache):
    return dout * (1 - cache) ** 2


def tanh_bwd_precedence(dout, cache):
    return dout * 1 - cache**2


def linear_bwd_dw_order(dout, cache):
    x, W, b = cache
    return dout @ W.T, x @ dout, dout.sum(axis=0)


def linear_bwd_dx_no_t(dout, cache):
    x, W, b = cache
    return dout @ W, x.T @ dout, dout.sum(axis=0)


def linear_bwd_db_mean(dout, cache):
    x, W, b = cache
    return dout @ W.T, x.T @ dout, dout.mean(axis=0)


def linear_bwd_einsum(dout, cache):  # correct
    x, W, b = cache
    return np.einsum("nm,dm->nd", dout, W), np.einsum("nd,nm->dm", x, dout), np.einsum("nm->m", dout)


def mse_grad_no_mean(pred, target, reduction="mean"):
    d = pred - target
    return float(np.mean(d**2)), 2 * d


def mse_grad_per_row(pred, target, reduction="mean"):
    d = pred - target
    return float(np.mean(d**2)), 2 * d / len(pred)


def mse_loss_sum(pred, target, reduction="mean"):
    d = pred - target
    return float(np.sum(d**2)), 2 * d / d.size


def sce_no_mean(logits, y, reduction="mean"):
    p = _softmax(logits)
    N = len(y)
    loss = -np.mean(np.log(p[np.arange(N), y]))
    d = p.copy()
    d[np.arange(N), y] -= 1
    return float(loss), d


def sce_column_index(logits, y, reduction="mean"):
    p = _softmax(logits)
    N = len(y)
    loss = -np.mean(np.log(p[np.arange(N), y]))
    d = p.copy()
    d[:, y] -= 1
    return float(loss), d / N


def sce_minus_one_everywhere(logits, y, reduction="mean"):
    p = _softmax(logits)
    N = len(y)
    loss = -np.mean(np.log(p[np.arange(N), y]))
    return float(loss), (p - 1) / N


def bce_unstable(logits, y, reduction="mean"):
    s = 1 / (1 + np.exp(-logits))
    loss = -np.mean(y * np.log(s) + (1 - y) * np.log(1 - s))
    return float(loss), (s - y) / y.size


def bce_no_mean_grad(logits, y, reduction="mean"):
    loss = np.mean(np.maximum(logits, 0) - logits * y + np.log1p(np.exp(-np.abs(logits))))
    s = 1 / (1 + np.exp(-logits))
    return float(loss), s - y


def bce_stable_other(logits, y, reduction="mean"):  # correct, logaddexp form
    loss = np.mean(np.logaddexp(0, logits) - logits * y)
    s = np.exp(-np.logaddexp(0, -logits))
    return float(loss), (s - y) / y.size


def _two_layer(params, X, y, relu_mask=True):
    W1, b1, W2, b2 = (params[k] for k in ("W1", "b1", "W2", "b2"))
    h = X @ W1 + b1
    a = np.maximum(h, 0)
    s = a @ W2 + b2
    p = _softmax(s)
    N = len(y)
    loss = float(-np.mean(np.log(p[np.arange(N), y])))
    ds = p.copy()
    ds[np.arange(N), y] -= 1
    ds /= N
    dW2, db2 = a.T @ ds, ds.sum(0)
    da = ds @ W2.T
    dh = da * (h > 0) if relu_mask else da
    dW1, db1 = X.T @ dh, dh.sum(0)
    return loss, {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}


def step_no_relu_mask(params, X, y, lr):
    loss, g = _two_layer(params, X, y, relu_mask=False)
    return loss, g, {k: params[k] - lr * g[k] for k in params}


def step_in_place(params, X, y, lr):
    loss, g = _two_layer(params, X, y)
    for k in params:
        params[k] -= lr * g[k]
    return loss, g, params


def step_ascent(params, X, y, lr):
    loss, g = _two_layer(params, X, y)
    return loss, g, {k: params[k] + lr * g[k] for k in params}


BUGS = [
    ("layers.relu_backward", relu_bwd_mutates, ("in place",), {}),
    ("layers.relu_backward", relu_bwd_times_output, (), {}),
    ("layers.leaky_relu_backward", leaky_bwd_fixed_slope, ("< 0",), {}),
    ("layers.leaky_relu_backward", leaky_bwd_no_dout, ("< 0",), {}),
    ("layers.sigmoid_backward", sigmoid_bwd_tanh_rule, (), {}),
    ("layers.sigmoid_backward", sigmoid_bwd_forgot_out, (), {}),
    ("layers.tanh_backward", tanh_bwd_square_outside, (), {}),
    ("layers.tanh_backward", tanh_bwd_precedence, (), {}),
    ("layers.linear_backward", linear_bwd_dw_order, ("x", "dout"), {}),
    ("layers.linear_backward", linear_bwd_dx_no_t, ("W",), {}),
    ("layers.linear_backward", linear_bwd_db_mean, ("N",), {}),
    ("losses.mse_loss", mse_grad_no_mean, ("divide",), {}),
    ("losses.mse_loss", mse_grad_per_row, (), {}),
    ("losses.mse_loss", mse_loss_sum, ("mean",), {}),
    ("losses.softmax_cross_entropy", sce_no_mean, ("N",), {}),
    ("losses.softmax_cross_entropy", sce_column_index, ("label",), {}),
    ("losses.softmax_cross_entropy", sce_minus_one_everywhere, ("label",), {}),
    ("losses.binary_cross_entropy_with_logits", bce_unstable, ("log",), {}),
    ("losses.binary_cross_entropy_with_logits", bce_no_mean_grad, ("N",), {}),
    ("network.two_layer_step", step_no_relu_mask, (), {}),
    ("network.two_layer_step", step_in_place, ("in place",), {}),
    ("network.two_layer_step", step_ascent, ("sign",), {}),
]

CORRECT = [
    ("layers.relu_backward", relu_bwd_mask, {}),
    ("layers.linear_backward", linear_bwd_einsum, {}),
    ("losses.binary_cross_entropy_with_logits", bce_stable_other, {}),
]
