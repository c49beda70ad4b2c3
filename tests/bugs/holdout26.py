"""Holdout set 26: realistic learner slips over lessons 00-18, written from the references only."""

import math

import numpy as np

# ----------------------------------------------------------------------------- lesson 00

def add_bias_in_place(X, b):
    X += b
    return X


def standardize_row_axis(X, eps=1e-8):
    mean = X.mean(axis=1, keepdims=True)
    var = ((X - mean) ** 2).mean(axis=1, keepdims=True)
    return (X - mean) / np.sqrt(var + eps)


def pairwise_no_two(A, B):
    sq_A = np.sum(A * A, axis=1)[:, None]
    sq_B = np.sum(B * B, axis=1)[None, :]
    return sq_A - A @ B.T + sq_B


def pairwise_broadcast(A, B):  # correct
    diff = A[:, None, :] - B[None, :, :]
    return np.einsum("nmd,nmd->nm", diff, diff)


# ----------------------------------------------------------------------------- lesson 01


def softmax_global_sum(x, axis=-1):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e)


def softmax_logsumexp(x, axis=-1):  # correct
    m = np.max(x, axis=axis, keepdims=True)
    lse = m + np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))
    return np.exp(x - lse)


def log_softmax_lost_shift(x, axis=-1):
    z = x - np.max(x, axis=axis, keepdims=True)
    return x - np.log(np.sum(np.exp(z), axis=axis, keepdims=True))


# ----------------------------------------------------------------------------- lesson 04

def numgrad_no_restore(f, x, h=1e-5):
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + h
        f_plus = f(x)
        x[idx] = old - h
        f_minus = f(x)
        grad[idx] = (f_plus - f_minus) / (2 * h)
    return grad


# ----------------------------------------------------------------------------- lesson 06

def ema_start_at_first(x, beta, bias_correction=False):
    out = np.empty(len(x))
    v = x[0]
    for t in range(1, len(x) + 1):
        v = beta * v + (1 - beta) * x[t - 1]
        out[t - 1] = v / (1 - beta**t) if bias_correction else v
    return out


# ----------------------------------------------------------------------------- lesson 08

def _items(grads):
    return list(grads.values()) if isinstance(grads, dict) else list(grads)


def clip_norm_per_array(grads, max_norm, norm_type=2.0, error_if_nonfinite=True):
    p = float(norm_type)
    arrays = _items(grads)
    if math.isinf(p):
        total = max(float(np.max(np.abs(g))) for g in arrays)
    else:
        total = sum(float(np.sum(np.abs(g) ** p)) for g in arrays) ** (1 / p)
    if not math.isfinite(total) and error_if_nonfinite:
        raise ValueError("clip_grad_norm: non-finite norm")
    for g in arrays:
        n = float(np.max(np.abs(g))) if math.isinf(p) else float(np.sum(np.abs(g) ** p)) ** (1 / p)
        coef = max_norm / (n + 1e-6)
        if coef < 1:
            g *= coef
    return total


# ----------------------------------------------------------------------------- lesson 09

def kaiming_ignores_mode(fan_in, fan_out, gain=2**0.5, mode="fan_in"):
    return float(gain) / math.sqrt(fan_in)


def prelu_bwd_unmasked_dalpha(dout, cache):
    x, alpha = cache
    neg = x <= 0
    dx = np.where(neg, alpha * dout, dout)
    dalpha = np.sum(dout * x, axis=0)
    if alpha.shape[0] == 1:
        dalpha = np.sum(dalpha).reshape(1)
    return dx, dalpha


def residual_bwd_no_skip(dout, cache):
    x, W1, b1, z, a, W2, b2 = cache
    dW2, db2 = a.T @ dout, dout.sum(axis=0)
    da = dout @ W2.T
    dz = da * (z > 0)
    dW1, db1 = x.T @ dz, dz.sum(axis=0)
    return dz @ W1.T, dW1, db1, dW2, db2


def grad_norms_alphabetical(grads):
    keys = sorted(k for k in grads if str(k).startswith("W") and str(k)[1:].isdigit())
    return np.array([math.sqrt(float(np.sum(grads[k] ** 2))) for k in keys])


# ----------------------------------------------------------------------------- lesson 10

