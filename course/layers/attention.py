"""Scaled dot-product attention, causal masks and multi-head self-attention, forward and backward.

Attention of queries q (..., Tq, d) over keys k (..., Tk, d) and values v (..., Tk, dv):

    S = q @ k^T / sqrt(d)     (..., Tq, Tk)    scores; masked-out entries set to -inf
    P = softmax(S, axis=-1)                    each query's weights over the keys sum to 1
    out = P @ v               (..., Tq, dv)

(``torch.nn.functional.scaled_dot_product_attention``). A boolean ``mask`` broadcastable to
(Tq, Tk) says which keys each query may see: True = attend, PyTorch's convention for a boolean
``attn_mask`` of that function (``nn.MultiheadAttention`` uses the opposite one).

Backward, with the softmax Jacobian done once: for one row p = softmax(s), dL/ds = p * (dp - p.dp), so

    dv = P^T @ dout    dP = dout @ v^T    dS = P * (dP - sum(dP * P, axis=-1))    dq = dS @ k / sqrt(d)
    dk = dS^T @ q / sqrt(d)

Multi-head self-attention on x (N, T, E) with h heads of size E / h: project
q, k, v = x @ Wq + bq, ..., split each into heads (N, h, T, E / h), attend in every head at
once, merge the heads back to (N, T, E) and project with Wo, bo. Weights are (E, E), applied
as ``x @ W`` (PyTorch's ``in_proj_weight`` holds the transposes Wq.T, Wk.T, Wv.T stacked).

NumPy arrays only: these modules have no CuPy path (other backends' arrays are rejected).
"""

from __future__ import annotations

import math

import numpy as np

from ..validation import check_ndim, check_shape, float_array

__all__ = [
    "attention_forward",
    "attention_backward",
    "causal_mask",
    "split_heads",
    "merge_heads",
    "multihead_attention_forward",
    "multihead_attention_backward",
    "MHA_PARAMS",
]

#: The parameter names of multi-head attention.
MHA_PARAMS = ("Wq", "bq", "Wk", "bk", "Wv", "bv", "Wo", "bo")


def causal_mask(T, Tk=None):
    """(T, Tk) boolean mask, True on and below the diagonal: query t may attend to keys 0 .. t."""
    return np.tril(np.ones((T, T if Tk is None else Tk), dtype=bool))


def attention_forward(q, k, v, mask=None):
    """Scaled dot-product attention.

    Inputs: q (..., Tq, d), k (..., Tk, d), v (..., Tk, dv) with the same leading axes;
    mask: None or a boolean array broadcastable to (..., Tq, Tk), True where a query may attend.
    Every query must be allowed at least one key.

    Returns ``(out, cache)``: out (..., Tq, dv); cache = (q, k, v, P) with P (..., Tq, Tk) the
    attention weights (0 where masked).
    """
    fn = "attention_forward"
    q, k, v = (np.asarray(float_array(n, a, fn=fn)) for n, a in (("q", q), ("k", k), ("v", v)))
    for name, a in (("q", q), ("k", k), ("v", v)):
        if a.ndim < 2:
            raise ValueError(f"{fn}: {name} must have shape (..., T, d), got {tuple(a.shape)}")
    check_shape("k", k, (*q.shape[:-2], None, q.shape[-1]), "(..., Tk, d)", fn=fn,
                why=f"(same leading axes and d as q {tuple(q.shape)})")
    check_shape("v", v, (*k.shape[:-1], None), "(..., Tk, dv)", fn=fn, why=f"(one value per key of k {tuple(k.shape)})")
    scores = q @ np.swapaxes(k, -1, -2) / math.sqrt(q.shape[-1])
    if mask is not None:
        mask = np.asarray(mask)
        if mask.dtype != bool:
            raise TypeError(f"{fn}: mask must be a boolean array (True = attend), got dtype {mask.dtype}")
        try:
            mask = np.broadcast_to(mask, scores.shape)
        except ValueError:
            raise ValueError(f"{fn}: mask of shape {mask.shape} does not broadcast to the scores "
                             f"(..., Tq, Tk) = {scores.shape}") from None
        if not mask.any(axis=-1).all():
            raise ValueError(f"{fn}: mask leaves a query with no key to attend to (a row of False)")
        scores = np.where(mask, scores, -np.inf)
    scores = scores - scores.max(axis=-1, keepdims=True)
    P = np.exp(scores)
    P /= P.sum(axis=-1, keepdims=True)
    return P @ v, (q, k, v, P)


