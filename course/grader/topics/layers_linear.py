"""The linear layer, forward (lesson 01) and backward (lesson 03)."""

from __future__ import annotations

import numpy as np

from ...layers import linear_backward, linear_forward
from ..cases import Case, randn, sizes
from ..registry import Variant, register
from ..run.runner import Backward


def _linear_cases(rng):
    N, D, M = sizes(rng, 3, 2, 7)
    return [
        Case((randn(rng, N, D), randn(rng, D, M), randn(rng, M)), note=f"N = {N}, D = {D}, M = {M}", N=N),
        Case((randn(rng, 1, D), randn(rng, D, M), randn(rng, M)), note=f"N = 1, D = {D}, M = {M}", N=1),
        Case((randn(rng, N, M), randn(rng, M, 1), randn(rng, 1)), note=f"one output (M = 1), N = {N}", N=N),
        Case(
            (randn(rng, M, D, scale=50.0), randn(rng, D, N, scale=20.0), randn(rng, N, scale=100.0)),
            note="large and negative values",
            N=M,
        ),
    ]


def _backward_cases(rng):
    return [
        Case(c.args, c.kwargs, c.note, c.N, c.fd, {"dout": randn(rng, c.args[0].shape[0], c.args[1].shape[1])})
        for c in _linear_cases(rng)
    ]


register(
    "layers.linear_forward",
    lesson="01_forward_pass",
    title="Linear layer forward",
    reference=linear_forward,
    cases=_linear_cases,
    outputs=("out", None),
    arg_names=("x", "W", "b"),
    variants=(
        Variant("no_bias", lambda x, W, b: (x @ W, None), "You forgot to add the bias: out = x @ W + b."),
    ),
    hints=(
        "out = x @ W + b: x is (N, D), W is (D, M), b is (M,), out is (N, M); b broadcasts over rows.",
        "Return (out, cache) with cache = (x, W, b).",
    ),
)
register(
    "layers.linear_backward",
    lesson="03_backprop",
    title="Linear layer backward",
    reference=linear_backward,
    cases=_backward_cases,
    outputs=("dx", "dW", "db"),
    arg_names=("x", "W", "b"),
    protocol=Backward(linear_forward),
    variants=(
        Variant(
            "bias_axis",
            lambda dout, cache: (*linear_backward(dout, cache)[:2], np.sum(dout, axis=1)),
            "Your db sums dout over axis 1 (one value per example); the bias gradient sums over the "
            "batch: db = dout.sum(axis=0), one value per output.",
        ),
        Variant(
            "bias_not_summed",
            lambda dout, cache: (*linear_backward(dout, cache)[:2], dout.copy()),
            "Your db is dout itself; b is shared by all N examples, so sum over the batch: "
            "db = dout.sum(axis=0).",
        ),
    ),
    hints=(
        "Check the shapes: dx like x (N, D), dW like W (D, M), db like b (M,).",
        "dx = dout @ W.T, dW = x.T @ dout, db = dout.sum(axis=0).",
        "Shapes tell you where the transposes go: (N, M) @ (M, D) gives (N, D).",
    ),
)
