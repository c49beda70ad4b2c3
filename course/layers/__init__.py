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

__all__ += [
    "batchnorm_forward",
    "batchnorm_backward",
    "layernorm_forward",
    "layernorm_backward",
    "dropout_forward",
    "dropout_backward",
]

# Convolutions and pooling (lesson 16), recurrences (16), attention and the transformer block (17).
from .attention import (  # noqa: E402
    attention_backward,
    attention_forward,
    causal_mask,
    merge_heads,
    multihead_attention_backward,
    multihead_attention_forward,
    split_heads,
)
from .conv import conv2d_backward, conv2d_backward_naive, conv2d_forward, conv2d_forward_naive  # noqa: E402
from .pool import max_pool_backward, max_pool_forward  # noqa: E402
from .rnn import rnn_backward, rnn_forward, rnn_step_backward, rnn_step_forward  # noqa: E402
from .transformer import transformer_block_backward, transformer_block_forward  # noqa: E402

__all__ += [
    "conv2d_forward",
    "conv2d_backward",
    "conv2d_forward_naive",
    "conv2d_backward_naive",
    "max_pool_forward",
    "max_pool_backward",
    "rnn_step_forward",
    "rnn_step_backward",
    "rnn_forward",
    "rnn_backward",
    "attention_forward",
    "attention_backward",
    "causal_mask",
    "split_heads",
    "merge_heads",
    "multihead_attention_forward",
    "multihead_attention_backward",
    "transformer_block_forward",
    "transformer_block_backward",
]
