"""Functional layers: every ``*_forward`` returns ``(out, cache)``; every ``*_backward(dout, cache)``
returns the gradients of the forward's array inputs, in order.

Shapes use fixed letters: N batch, D input features, M outputs, C classes.
"""

from .activations import (
    leaky_relu_backward,
    leaky_relu_forward,
    log_softmax,
    relu_backward,
    relu_forward,
    sigmoid,
    sigmoid_backward,
    sigmoid_forward,
    softmax,
    tanh_backward,
    tanh_forward,
)
from .linear import linear_backward, linear_forward

__all__ = [
    "linear_forward",
    "linear_backward",
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

from .dropout import dropout_backward, dropout_forward  # noqa: E402
from .normalization import (  # noqa: E402
    batchnorm_backward,
    batchnorm_forward,
    layernorm_backward,
    layernorm_forward,
)
from .prelu import prelu_backward, prelu_forward  # noqa: E402
from .residual import residual_backward, residual_forward  # noqa: E402

__all__ += [
    "batchnorm_forward",
    "batchnorm_backward",
    "layernorm_forward",
    "layernorm_backward",
    "dropout_forward",
    "dropout_backward",
    "prelu_forward",
    "prelu_backward",
    "residual_forward",
    "residual_backward",
]
