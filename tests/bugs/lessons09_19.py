"""Lessons 09-19: a third suite, written for issue 26 before its author looked at what the grader
says about any of them, and kept out of the registered variants.

Each bug is one realistic slip: a knob of the reference turned (a cache entry, an order, a
polarity, a hyper-parameter, an axis) or a NumPy call made wrongly. ``words`` are what a right
diagnosis must mention (empty: any specific name will do).
"""

import math

import numpy as np


def _sm(s):
    s = s - s.max(axis=-1, keepdims=True)
    e = np.exp(s)
    return e / e.sum(axis=-1, keepdims=True)


# ---- lesson 09 --------------------------------------------------------------------------------


def kaiming_mean_fan(fan_in, fan_out, gain=2**0.5, mode="fan_in"):
    return gain / math.sqrt((fan_in + fan_out) / 2)


def prelu_bwd_mask_reversed(dout, cache):
    x, alpha = cache
    dx = np.where(x > 0, alpha * dout, dout)
    dalpha = np.where(x <= 0, dout * x, 0).sum(axis=0)
    if alpha.shape[0] == 1:
        dalpha = dalpha.sum(keepdims=True)
    return dx, dalpha


def prelu_bwd_dalpha_positive_side(dout, cache):
    x, alpha = cache
    dx = np.where(x > 0, dout, alpha * dout)
    dalpha = np.where(x > 0, dout * x, 0).sum(axis=0)
    if alpha.shape[0] == 1:
        dalpha = dalpha.sum(keepdims=True)
    return dx, dalpha


def residual_bwd_mask_from_a_of_da(dout, cache):
    x, W1, b1, z, a, W2, b2 = cache
    da = dout @ W2.T
    dz = da * (da > 0)  # the ReLU mask read from the gradient, not from z
    return dout + dz @ W1.T, x.T @ dz, dz.sum(0), a.T @ dout, dout.sum(0)


def residual_bwd_dW2_from_z(dout, cache):
    x, W1, b1, z, a, W2, b2 = cache  # the pre-activation where the activation belongs
    da = dout @ W2.T
    dz = da * (z > 0)
    return dout + dz @ W1.T, x.T @ dz, dz.sum(0), z.T @ dout, dout.sum(0)


# ---- lesson 10 --------------------------------------------------------------------------------


def batchnorm_bwd_no_gamma(dout, cache):
    x_hat, gamma, inv_std, mode = cache
    N = x_hat.shape[0]
    dbeta, dgamma = dout.sum(0), (dout * x_hat).sum(0)
    dx_hat = dout  # gamma forgotten
    if mode == "train":
        dx = inv_std / N * (N * dx_hat - dx_hat.sum(0) - x_hat * (dx_hat * x_hat).sum(0))
    else:
        dx = dx_hat * inv_std
    return dx, dgamma, dbeta


def layernorm_fwd_no_beta(x, gamma, beta, eps=1e-5):
    mu = x.mean(axis=1, keepdims=True)
    var = x.var(axis=1, keepdims=True)
    inv = 1 / np.sqrt(var + eps)
    x_hat = (x - mu) * inv
    return gamma * x_hat, (x_hat, gamma, inv)


def layernorm_bwd_half_factor(dout, cache):
    x_hat, gamma, inv_std = cache
    D = x_hat.shape[1]
    dx_hat = dout * gamma
    dx = inv_std / D * (D * dx_hat - dx_hat.sum(1, keepdims=True)
                        - 0.5 * x_hat * (dx_hat * x_hat).sum(1, keepdims=True))
    return dx, (dout * x_hat).sum(0), dout.sum(0)


def running_stats_std(running_mean, running_var, x, momentum=0.1):
    m = x.mean(0)
    return (1 - momentum) * running_mean + momentum * m, (1 - momentum) * running_var + momentum * x.std(0, ddof=1)


# ---- lesson 11 --------------------------------------------------------------------------------