def running_stats_biased(running_mean, running_var, x, momentum=0.1):
    mean = x.mean(axis=0)
    var = x.var(axis=0)
    return ((1 - momentum) * running_mean + momentum * mean,
            (1 - momentum) * running_var + momentum * var)


def running_stats_momentum_swapped(running_mean, running_var, x, momentum=0.1):
    mean = x.mean(axis=0)
    var = x.var(axis=0, ddof=1)
    return (momentum * running_mean + (1 - momentum) * mean,
            momentum * running_var + (1 - momentum) * var)


def bn_bwd_always_train(dout, cache):
    x_hat, gamma, inv_std, mode = cache
    N = x_hat.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    dx_hat = dout * gamma
    dx = (inv_std / N) * (N * dx_hat - dx_hat.sum(axis=0) - x_hat * (dx_hat * x_hat).sum(axis=0))
    return dx, dgamma, dbeta


def ln_bwd_batch_count(dout, cache):
    x_hat, gamma, inv_std = cache
    n = x_hat.shape[0]
    dx_hat = dout * gamma
    dx = (inv_std / n) * (n * dx_hat - dx_hat.sum(axis=1, keepdims=True)
                          - x_hat * (dx_hat * x_hat).sum(axis=1, keepdims=True))
    return dx, (dout * x_hat).sum(axis=0), dout.sum(axis=0)


def ln_bwd_long_form(dout, cache):  # correct: the chain rule through mean and var, step by step
    x_hat, gamma, inv_std = cache
    D = x_hat.shape[1]
    xc = x_hat / inv_std
    dx_hat = dout * gamma
    dvar = np.sum(dx_hat * xc, axis=1, keepdims=True) * -0.5 * inv_std**3
    dmean = -np.sum(dx_hat * inv_std, axis=1, keepdims=True) - 2.0 * dvar * np.mean(xc, axis=1, keepdims=True)
    dx = dx_hat * inv_std + dvar * 2.0 * xc / D + dmean / D
    return dx, np.einsum("nd,nd->d", dout, x_hat), dout.sum(axis=0)


# ----------------------------------------------------------------------------- lesson 11


def l1_ignores_names(params, lam, names=None):
    loss, grads = 0.0, {}
    for k, w in params.items():
        loss += lam * float(np.sum(np.abs(w)))
        grads[k] = lam * np.sign(w)
    return loss, grads


def l1_where(params, lam, names=None):  # correct
    names = list(params) if names is None else ([names] if isinstance(names, str) else list(names))
    loss, grads = 0.0, {}
    for k, w in params.items():
        w = np.asarray(w, dtype=np.float64)
        if k in names:
            loss += lam * float(np.abs(w).sum())
            grads[k] = lam * np.where(w > 0, 1.0, np.where(w < 0, -1.0, 0.0))
        else:
            grads[k] = np.zeros_like(w)
    return loss, grads


def _gen(rng):
    if isinstance(rng, np.random.Generator):
        return rng
    return np.random.default_rng(rng)


def dropout_fwd_keep_prob(x, p, train=True, rng=None):
    if not train or p == 0:
        return x, None
    keep = _gen(rng).random(x.shape) < p
    mask = keep.astype(x.dtype) / p
    return x * mask, mask


def dropout_bwd_boolean_mask(dout, cache):
    if cache is None:
        return dout
    return dout * (cache > 0)


def standardize_splits_leak(X_train, X_val, X_test):
    X_all = np.concatenate([X_train, X_val, X_test])
    mean, std = X_all.mean(axis=0), X_all.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    return (X_train - mean) / std, (X_val - mean) / std, (X_test - mean) / std


# ----------------------------------------------------------------------------- lesson 12

def clip_global_returns_after(grads, max_norm):
    clipped = {k: np.array(v, dtype=np.float64, copy=True) for k, v in grads.items()}
    total = math.sqrt(sum(float(np.sum(g * g)) for g in clipped.values()))
    if total > max_norm:
        for g in clipped.values():
            g *= max_norm / (total + 1e-6)
        total = math.sqrt(sum(float(np.sum(g * g)) for g in clipped.values()))
    return clipped, total


def accumulated_unweighted(w, micro_batches, lr):
    gs = [X.T @ (X @ w - y) / X.shape[0] for X, y in micro_batches]
    return w - lr * sum(gs) / len(gs)


