"""A residual block, ``y = x + F(x)`` (He et al., 2016: deep residual learning).

Here F is two linear layers with a ReLU between them, the fully connected version of ResNet's
basic block:

    z = x @ W1 + b1        (N, H)
    a = relu(z)            (N, H)
    F = a @ W2 + b2        (N, D)
    y = x + F              (N, D)   (the skip connection: F's output has x's width D)

The backward pass adds two paths: ``dx = dout + dF/dx``. The identity path passes the upstream
gradient through unchanged, so even when F's gradient is tiny (a deep stack, small weights) the
gradient reaching the first layers is at least dout: that is why very deep residual networks train.
"""

from __future__ import annotations

from ..backend import namespace
from ..validation import check_ndim, check_shape, float_array
from .linear import linear_backward, linear_forward

__all__ = ["residual_forward", "residual_backward"]


def residual_forward(x, W1, b1, W2, b2):
    """Residual block forward: y = x + relu(x @ W1 + b1) @ W2 + b2.

    - x: (N, D); W1: (D, H); b1: (H,); W2: (H, D); b2: (D,).

    Returns ``(out, cache)``: out (N, D); cache: (x, W1, b1, z, a, W2, b2) with z, a (N, H).
    """
    fn = "residual_forward"
    x = float_array("x", x, fn=fn)
    check_ndim("x", x, 2, "(N, D)", fn=fn)
    W2 = float_array("W2", W2, fn=fn, like=x)
    D = x.shape[1]
    check_ndim("W2", W2, 2, "(H, D)", fn=fn)
    check_shape("W2", W2, (W2.shape[0], D), "(H, D)", fn=fn,
                why="(F(x) is added to x, so the block's output must have x's width D)")
    z, _ = linear_forward(x, W1, b1)
    xp = namespace(z)
    a = xp.where(z > 0, z, xp.zeros_like(z))
    F, _ = linear_forward(a, W2, b2)
    return x + F, (x, W1, b1, z, a, W2, b2)


def residual_backward(dout, cache):
    """Residual block backward.

    - dout: (N, D); cache from :func:`residual_forward`.

    Returns ``(dx, dW1, db1, dW2, db2)``, each shaped like its input. dx = dout (the identity
    path) + the gradient through F.
    """
    fn = "residual_backward"
    x, W1, b1, z, a, W2, b2 = cache
    dout = float_array("dout", dout, fn=fn, like=x)
    check_shape("dout", dout, tuple(x.shape), "(N, D)", fn=fn, why="like the block's output")
    da, dW2, db2 = linear_backward(dout, (a, W2, b2))
    xp = namespace(da, z)
    dz = xp.where(z > 0, da, xp.zeros_like(da))
    dx_F, dW1, db1 = linear_backward(dz, (x, W1, b1))
    return dout + dx_F, dW1, db1, dW2, db2
