"""Activations and their backwards, softmax and log-softmax (lessons 01 and 03)."""

from __future__ import annotations

import numpy as np

from ...layers import (
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
from ..cases import Case, away_from_zero, randn, sizes
from ..registry import Variant, register
from ..run.runner import Backward
from ._common import elementwise_cases, with_dout

FORWARD = "01_forward_pass"
BACKWARD = "03_backprop"


# ---------------------------------------------------------------------------------------------
# Forward passes


register(
    "layers.relu_forward",
    lesson=FORWARD,
    title="ReLU forward",
    reference=relu_forward,
    cases=lambda rng: elementwise_cases(rng, zeros=True),
    outputs=("out", None),  # the cache is the learner's own design: only `out` is graded
    arg_names=("x",),
    hints=(
        "out = max(0, x) element by element: np.maximum(x, 0) or np.where(x > 0, x, 0).",
        "Return a tuple (out, cache); the cache holds x for the backward pass.",
        "Do not change x in place (x[x < 0] = 0 changes the caller's array): build a new one.",
    ),
)
register(
    "layers.leaky_relu_forward",
    lesson=FORWARD,
    title="Leaky ReLU forward",
    reference=leaky_relu_forward,
    cases=lambda rng: [
        *elementwise_cases(rng, large=False),
        Case((away_from_zero(rng, 3, 5),), {"negative_slope": 0.2}, note="negative_slope = 0.2", N=3),
    ],
    outputs=("out", None),
    arg_names=("x",),
    hints=(
        "out = x where x > 0, else negative_slope * x: np.where(x > 0, x, negative_slope * x).",
        "Use the negative_slope argument, not a hard-coded 0.01.",
    ),
)
register(
    "layers.sigmoid_forward",
    lesson=FORWARD,
    title="Sigmoid forward",
    reference=sigmoid_forward,
    cases=elementwise_cases,
    outputs=("out", None),
    arg_names=("x",),
    hints=(
        "out = 1 / (1 + exp(-x)).",
        "For very negative x, exp(-x) overflows: use exp(x) / (1 + exp(x)) there (np.where), "
        "or compute exp(-|x|) once and pick the right form by the sign of x.",
    ),
)
register(
    "layers.tanh_forward",
    lesson=FORWARD,
    title="Tanh forward",
    reference=tanh_forward,
    cases=elementwise_cases,
    outputs=("out", None),
    arg_names=("x",),
    hints=("np.tanh(x) is stable; (e^x - e^-x) / (e^x + e^-x) overflows for |x| around 700.",),
)


def _softmax_cases(rng):
    N, C = sizes(rng, 2, 2, 6)
    big = randn(rng, 3, 4, scale=400.0)
    big[0, 0], big[2, 3] = 1000.0, -1000.0
    return [
        Case((randn(rng, N, C),), note=f"N = {N}, C = {C}", N=N),
        Case((randn(rng, 1, C + 1),), note="N = 1", N=1),
        Case((randn(rng, N, 2, scale=3.0),), note="C = 2 classes", N=N),
        Case((np.full((2, 3), 7.0),), note="all scores equal", N=2),
        Case((big,), note="large scores (|x| up to 1000)", N=3),
    ]


register(
    "layers.softmax",
    lesson=FORWARD,
    title="Softmax",
    reference=softmax,
    cases=_softmax_cases,
    outputs=("probs",),
    arg_names=("x",),
    variants=(
        Variant(
            "softmax_axis",
            lambda x: softmax(x, axis=0),
            "Your softmax normalises each column (axis 0); each row (one example) should sum to 1: "
            "use axis=1 with keepdims=True.",
        ),
    ),
    hints=(
        "Subtract each row's maximum first: exp(x - max) / sum(exp(x - max)) gives the same result "
        "and never overflows.",
        "Sum over axis=1 with keepdims=True so the division broadcasts row by row.",
    ),
)
register(
    "layers.log_softmax",
    lesson=FORWARD,
    title="Log-softmax",
    reference=log_softmax,
    cases=_softmax_cases,
    outputs=("logp",),
    arg_names=("x",),
    variants=(
        Variant(
            "softmax_axis",
            lambda x: log_softmax(x, axis=0),
            "Your log-softmax normalises each column (axis 0); it should work row by row (axis=1).",
        ),
    ),
    hints=(
        "log softmax(x) = (x - max) - log(sum(exp(x - max))): never take the log of a softmax "
        "that may have underflowed to 0.",
    ),
)


# ---------------------------------------------------------------------------------------------
# Backward passes


def _local_only(derivative):
    return lambda dout, cache: derivative(cache) + 0.0 * dout


_LOCAL = (
    "You returned the local derivative without multiplying it by dout: by the chain rule "
    "dx = dout * (local derivative)."
)

register(
    "layers.relu_backward",
    lesson=BACKWARD,
    title="ReLU backward",
    reference=relu_backward,
    cases=lambda rng: with_dout(rng, elementwise_cases(rng, zeros=True)),
    outputs=("dx",),
    arg_names=("x",),
    protocol=Backward(relu_forward),
    variants=(
        Variant(
            "mask_from_dout",
            lambda dout, cache: np.where(dout > 0, dout, 0.0),
            "You let dout through where dout > 0; the mask comes from the forward's input: where x > 0.",
        ),
        Variant("local_only", _local_only(lambda x: (x > 0).astype(float)), _LOCAL),
    ),
    hints=(
        "dx = dout where x > 0, and 0 elsewhere (x is the cache).",
        "At exactly x = 0 take the derivative as 0 (use x > 0).",
    ),
)
register(
    "layers.leaky_relu_backward",
    lesson=BACKWARD,
    title="Leaky ReLU backward",
    reference=leaky_relu_backward,
    cases=lambda rng: with_dout(rng, [
        *elementwise_cases(rng, large=False),
        Case((away_from_zero(rng, 3, 5),), {"negative_slope": 0.2}, note="negative_slope = 0.2", N=3),
    ]),
    outputs=("dx",),
    arg_names=("x",),
    protocol=Backward(leaky_relu_forward),
    variants=(
        Variant("local_only", _local_only(lambda c: np.where(c[0] > 0, 1.0, c[1])), _LOCAL),
    ),
    hints=("dx = dout where x > 0, and negative_slope * dout elsewhere; the cache is (x, negative_slope).",),
)
register(
    "layers.sigmoid_backward",
    lesson=BACKWARD,
    title="Sigmoid backward",
    reference=sigmoid_backward,
    cases=lambda rng: with_dout(rng, elementwise_cases(rng)),
    outputs=("dx",),
    arg_names=("x",),
    protocol=Backward(sigmoid_forward),
    variants=(
        Variant("local_only", _local_only(lambda out: out * (1.0 - out)), _LOCAL),
        Variant(
            "cache_is_output",
            lambda dout, out: dout * sigmoid(out) * (1.0 - sigmoid(out)),
            "You applied sigmoid to the cache again, but the cache already holds out = sigmoid(x): "
            "dx = dout * out * (1 - out).",
        ),
    ),
    hints=("With out = sigmoid(x) from the cache: dx = dout * out * (1 - out).",),
)
register(
    "layers.tanh_backward",
    lesson=BACKWARD,
    title="Tanh backward",
    reference=tanh_backward,
    cases=lambda rng: with_dout(rng, elementwise_cases(rng)),
    outputs=("dx",),
    arg_names=("x",),
    protocol=Backward(tanh_forward),
    variants=(
        Variant("local_only", _local_only(lambda out: 1.0 - out * out), _LOCAL),
        Variant(
            "cache_is_output",
            lambda dout, out: dout * (1.0 - np.tanh(out) ** 2),
            "You applied tanh to the cache again, but the cache already holds out = tanh(x): "
            "dx = dout * (1 - out**2).",
        ),
    ),
    hints=("With out = tanh(x) from the cache: dx = dout * (1 - out**2).",),
)