# ----------------------------------------------------------------------------- lesson 13

def naive_allreduce_sent_k(worker_arrays):
    K, n = len(worker_arrays), worker_arrays[0].size
    total = sum(np.array(a, dtype=np.float64) for a in worker_arrays)
    return [total.copy() for _ in range(K)], np.array([K * n] + [n] * (K - 1))


def two_stage_no_relu_mask(dout, X, W1, W2):
    a = np.maximum(X @ W1, 0.0)
    da = dout @ W2.T
    return X.T @ da, a.T @ dout


# ----------------------------------------------------------------------------- lesson 14

def intensity_no_output(N, D, M, itemsize=4, bias=True):
    flops = 2 * N * D * M + (N * M if bias else 0)
    nbytes = itemsize * (N * D + D * M + (M if bias else 0))
    return flops, nbytes, flops / nbytes


def fp16_eps_threshold(x):
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(over="ignore"):
        back = x.astype(np.float16).astype(np.float64)
    ok = (x != 0) & (back != 0) & np.isfinite(back) & np.isfinite(x)
    rel = np.abs(back[ok] - x[ok]) / np.abs(x[ok])
    return {
        "back": back,
        "overflow": int(np.sum(np.isfinite(x) & np.isinf(back))),
        "underflow": int(np.sum((x != 0) & (back == 0))),
        "subnormal": int(np.sum((back != 0) & (np.abs(back) < float(np.finfo(np.float16).eps)))),
        "max_rel_error": float(rel.max()) if rel.size else 0.0,
    }


# ----------------------------------------------------------------------------- lesson 15

def newton_plus(w, grad, hessian):
    return w + np.linalg.solve(hessian, grad)


def two_loop_oldest_gamma(g, S, Y):
    m = S.shape[0]
    if m == 0:
        return g.copy()
    rho = 1.0 / np.sum(Y * S, axis=1)
    q, a = g.copy(), np.zeros(m)
    for i in reversed(range(m)):
        a[i] = rho[i] * (S[i] @ q)
        q -= a[i] * Y[i]
    r = (S[0] @ Y[0]) / (Y[0] @ Y[0]) * q
    for i in range(m):
        r += (a[i] - rho[i] * (Y[i] @ r)) * S[i]
    return r


# ----------------------------------------------------------------------------- lesson 16

def _out_size(size, k, stride, pad):
    return 1 + (size + 2 * pad - k) // stride


