"""Element-wise activations, softmax and log-softmax.

Each activation has ``*_forward(x) -> (out, cache)`` and ``*_backward(dout, cache) -> dx``;
all arrays keep x's shape, written (N, ...) below.
"""

from __future__ import annotations

from ..backend import namespace
from ..validation import check_same_shape, float_array

__all__ = [
    "relu_forward",
    "relu_backward",
    "leaky_relu_forward",
    "leaky_relu_backward",
    "sigmoid",
    "sigmoid_forward",
    "sigmoid_backward",
    "tanh_forward",
    "tanh_backward",
    "softmax",
    "log_softmax",
]


def _dout(fn, dout, like):
    dout = float_array("dout", dout, fn=fn, like=like)
    check_same_shape("dout", dout, "the forward's input x", like, fn=fn)
    return dout


def relu_forward(x):
    """ReLU: out = max(0, x).

    - x: (N, ...). Returns ``(out, cache)``: out like x; cache: x.
    """
    x = float_array("x", x, fn="relu_forward")
    xp = namespace(x)
    return xp.where(x > 0, x, xp.zeros_like(x)), x


def relu_backward(dout, cache):
    """ReLU backward: dx = dout where x > 0, else 0 (the derivative at exactly 0 is taken as 0).

    - dout: like x; cache: x. Returns dx like x.
    """
    x = cache
    dout = _dout("relu_backward", dout, x)
    xp = namespace(dout, x)
    return xp.where(x > 0, dout, xp.zeros_like(dout))


def leaky_relu_forward(x, negative_slope=0.01):
    """Leaky ReLU: out = x if x > 0 else negative_slope * x (PyTorch's default slope 0.01).

    - x: (N, ...). Returns ``(out, cache)``: out like x; cache: (x, negative_slope).
    """
    x = float_array("x", x, fn="leaky_relu_forward")
    xp = namespace(x)
    return xp.where(x > 0, x, negative_slope * x), (x, negative_slope)


def leaky_relu_backward(dout, cache):
    """Leaky ReLU backward: dx = dout where x > 0, else negative_slope * dout.

    - dout: like x; cache: (x, negative_slope). Returns dx like x.
    """
    x, negative_slope = cache
    dout = _dout("leaky_relu_backward", dout, x)
    xp = namespace(dout, x)
    return xp.where(x > 0, dout, negative_slope * dout)


def sigmoid(x):
    """The logistic function 1 / (1 + exp(-x)), computed without overflow for any x.

    For x >= 0 it evaluates 1 / (1 + e^-x); for x < 0 the equal form e^x / (1 + e^x),
    so exp never sees a large positive argument.
    """
    xp = namespace(x)
    e = xp.exp(-xp.abs(x))  # in (0, 1]: never overflows
    return xp.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_forward(x):
    """Sigmoid: out = 1 / (1 + exp(-x)), stable for large |x|.

    - x: (N, ...). Returns ``(out, cache)``: out like x; cache: out (the backward needs only it).
    """
    x = float_array("x", x, fn="sigmoid_forward")
    out = sigmoid(x)
    return out, out


def sigmoid_backward(dout, cache):
    """Sigmoid backward: dx = dout * out * (1 - out).

    - dout: like x; cache: out from the forward. Returns dx like x.
    """
    out = cache
    dout = _dout("sigmoid_backward", dout, out)
    return dout * out * (1.0 - out)


def tanh_forward(x):
    """Tanh: out = tanh(x), in (-1, 1).

    - x: (N, ...). Returns ``(out, cache)``: out like x; cache: out.
    """
    x = float_array("x", x, fn="tanh_forward")
    out = namespace(x).tanh(x)
    return out, out


def tanh_backward(dout, cache):
    """Tanh backward: dx = dout * (1 - out**2).

    - dout: like x; cache: out from the forward. Returns dx like x.
    """
    out = cache
    dout = _dout("tanh_backward", dout, out)
    return dout * (1.0 - out * out)


def softmax(x, axis=-1):
    """Softmax along ``axis``: exp(x - max) / sum(exp(x - max)).

    Subtracting the maximum leaves the result unchanged and keeps exp from overflowing,
    so logits of magnitude 1e4 are fine. x: (N, C) -> probabilities (N, C) summing to 1.
    """
    x = float_array("x", x, fn="softmax")
    xp = namespace(x)
    z = x - xp.max(x, axis=axis, keepdims=True)
    e = xp.exp(z)
    return e / xp.sum(e, axis=axis, keepdims=True)


def log_softmax(x, axis=-1):
    """Log-softmax along ``axis``: (x - max) - log(sum(exp(x - max))).

    Stable for logits of magnitude 1e4 (no log(0) for very negative entries).
    x: (N, C) -> log-probabilities (N, C).
    """
    x = float_array("x", x, fn="log_softmax")
    xp = namespace(x)
    z = x - xp.max(x, axis=axis, keepdims=True)
    return z - xp.log(xp.sum(xp.exp(z), axis=axis, keepdims=True))
