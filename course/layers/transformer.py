"""The transformer encoder block, post-LN (Vaswani et al., 2017), forward and backward.

On x (N, T, E), with multi-head self-attention (:mod:`course.layers.attention`), inverted
dropout of drop probability p, layer norm over the E features of every position, and a
feed-forward network of width Dff applied to every position on its own:

    a   = dropout(MHA(x))
    h   = layernorm1(x + a)                          residual, then layer norm
    f   = dropout(relu(h @ W1 + b1) @ W2 + b2)
    out = layernorm2(h + f)                          residual, then layer norm

This is ``torch.nn.TransformerEncoderLayer(E, h, Dff, dropout=p, batch_first=True,
norm_first=False)`` with the ReLU activation; with p = 0 the two compute the same numbers.
(PyTorch also drops inside the feed-forward network, after the ReLU; this block keeps the two
dropouts of the paper, on each branch before its residual.)

The backward runs the same steps in reverse, from the pieces of lessons 03 (linear, ReLU), 10
(layer norm) and 11 (dropout), and the attention backward; the gradient of each residual sum
goes to both of its terms.

NumPy arrays only: these modules have no CuPy path (other backends' arrays are rejected).
"""

from __future__ import annotations

import numpy as np

from ..init import as_generator
from ..validation import check_ndim, check_shape, float_array
from .activations import relu_backward, relu_forward
from .attention import MHA_PARAMS, multihead_attention_backward, multihead_attention_forward
from .dropout import dropout_backward, dropout_forward
from .linear import linear_backward, linear_forward
from .normalization import layernorm_backward, layernorm_forward

__all__ = ["transformer_block_forward", "transformer_block_backward", "BLOCK_PARAMS"]

#: The parameter names of the block: attention's, then the feed-forward and the layer norms.
BLOCK_PARAMS = MHA_PARAMS + ("W1", "b1", "W2", "b2", "gamma1", "beta1", "gamma2", "beta2")


def transformer_block_forward(x, params, num_heads, p=0.0, train=True, rng=None, mask=None, eps=1e-5):
    """Post-LN transformer block forward.

    Inputs:
    - x: (N, T, E).
    - params: dict with the attention weights (see ``MHA_PARAMS``), W1 (E, Dff), b1 (Dff,),
      W2 (Dff, E), b2 (E,), and gamma1, beta1, gamma2, beta2 (E,).
    - num_heads: divides E. p: dropout's DROP probability; train: False turns dropout off.
    - rng: seed or Generator for the dropout masks (drawn in order: attention branch, then FFN).
    - mask: None or boolean (T, T) attention mask, True = attend (e.g. ``causal_mask(T)``).

    Returns ``(out, cache)``: out (N, T, E); cache a dict of the pieces' caches:
    "attn" (multi-head attention), "drop1", "ln1", "ff1" (linear), "relu", "ff2" (linear),
    "drop2", "ln2" (layer norm on (N*T, E)), and "shape" = (N, T, E).
    """
    fn = "transformer_block_forward"
    x = np.asarray(float_array("x", x, fn=fn))
    check_ndim("x", x, 3, "(N, T, E)", fn=fn)
    N, T, E = x.shape
    missing = [n for n in BLOCK_PARAMS if not isinstance(params, dict) or n not in params]
    if missing:
        raise ValueError(f"{fn}: params is missing {missing}")
    check_shape('params["W1"]', np.asarray(params["W1"]), (E, None), "(E, Dff)", fn=fn, why=f"(E = {E} from x)")
    gen = as_generator(rng, fn=fn) if train and p > 0 else None
    c = {"shape": (N, T, E)}
    a, c["attn"] = multihead_attention_forward(x, params, num_heads, mask)
    a, c["drop1"] = dropout_forward(a, p, train, gen)
    h, c["ln1"] = layernorm_forward((x + a).reshape(N * T, E), params["gamma1"], params["beta1"], eps)
    z, c["ff1"] = linear_forward(h, params["W1"], params["b1"])
    r, c["relu"] = relu_forward(z)
    f, c["ff2"] = linear_forward(r, params["W2"], params["b2"])
    f, c["drop2"] = dropout_forward(f, p, train, gen)
    out, c["ln2"] = layernorm_forward(h + f, params["gamma2"], params["beta2"], eps)
    return out.reshape(N, T, E), c


def transformer_block_backward(dout, cache):
    """Post-LN transformer block backward.

    Inputs: dout (N, T, E); cache from :func:`transformer_block_forward`.
    Returns ``(dx, grads)``: dx (N, T, E) and grads a dict with the keys of ``BLOCK_PARAMS``.
    """
    fn = "transformer_block_backward"
    N, T, E = cache["shape"]
    dout = np.asarray(float_array("dout", dout, fn=fn))
    check_shape("dout", dout, (N, T, E), "(N, T, E)", fn=fn, why="like the block's output")
    g = {}
    dr2, g["gamma2"], g["beta2"] = layernorm_backward(dout.reshape(N * T, E), cache["ln2"])
    df = dropout_backward(dr2, cache["drop2"])
    dr, g["W2"], g["b2"] = linear_backward(df, cache["ff2"])
    dz = relu_backward(dr, cache["relu"])
    dh, g["W1"], g["b1"] = linear_backward(dz, cache["ff1"])
    dh = dh + dr2  # the residual h + f: h also reaches the output directly
    dr1, g["gamma1"], g["beta1"] = layernorm_backward(dh, cache["ln1"])
    da = dropout_backward(dr1.reshape(N, T, E), cache["drop1"])
    dx, g_attn = multihead_attention_backward(da, cache["attn"])
    dx = dx + dr1.reshape(N, T, E)  # the residual x + a
    g.update(g_attn)
    return dx, {n: g[n] for n in BLOCK_PARAMS}