def dropout_scaled_by_p(x, p, train=True, rng=None):
    if not train or p == 0:
        return x, None
    gen = np.random.default_rng(rng)
    keep = gen.random(x.shape) >= p
    mask = keep / p
    return x * mask, mask


def l1_grad_nan_at_zero(params, lam, names=None):
    names = list(params) if names is None else names
    loss, grads = 0.0, {}
    for k, w in params.items():
        if k in names:
            loss += lam * np.abs(w).sum()
            with np.errstate(invalid="ignore", divide="ignore"):
                grads[k] = lam * w / np.abs(w)
        else:
            grads[k] = np.zeros_like(w)
    return loss, grads


def l2_lam_ignored(params, lam, names=None):
    names = list(params) if names is None else names
    loss, grads = 0.0, {}
    for k, w in params.items():
        if k in names:
            loss += 0.5 * float((w * w).sum())
            grads[k] = w.copy()
        else:
            grads[k] = np.zeros_like(w)
    return loss, grads


def standardize_by_variance(X_train, X_val, X_test):
    mu, var = X_train.mean(0), X_train.var(0)
    var = np.where(var == 0, 1.0, var)
    return (X_train - mu) / var, (X_val - mu) / var, (X_test - mu) / var


# ---- lesson 12 --------------------------------------------------------------------------------


def clip_returns_norm_after(grads, max_norm):
    total = math.sqrt(sum(float((g * g).sum()) for g in grads.values()))
    scale = max_norm / (total + 1e-6) if total > max_norm else 1.0
    clipped = {k: np.array(g, dtype=float) * scale for k, g in grads.items()}
    after = math.sqrt(sum(float((g * g).sum()) for g in clipped.values()))
    return clipped, after


def accumulated_overwrites(w, micro_batches, lr):
    total, rows = np.zeros_like(w, dtype=float), 0
    for X, y in micro_batches:
        g = X.T @ (X @ w - y) / X.shape[0]
        total = X.shape[0] * g  # = where += belongs
        rows += X.shape[0]
    return w - lr * total / rows


# ---- lesson 14 --------------------------------------------------------------------------------


def fp16_overflow_at_max(x):
    x = np.asarray(x, dtype=np.float64)
    back = x.astype(np.float16).astype(np.float64)
    finite = np.isfinite(x)
    overflow = np.int64(np.sum(finite & (np.abs(x) > 65504.0)))  # the largest finite value, not the rounding threshold
    underflow = np.int64(np.sum((x != 0) & (back == 0)))
    subnormal = np.int64(np.sum((back != 0) & (np.abs(back) < 2.0**-14)))
    ok = (x != 0) & (back != 0) & np.isfinite(back) & finite
    rel = float(np.max(np.abs(back[ok] - x[ok]) / np.abs(x[ok]))) if ok.any() else 0.0
    return {"back": back, "overflow": overflow, "underflow": underflow, "subnormal": subnormal, "max_rel_error": rel}


def intensity_without_bias_bytes(N, D, M, itemsize=4, bias=True):
    flops = 2 * N * D * M + (N * M if bias else 0)
    nbytes = itemsize * (N * D + D * M + N * M)
    return np.int64(flops), np.int64(nbytes), flops / nbytes


# ---- lesson 15 --------------------------------------------------------------------------------


def newton_half_step(w, grad, hessian):
    return w - 0.5 * np.linalg.solve(hessian, grad)


def two_loop_gamma_inverted(g, S, Y):
    m = S.shape[0]
    if m == 0:
        return g.copy()
    rho = 1.0 / np.einsum("ij,ij->i", Y, S)
    q, a = g.copy(), np.zeros(m)
    for i in reversed(range(m)):
        a[i] = rho[i] * (S[i] @ q)
        q -= a[i] * Y[i]
    r = (Y[-1] @ Y[-1]) / (S[-1] @ Y[-1]) * q
    for i in range(m):
        b = rho[i] * (Y[i] @ r)
        r += (a[i] - b) * S[i]
    return r