def conv_fwd_ignores_stride(x, w, b, stride=1, pad=0):
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    Ho, Wo = _out_size(H, HH, stride, pad), _out_size(W, WW, stride, pad)
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.zeros((N, F, Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            win = xp[:, :, i:i + HH, j:j + WW]
            out[:, :, i, j] = np.tensordot(win, w, axes=([1, 2, 3], [1, 2, 3])) + b
    return out, (x, w, b, stride, pad)


def conv_fwd_pad_all_axes(x, w, b, stride=1, pad=0):
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    Ho, Wo = _out_size(H, HH, stride, pad), _out_size(W, WW, stride, pad)
    xp = np.pad(x, pad)
    out = np.zeros((N, F, Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            win = xp[:N, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
            out[:, :, i, j] = np.tensordot(win, w, axes=([1, 2, 3], [1, 2, 3])) + b
    return out, (x, w, b, stride, pad)


def conv_fwd_einsum(x, w, b, stride=1, pad=0):  # correct
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    Ho, Wo = _out_size(H, HH, stride, pad), _out_size(W, WW, stride, pad)
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.empty((N, F, Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            win = xp[:, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
            out[:, :, i, j] = np.einsum("nchw,fchw->nf", win, w) + b
    return out, (x, w, b, stride, pad)


def maxpool_bwd_swapped_index(dout, cache):
    x, size, stride = cache
    N, C, Ho, Wo = dout.shape
    dx = np.zeros_like(x)
    for i in range(Ho):
        for j in range(Wo):
            win = x[:, :, i * stride:i * stride + size, j * stride:j * stride + size].reshape(N, C, -1)
            idx = win.argmax(axis=-1)
            di, dj = idx % size, idx // size
            for n in range(N):
                for c in range(C):
                    dx[n, c, i * stride + di[n, c], j * stride + dj[n, c]] += dout[n, c, i, j]
    return dx


def rnn_step_bwd_prev_h_tanh(dnext_h, cache):
    x, prev_h, Wx, Wh, next_h = cache
    da = dnext_h * (1.0 - prev_h ** 2)
    return da @ Wx.T, da @ Wh.T, x.T @ da, prev_h.T @ da, da.sum(axis=0)


def _step_bwd(dnext, c):
    x, prev_h, Wx, Wh, next_h = c
    da = dnext * (1.0 - next_h * next_h)
    return da @ Wx.T, da @ Wh.T, x.T @ da, prev_h.T @ da, da.sum(axis=0)


def bptt_drops_carry(dh, cache):
    x0, h0, Wx, Wh, _ = cache[0]
    N, T, D, H = x0.shape[0], len(cache), x0.shape[1], h0.shape[1]
    dx, dWx, dWh, db = np.zeros((N, T, D)), np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(H)
    dprev = np.zeros((N, H))
    for t in reversed(range(T)):
        dx[:, t], dprev, a, bb, c = _step_bwd(dh[:, t], cache[t])
        dWx += a
        dWh += bb
        db += c
    return dx, dprev, dWx, dWh, db


def bptt_forward_in_time(dh, cache):
    x0, h0, Wx, Wh, _ = cache[0]
    N, T, D, H = x0.shape[0], len(cache), x0.shape[1], h0.shape[1]
    dx, dWx, dWh, db = np.zeros((N, T, D)), np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(H)
    dprev = np.zeros((N, H))
    for t in range(T):
        dx[:, t], dprev, a, bb, c = _step_bwd(dh[:, t] + dprev, cache[t])
        dWx += a
        dWh += bb
        db += c
    return dx, dprev, dWx, dWh, db


def bptt_inline(dh, cache):  # correct: the step written out, accumulating with einsum
    T = len(cache)
    x0, h0, Wx, Wh, _ = cache[0]
    dx = np.zeros((x0.shape[0], T, x0.shape[1]))
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(Wh.shape[0])
    carry = np.zeros_like(h0)
    for t in range(T - 1, -1, -1):
        x, prev_h, _, _, next_h = cache[t]
        da = (dh[:, t] + carry) * (1.0 - next_h ** 2)
        dx[:, t] = np.einsum("nh,dh->nd", da, Wx)
        carry = np.einsum("nh,gh->ng", da, Wh)
        dWx += np.einsum("nd,nh->dh", x, da)
        dWh += np.einsum("ng,nh->gh", prev_h, da)
        db += da.sum(axis=0)
    return dx, carry, dWx, dWh, db


# ----------------------------------------------------------------------------- lesson 17

def _softmax_last(s):
    s = s - s.max(axis=-1, keepdims=True)
    e = np.exp(s)
    return e / e.sum(axis=-1, keepdims=True)


def attn_fwd_no_scale(q, k, v, mask=None):
    s = q @ np.swapaxes(k, -1, -2)
    if mask is not None:
        s = np.where(mask, s, -np.inf)
    P = _softmax_last(s)
    return P @ v, (q, k, v, P)


def attn_fwd_mask_inverted(q, k, v, mask=None):
    s = q @ np.swapaxes(k, -1, -2) / math.sqrt(q.shape[-1])
    if mask is not None:
        s = np.where(mask, -1e9, s)
    P = _softmax_last(s)
    return P @ v, (q, k, v, P)


def attn_bwd_no_softmax_jacobian(dout, cache):
    q, k, v, P = cache
    scale = 1.0 / math.sqrt(q.shape[-1])
    dv = np.swapaxes(P, -1, -2) @ dout
    dS = P * (dout @ np.swapaxes(v, -1, -2))
    return dS @ k * scale, np.swapaxes(dS, -1, -2) @ q * scale, dv


def attn_bwd_einsum(dout, cache):  # correct
    q, k, v, P = cache
    scale = 1.0 / math.sqrt(q.shape[-1])
    dv = np.einsum("...qk,...qe->...ke", P, dout)
    dP = np.einsum("...qe,...ke->...qk", dout, v)
    row = np.einsum("...qk,...qk->...q", dP, P)[..., None]
    dS = P * (dP - row)
    return (np.einsum("...qk,...kd->...qd", dS, k) * scale,
            np.einsum("...qk,...qd->...kd", dS, q) * scale, dv)


def merge_heads_no_transpose(x):
    N, h, T, d = x.shape
    return x.reshape(N, T, h * d)


def _ln_bwd(dout, cache):
    x_hat, gamma, inv_std = cache
    D = x_hat.shape[1]
    dx_hat = dout * gamma
    dx = (inv_std / D) * (D * dx_hat - dx_hat.sum(axis=1, keepdims=True)
                          - x_hat * (dx_hat * x_hat).sum(axis=1, keepdims=True))
    return dx, (dout * x_hat).sum(axis=0), dout.sum(axis=0)


def _lin_bwd(dout, cache):
    x, W, b = cache
    return dout @ W.T, x.T @ dout, dout.sum(axis=0)


def _drop_bwd(dout, mask):
    return dout if mask is None else dout * mask


def _mha_bwd(dout, cache):
    x, params, h, q, k, v, attn_cache, ctx = cache
    N, T, E = x.shape
    g = {"Wo": ctx.reshape(-1, E).T @ dout.reshape(-1, E), "bo": dout.sum(axis=(0, 1))}
    dctx = dout @ params["Wo"].T
    dheads = dctx.reshape(N, T, h, E // h).transpose(0, 2, 1, 3)
    qq, kk, vv, P = attn_cache
    scale = 1.0 / math.sqrt(qq.shape[-1])
    dv = np.swapaxes(P, -1, -2) @ dheads
    dP = dheads @ np.swapaxes(vv, -1, -2)
    dS = P * (dP - np.sum(dP * P, axis=-1, keepdims=True))
    dq, dk = dS @ kk * scale, np.swapaxes(dS, -1, -2) @ qq * scale
    dx = np.zeros_like(x)
    for n, d in zip("qkv", (dq, dk, dv)):
        d = d.transpose(0, 2, 1, 3).reshape(N, T, E)
        g["W" + n] = x.reshape(-1, E).T @ d.reshape(-1, E)
        g["b" + n] = d.sum(axis=(0, 1))
        dx += d @ params["W" + n].T
    return dx, g


_BLOCK = ("Wq", "bq", "Wk", "bk", "Wv", "bv", "Wo", "bo",
          "W1", "b1", "W2", "b2", "gamma1", "beta1", "gamma2", "beta2")


def block_bwd_missing_ffn_residual(dout, cache):
    N, T, E = cache["shape"]
    g = {}
    dr2, g["gamma2"], g["beta2"] = _ln_bwd(dout.reshape(N * T, E), cache["ln2"])
    df = _drop_bwd(dr2, cache["drop2"])
    dr, g["W2"], g["b2"] = _lin_bwd(df, cache["ff2"])
    dz = dr * (cache["relu"] > 0)
    dh, g["W1"], g["b1"] = _lin_bwd(dz, cache["ff1"])
    dr1, g["gamma1"], g["beta1"] = _ln_bwd(dh, cache["ln1"])
    da = _drop_bwd(dr1.reshape(N, T, E), cache["drop1"])
    dx, ga = _mha_bwd(da, cache["attn"])
    dx = dx + dr1.reshape(N, T, E)
    g.update(ga)
    return dx, {n: g[n] for n in _BLOCK}


# ----------------------------------------------------------------------------- lesson 18

def magnitude_mask_signed(w, sparsity):
    k = int(round(sparsity * w.size))
    mask = np.ones(w.size, dtype=bool)
    mask[np.argsort(np.asarray(w).reshape(-1), kind="stable")[:k]] = False
    return mask.reshape(w.shape)


def qparams_no_zero_widening(x_min, x_max, qmin=0, qmax=255):
    lo, hi = float(x_min), float(x_max)
    scale = max((hi - lo) / (qmax - qmin), float(np.finfo(np.float32).eps))
    zp = int(np.clip(qmin - np.round(lo / scale), qmin, qmax))
    return scale, zp


def quantize_no_clamp(x, scale, zero_point, qmin=0, qmax=255):
    return (np.round(x / scale) + zero_point).astype(np.int64)


def fake_quant_bwd_no_zero_point(dout, cache):
    x, scale, zero_point, qmin, qmax = cache
    q = np.round(x / scale)
    return dout * ((q >= qmin) & (q <= qmax))


BUGS = [
    ("numpy.add_bias", add_bias_in_place, ("in place",), {}),
    ("numpy.standardize", standardize_row_axis, ("axis",), {}),
    ("numpy.pairwise_sq_dists", pairwise_no_two, (), {}),
    ("layers.softmax", softmax_global_sum, ("axis",), {}),
    ("layers.log_softmax", log_softmax_lost_shift, (), {}),
    ("gradcheck.numerical_gradient", numgrad_no_restore, ("restore",), {}),
    ("averages.ema", ema_start_at_first, (), {}),
    ("gradients.clip_grad_norm", clip_norm_per_array, ("global",), {}),
    ("init.kaiming_std", kaiming_ignores_mode, ("mode",), {}),
    ("init.prelu_backward", prelu_bwd_unmasked_dalpha, ("dalpha",), {}),
    ("init.residual_backward", residual_bwd_no_skip, (), {}),
    ("init.layer_grad_norms", grad_norms_alphabetical, ("order",), {}),
    ("normalization.running_stats", running_stats_biased, ("unbiased",), {}),
    ("normalization.running_stats", running_stats_momentum_swapped, ("momentum",), {}),
    ("normalization.batchnorm_backward", bn_bwd_always_train, ("eval",), {}),
    ("normalization.layernorm_backward", ln_bwd_batch_count, (), {}),
    ("regularization.l1_penalty", l1_ignores_names, ("names",), {}),
    ("regularization.dropout_forward", dropout_fwd_keep_prob, ("keep",), {}),
    ("regularization.dropout_backward", dropout_bwd_boolean_mask, ("scale",), {}),
    ("regularization.standardize_splits", standardize_splits_leak, ("train",), {}),
    ("data_scale.clip_global_norm", clip_global_returns_after, ("before",), {}),
    ("data_scale.accumulated_step", accumulated_unweighted, (), {}),
    ("parallel.naive_allreduce", naive_allreduce_sent_k, ("sent",), {}),
    ("parallel.two_stage_backward", two_stage_no_relu_mask, ("relu",), {}),
    ("hardware.linear_intensity", intensity_no_output, (), {}),
    ("precision.fp16_round_trip", fp16_eps_threshold, ("subnormal",), {}),
    ("second_order.newton_step", newton_plus, ("sign",), {}),
    ("second_order.two_loop", two_loop_oldest_gamma, ("newest",), {}),
    ("conv.conv2d_forward", conv_fwd_ignores_stride, ("stride",), {}),
    ("conv.conv2d_forward", conv_fwd_pad_all_axes, ("pad",), {}),
    ("conv.max_pool_backward", maxpool_bwd_swapped_index, (), {}),
    ("rnn.step_backward", rnn_step_bwd_prev_h_tanh, (), {}),
    ("rnn.bptt", bptt_drops_carry, (), {}),
    ("rnn.bptt", bptt_forward_in_time, (), {}),
    ("attention.forward", attn_fwd_no_scale, ("sqrt",), {}),
    ("attention.forward", attn_fwd_mask_inverted, ("mask",), {}),
    ("attention.backward", attn_bwd_no_softmax_jacobian, ("softmax",), {}),
    ("attention.merge_heads", merge_heads_no_transpose, ("transpose",), {}),
    ("attention.block_backward", block_bwd_missing_ffn_residual, ("residual",), {}),
    ("pruning.magnitude_mask", magnitude_mask_signed, ("absolute",), {}),
    ("quantization.qparams", qparams_no_zero_widening, ("zero",), {}),
    ("quantization.quantize", quantize_no_clamp, ("clamp",), {}),
    ("quantization.fake_quant_backward", fake_quant_bwd_no_zero_point, (), {}),
]

CORRECT = [
    ("numpy.pairwise_sq_dists", pairwise_broadcast, {}),
    ("layers.softmax", softmax_logsumexp, {}),
    ("normalization.layernorm_backward", ln_bwd_long_form, {}),
    ("regularization.l1_penalty", l1_where, {}),
    ("conv.conv2d_forward", conv_fwd_einsum, {}),
    ("rnn.bptt", bptt_inline, {}),
    ("attention.backward", attn_bwd_einsum, {}),
]
