"""PReLU: a leaky ReLU whose negative slope is learned (He et al., 2015; ``torch.nn.PReLU``).

    out = x        where x > 0
    out = alpha * x  where x <= 0

For x of shape (N, D), ``alpha`` has shape (D,) (one slope per feature, PyTorch's
``nn.PReLU(num_parameters=D)``) or (1,) (one slope shared by all features, ``nn.PReLU()``,
whose default value is 0.25).
"""

from __future__ import annotations

from ..backend import namespace
from ..validation import check_ndim, check_same_shape, float_array

__all__ = ["prelu_forward", "prelu_backward"]


def _check(fn, x, alpha):
    x = float_array("x", x, fn=fn)
    alpha = float_array("alpha", alpha, fn=fn, like=x)
    check_ndim("x", x, 2, "(N, D)", fn=fn)
    check_ndim("alpha", alpha, 1, "(D,) or (1,)", fn=fn)
    if alpha.shape[0] not in (1, x.shape[1]):
        raise ValueError(
            f"{fn}: alpha must have shape (D,) = ({x.shape[1]},) (one slope per feature of x) or (1,) "
            f"(one shared slope), got {tuple(alpha.shape)} for x of shape {tuple(x.shape)}"
        )
    return x, alpha


def prelu_forward(x, alpha):
    """PReLU forward: out = x where x > 0, alpha * x elsewhere.

    - x: (N, D); alpha: (D,) or (1,) (broadcast over the batch, and over the features for (1,)).

    Returns ``(out, cache)``: out (N, D); cache: (x, alpha).
    """
    x, alpha = _check("prelu_forward", x, alpha)
    xp = namespace(x, alpha)
    return xp.where(x > 0, x, alpha * x), (x, alpha)


def prelu_backward(dout, cache):
    """PReLU backward.

    - dout: (N, D); cache: (x, alpha) from :func:`prelu_forward`.

    Returns ``(dx, dalpha)``:
    - dx (N, D) = dout where x > 0, alpha * dout elsewhere;
    - dalpha, shaped like alpha: the sum of dout * x over the entries where x <= 0 (over the batch
      for (D,), over everything for (1,)): alpha is shared by every example, so its gradient adds up.
    """
    fn = "prelu_backward"
    x, alpha = cache
    dout = float_array("dout", dout, fn=fn, like=x)
    check_same_shape("dout", dout, "the forward's input x", x, fn=fn)
    xp = namespace(dout, x)
    negative = x <= 0
    dx = xp.where(negative, alpha * dout, dout)
    contrib = xp.where(negative, dout * x, xp.zeros_like(dout))
    dalpha = xp.sum(contrib, axis=0)
    if alpha.shape[0] == 1:
        dalpha = xp.reshape(xp.sum(dalpha), (1,))
    return dx, dalpha