def armijo_no_t_in_rhs(f, w, g, p, t0=1.0, c=1e-4, beta=0.5, max_steps=50):
    slope = float(g @ p)
    f0, t = float(f(w)), float(t0)
    for _ in range(max_steps):
        if float(f(w + t * p)) <= f0 + c * slope:
            break
        t *= beta
    return t


def hvp_divides_by_eps(grad, w, v, eps=1e-5):
    return (np.asarray(grad(w + eps * v)) - np.asarray(grad(w - eps * v))) / eps


# ---- lesson 16 --------------------------------------------------------------------------------


def conv_fwd_pads_every_axis(x, w, b, stride=1, pad=0):
    xp = np.pad(x, pad)  # pads N and C too
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    Ho, Wo = 1 + (H + 2 * pad - HH) // stride, 1 + (W + 2 * pad - WW) // stride
    out = np.zeros((N, F, Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            win = xp[:, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
            out[:, :, i, j] = np.tensordot(win, w, axes=([1, 2, 3], [1, 2, 3])) + b
    return out, (x, w, b, stride, pad)


def conv_fwd_stride_rows_only(x, w, b, stride=1, pad=0):
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    Ho, Wo = 1 + (H + 2 * pad - HH) // stride, 1 + (W + 2 * pad - WW) // stride
    out = np.zeros((N, F, Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            win = xp[:, :, i * stride:i * stride + HH, j:j + WW]  # columns step by 1
            out[:, :, i, j] = np.tensordot(win, w, axes=([1, 2, 3], [1, 2, 3])) + b
    return out, (x, w, b, stride, pad)


def conv_bwd_dw_from_unpadded(dout, cache):
    x, w, b, stride, pad = cache
    F, C, HH, WW = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    xs = np.pad(x, ((0, 0), (0, 0), (0, 2 * pad), (0, 2 * pad)))  # no offset: the windows are shifted
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            r, c = slice(i * stride, i * stride + HH), slice(j * stride, j * stride + WW)
            d = dout[:, :, i, j]
            dxp[:, :, r, c] += np.tensordot(d, w, axes=([1], [0]))
            dw += np.tensordot(d, xs[:, :, r, c], axes=([0], [0]))
    return dxp[:, :, pad:pad + x.shape[2], pad:pad + x.shape[3]], dw, dout.sum(axis=(0, 2, 3))


def maxpool_bwd_index_transposed(dout, cache):
    x, size, stride = cache
    N, C, H, W = x.shape
    Ho, Wo = dout.shape[2:]
    dx = np.zeros_like(x)
    for i in range(Ho):
        for j in range(Wo):
            win = x[:, :, i * stride:i * stride + size, j * stride:j * stride + size].reshape(N, C, -1)
            idx = win.argmax(axis=-1)
            di, dj = idx % size, idx // size  # row and column swapped
            for n in range(N):
                for c in range(C):
                    dx[n, c, i * stride + di[n, c], j * stride + dj[n, c]] += dout[n, c, i, j]
    return dx


def rnn_step_bwd_no_square(dnext_h, cache):
    x, prev_h, Wx, Wh, next_h = cache
    da = dnext_h * (1 - next_h)
    return da @ Wx.T, da @ Wh.T, x.T @ da, prev_h.T @ da, da.sum(0)


def rnn_step_bwd_db_mean(dnext_h, cache):
    x, prev_h, Wx, Wh, next_h = cache
    da = dnext_h * (1 - next_h**2)
    return da @ Wx.T, da @ Wh.T, x.T @ da, prev_h.T @ da, da.mean(0)


def bptt_skips_first_step(dh, cache):
    x0, h0, Wx, Wh, _ = cache[0]
    N, T, D, H = x0.shape[0], len(cache), x0.shape[1], h0.shape[1]
    dx, dWx, dWh, db = np.zeros((N, T, D)), np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(H)
    dprev = np.zeros((N, H))
    for t in reversed(range(1, T)):  # off by one: step 0 never visited
        x, prev_h, Wx_, Wh_, next_h = cache[t]
        da = (dh[:, t] + dprev) * (1 - next_h**2)
        dx[:, t], dprev = da @ Wx.T, da @ Wh.T
        dWx += x.T @ da
        dWh += prev_h.T @ da
        db += da.sum(0)
    return dx, dprev, dWx, dWh, db


# ---- lesson 17 --------------------------------------------------------------------------------


def attention_mask_reversed(q, k, v, mask=None):
    s = q @ np.swapaxes(k, -1, -2) / math.sqrt(q.shape[-1])
    if mask is not None:
        s = np.where(mask, -1e9, s)  # True read as "hide"
    P = _sm(s)
    return P @ v, (q, k, v, P)


def attention_scaled_by_keys(q, k, v, mask=None):
    s = q @ np.swapaxes(k, -1, -2) / math.sqrt(k.shape[-2])  # sqrt(Tk), not sqrt(d)
    if mask is not None:
        s = np.where(mask, s, -np.inf)
    P = _sm(s)
    return P @ v, (q, k, v, P)


def attention_bwd_dv_untransposed(dout, cache):
    q, k, v, P = cache
    scale = 1 / math.sqrt(q.shape[-1])
    dv = np.swapaxes(P, -1, -2) @ dout
    dP = dout @ np.swapaxes(v, -1, -2)
    dS = P * (dP - (dP * P).sum(-1, keepdims=True))
    return dS @ k * scale, dS.swapaxes(-1, -2) @ q, dv  # dk without the scale


# ---- lesson 18 --------------------------------------------------------------------------------


def magnitude_mask_quantile(w, sparsity):
    a = np.abs(w)
    return a > np.quantile(a, sparsity)


def qparams_levels_plus_one(x_min, x_max, qmin=0, qmax=255):
    lo, hi = min(float(x_min), 0.0), max(float(x_max), 0.0)
    scale = max((hi - lo) / (qmax - qmin + 1), 1.1920928955078125e-07)
    zp = int(np.clip(qmin - np.round(lo / scale), qmin, qmax))
    return scale, zp


def quantize_clamp_before_zero_point(x, scale, zero_point, qmin=0, qmax=255):
    return (np.clip(np.round(x / scale), qmin, qmax) + zero_point).astype(np.int64)


def fake_quant_bwd_inverted(dout, cache):
    x, scale, zero_point, qmin, qmax = cache
    q = np.round(x / scale) + zero_point
    return dout * ~((q >= qmin) & (q <= qmax))


# ---- correct, written differently ---------------------------------------------------------------


def newton_via_inverse(w, grad, hessian):
    return w - np.linalg.inv(hessian) @ grad


def layernorm_bwd_explicit(dout, cache):
    x_hat, gamma, inv_std = cache
    D = x_hat.shape[1]
    g = dout * gamma
    dx = inv_std * (g - g.mean(1, keepdims=True) - x_hat * (g * x_hat).mean(1, keepdims=True))
    return dx, np.einsum("nd,nd->d", dout, x_hat), dout.sum(0) * (D / D)


def attention_bwd_einsum(dout, cache):
    q, k, v, P = cache
    scale = 1 / math.sqrt(q.shape[-1])
    dv = np.einsum("...qk,...qd->...kd", P, dout)
    dP = np.einsum("...qd,...kd->...qk", dout, v)
    dS = P * (dP - np.einsum("...qk,...qk->...q", dP, P)[..., None])
    return np.einsum("...qk,...kd->...qd", dS, k) * scale, np.einsum("...qk,...qd->...kd", dS, q) * scale, dv


def relu_mask_residual(dout, cache):
    x, W1, b1, z, a, W2, b2 = cache
    dW2 = np.einsum("nh,nd->hd", a, dout)
    dz = (dout @ W2.T) * (z > 0)
    return dout + dz @ W1.T, x.T @ dz, dz.sum(0), dW2, dout.sum(0)


def quantize_with_rint(x, scale, zero_point, qmin=0, qmax=255):
    return np.minimum(np.maximum(np.rint(np.asarray(x) / scale) + zero_point, qmin), qmax).astype(np.int64)


BUGS = [
    ("init.kaiming_std", kaiming_mean_fan, ("fan",), {}),
    ("init.prelu_backward", prelu_bwd_mask_reversed, (), {}),
    ("init.prelu_backward", prelu_bwd_dalpha_positive_side, (), {}),
    ("init.residual_backward", residual_bwd_mask_from_a_of_da, ("mask",), {}),
    ("init.residual_backward", residual_bwd_dW2_from_z, (), {}),
    ("normalization.batchnorm_backward", batchnorm_bwd_no_gamma, ("gamma",), {}),
    ("normalization.layernorm_forward", layernorm_fwd_no_beta, ("beta",), {}),
    ("normalization.layernorm_backward", layernorm_bwd_half_factor, (), {}),
    ("normalization.running_stats", running_stats_std, (), {}),
    ("regularization.dropout_forward", dropout_scaled_by_p, ("1 - p",), {}),
    ("regularization.l1_penalty", l1_grad_nan_at_zero, ("0",), {}),
    ("regularization.l2_penalty", l2_lam_ignored, ("lam",), {}),
    ("regularization.standardize_splits", standardize_by_variance, (), {}),
    ("data_scale.clip_global_norm", clip_returns_norm_after, (), {}),
    ("data_scale.accumulated_step", accumulated_overwrites, (), {}),
    ("precision.fp16_round_trip", fp16_overflow_at_max, ("overflow",), {}),
    ("hardware.linear_intensity", intensity_without_bias_bytes, (), {}),
    ("second_order.newton_step", newton_half_step, (), {}),
    ("second_order.two_loop", two_loop_gamma_inverted, (), {}),
    ("second_order.armijo", armijo_no_t_in_rhs, (), {}),
    ("second_order.hessian_vector_product", hvp_divides_by_eps, ("2",), {}),
    ("conv.conv2d_forward", conv_fwd_pads_every_axis, ("pad",), {}),
    ("conv.conv2d_forward", conv_fwd_stride_rows_only, ("stride",), {}),
    ("conv.conv2d_backward", conv_bwd_dw_from_unpadded, (), {}),
    ("conv.max_pool_backward", maxpool_bwd_index_transposed, (), {}),
    ("rnn.step_backward", rnn_step_bwd_no_square, (), {}),
    ("rnn.step_backward", rnn_step_bwd_db_mean, ("N",), {}),
    ("rnn.bptt", bptt_skips_first_step, (), {}),
    ("attention.forward", attention_mask_reversed, ("mask",), {}),
    ("attention.forward", attention_scaled_by_keys, (), {}),
    ("attention.backward", attention_bwd_dv_untransposed, ("scale",), {}),
    ("pruning.magnitude_mask", magnitude_mask_quantile, (), {}),
    ("quantization.qparams", qparams_levels_plus_one, (), {}),
    ("quantization.quantize", quantize_clamp_before_zero_point, (), {}),
    ("quantization.fake_quant_backward", fake_quant_bwd_inverted, (), {}),
]

CORRECT = [
    ("second_order.newton_step", newton_via_inverse, {}),
    ("normalization.layernorm_backward", layernorm_bwd_explicit, {}),
    ("attention.backward", attention_bwd_einsum, {}),
    ("init.residual_backward", relu_mask_residual, {}),
    ("quantization.quantize", quantize_with_rint, {}),
]