def attention_backward(dout, cache):
    """Backward of :func:`attention_forward`.

    Inputs: dout (..., Tq, dv); cache (q, k, v, P). Returns ``(dq, dk, dv)`` shaped like q, k, v
    (masked entries have P = 0, so they get no gradient).
    """
    fn = "attention_backward"
    q, k, v, P = cache
    dout = np.asarray(float_array("dout", dout, fn=fn))
    check_shape("dout", dout, (*P.shape[:-1], v.shape[-1]), "(..., Tq, dv)", fn=fn, why="like the output")
    scale = 1.0 / math.sqrt(q.shape[-1])
    dv = np.swapaxes(P, -1, -2) @ dout
    dP = dout @ np.swapaxes(v, -1, -2)
    dS = P * (dP - np.sum(dP * P, axis=-1, keepdims=True))
    return dS @ k * scale, np.swapaxes(dS, -1, -2) @ q * scale, dv


def split_heads(x, num_heads):
    """(N, T, E) -> (N, h, T, E / h): head i holds features i * E/h .. (i + 1) * E/h - 1."""
    fn = "split_heads"
    x = np.asarray(float_array("x", x, fn=fn))
    check_ndim("x", x, 3, "(N, T, E)", fn=fn)
    N, T, E = x.shape
    if not isinstance(num_heads, (int, np.integer)) or num_heads < 1 or E % num_heads:
        raise ValueError(
            f"{fn}: num_heads must be an int >= 1 dividing E = {E} (x {tuple(x.shape)}), got {num_heads!r}"
        )
    return x.reshape(N, T, num_heads, E // num_heads).transpose(0, 2, 1, 3)


def merge_heads(x):
    """(N, h, T, d) -> (N, T, h * d), the inverse of :func:`split_heads`."""
    fn = "merge_heads"
    x = np.asarray(float_array("x", x, fn=fn))
    check_ndim("x", x, 4, "(N, h, T, d)", fn=fn)
    N, h, T, d = x.shape
    return x.transpose(0, 2, 1, 3).reshape(N, T, h * d)


def _check_params(fn, params, E):
    if not isinstance(params, dict) or any(n not in params for n in MHA_PARAMS):
        have = sorted(params) if isinstance(params, dict) else type(params).__name__
        raise ValueError(f"{fn}: params must be a dict with keys {MHA_PARAMS}, got {have}")
    for n in MHA_PARAMS:
        shape, letters = ((E, E), "(E, E)") if n.startswith("W") else ((E,), "(E,)")
        check_shape(f'params["{n}"]', np.asarray(params[n]), shape, letters, fn=fn, why=f"(E = {E} from x)")


def multihead_attention_forward(x, params, num_heads, mask=None):
    """Multi-head self-attention.

    Inputs: x (N, T, E); params: dict with Wq, Wk, Wv, Wo (E, E) and bq, bk, bv, bo (E,);
    num_heads h dividing E; mask: None or boolean, broadcastable to (T, T), True = attend.

    Returns ``(out, cache)``: out (N, T, E); cache = (x, params, num_heads, q, k, v, attn_cache,
    ctx) with q, k, v the split heads (N, h, T, E / h), attn_cache from
    :func:`attention_forward` and ctx (N, T, E) the merged heads before the output projection.
    """
    fn = "multihead_attention_forward"
    x = np.asarray(float_array("x", x, fn=fn))
    check_ndim("x", x, 3, "(N, T, E)", fn=fn)
    _check_params(fn, params, x.shape[2])
    q, k, v = (split_heads(x @ params["W" + n] + params["b" + n], num_heads) for n in "qkv")
    heads, attn_cache = attention_forward(q, k, v, mask)
    ctx = merge_heads(heads)
    out = ctx @ params["Wo"] + params["bo"]
    return out, (x, params, num_heads, q, k, v, attn_cache, ctx)


def multihead_attention_backward(dout, cache):
    """Backward of :func:`multihead_attention_forward`.

    Inputs: dout (N, T, E); cache. Returns ``(dx, grads)``: dx (N, T, E) and grads a dict with
    the keys of params, shaped like them.
    """
    fn = "multihead_attention_backward"
    x, params, num_heads, q, k, v, attn_cache, ctx = cache
    dout = np.asarray(float_array("dout", dout, fn=fn))
    check_shape("dout", dout, x.shape, "(N, T, E)", fn=fn, why="like the output")
    E = x.shape[2]
    grads = {"Wo": ctx.reshape(-1, E).T @ dout.reshape(-1, E), "bo": dout.sum(axis=(0, 1))}
    dheads = split_heads(dout @ params["Wo"].T, num_heads)
    dq, dk, dv = attention_backward(dheads, attn_cache)
    dx = np.zeros_like(x)
    for n, d in zip("qkv", (dq, dk, dv)):
        d = merge_heads(d)  # (N, T, E): the gradient of the projection's output
        grads["W" + n] = x.reshape(-1, E).T @ d.reshape(-1, E)
        grads["b" + n] = d.sum(axis=(0, 1))
        dx += d @ params["W" + n].T
    return dx, {n: grads[n] for n in MHA_PARAMS}
