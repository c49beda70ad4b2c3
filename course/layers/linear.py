"""The linear (fully connected, affine) layer: out = x @ W + b."""

from __future__ import annotations

import math

from ..backend import namespace
from ..validation import check_ndim, check_shape, float_array

__all__ = ["linear_forward", "linear_backward"]


def linear_forward(x, W, b):
    """Affine layer forward pass.

    Inputs:
    - x: (N, D), or (N, d1, ..., dk) with d1 * ... * dk = D: each row is flattened.
    - W: (D, M) weights.
    - b: (M,) biases.

    Returns ``(out, cache)``:
    - out: (N, M) = x.reshape(N, D) @ W + b
    - cache: (x, W, b), the inputs, kept for the backward pass.
    """
    fn = "linear_forward"
    x = float_array("x", x, fn=fn)
    W = float_array("W", W, fn=fn, like=x)
    b = float_array("b", b, fn=fn, like=x)
    xp = namespace(x, W, b)
    if x.ndim < 1:
        raise ValueError(f"{fn}: x must have shape (N, D) or (N, d1, ..., dk), got a scalar")
    check_ndim("W", W, 2, "(D, M)", fn=fn)
    N, D = x.shape[0], math.prod(x.shape[1:])
    M = W.shape[1]
    check_shape("W", W, (D, None), "(D, M)", fn=fn, why=f"to match x of shape {tuple(x.shape)} (D = {D})")
    check_shape("b", b, (M,), "(M,)", fn=fn, why="to match W's columns")
    out = xp.reshape(x, (N, D)) @ W + b
    return out, (x, W, b)


def linear_backward(dout, cache):
    """Affine layer backward pass.

    Inputs:
    - dout: (N, M) upstream gradient dL/dout.
    - cache: (x, W, b) from :func:`linear_forward`.

    Returns ``(dx, dW, db)``:
    - dx: shape of x = dout @ W.T, reshaped back to x's shape
    - dW: (D, M) = x.reshape(N, D).T @ dout
    - db: (M,) = dout summed over the batch (axis 0)
    """
    fn = "linear_backward"
    x, W, b = cache
    dout = float_array("dout", dout, fn=fn, like=x)
    xp = namespace(dout, x, W)
    N, D = x.shape[0], W.shape[0]
    check_shape("dout", dout, (N, W.shape[1]), "(N, M)", fn=fn, why="like the forward's output")
    dx = xp.reshape(dout @ W.T, x.shape)
    dW = xp.reshape(x, (N, D)).T @ dout
    db = xp.sum(dout, axis=0)
    return dx, dW, db
