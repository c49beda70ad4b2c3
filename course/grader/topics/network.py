"""Lesson 03 (backpropagation): one training step of a two-layer network, by hand.

The learner combines their own layer and loss backwards into ``two_layer_step``; the reference
is built from :mod:`course.layers` and :mod:`course.losses`.
"""

from __future__ import annotations

import numpy as np

from ...layers import linear_backward, linear_forward, relu_backward, relu_forward
from ...losses import softmax_cross_entropy
from ..cases import Case, away_from_zero, randn, sizes
from ..registry import Variant, register
from ..run.topic_protocols import Seeded

LESSON = "03_backprop"
PARAM_NAMES = ("W1", "b1", "W2", "b2")


def two_layer_loss_and_grads(params, X, y, relu_mask=True):
    """Loss and gradients of linear -> ReLU -> linear -> softmax cross-entropy (mean over N).

    - params: {"W1": (D, H), "b1": (H,), "W2": (H, C), "b2": (C,)}; X: (N, D); y: (N,) labels in [0, C).
    - relu_mask=False gives the classic mistake of skipping the ReLU backward (for a variant).

    Returns ``(loss, grads)`` with grads a dict shaped like params.
    """
    h, cache1 = linear_forward(X, params["W1"], params["b1"])
    a, cache_relu = relu_forward(h)
    scores, cache2 = linear_forward(a, params["W2"], params["b2"])
    loss, dscores = softmax_cross_entropy(scores, y)
    da, dW2, db2 = linear_backward(dscores, cache2)
    dh = relu_backward(da, cache_relu) if relu_mask else da
    _, dW1, db1 = linear_backward(dh, cache1)
    return loss, {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}


def two_layer_step(params, X, y, lr):
    """One step of gradient descent on a two-layer classifier.

    Network: scores = relu(X @ W1 + b1) @ W2 + b2, loss = softmax cross-entropy (mean over N).

    - params: {"W1": (D, H), "b1": (H,), "W2": (H, C), "b2": (C,)}, not changed.
    - X: (N, D) inputs; y: (N,) integer labels in [0, C); lr: the learning rate.

    Returns ``(loss, grads, new_params)``: the loss at ``params`` (before the step), the
    gradients (a dict shaped like params) and new arrays ``new_params[k] = params[k] - lr * grads[k]``.
    """
    loss, grads = two_layer_loss_and_grads(params, X, y)
    new_params = {k: params[k] - lr * grads[k] for k in params}
    return loss, grads, new_params


def _params(rng, D, H, C, scale=0.5):
    return {
        "W1": randn(rng, D, H, scale=scale),
        "b1": randn(rng, H, scale=0.1),
        "W2": randn(rng, H, C, scale=scale),
        "b2": randn(rng, C, scale=0.1),
    }


def _cases(rng):
    N, D, H, C = sizes(rng, 4, 2, 8)
    return [
        Case((_params(rng, D, H, C), away_from_zero(rng, N, D), rng.integers(0, C, N), 0.1),
             note=f"N = {N}, D = {D}, H = {H}, C = {C}, lr = 0.1", N=N),
        Case((_params(rng, D, H, C), away_from_zero(rng, 1, D), rng.integers(0, C, 1), 0.5),
             note="N = 1, lr = 0.5", N=1),
        Case((_params(rng, 3, 5, 2), away_from_zero(rng, N + 2, 3, scale=3.0), rng.integers(0, 2, N + 2), 1.0),
             note=f"two classes, larger inputs, N = {N + 2}, lr = 1", N=N + 2),
    ]


def _no_relu_backward(params, X, y, lr):
    loss, grads = two_layer_loss_and_grads(params, X, y, relu_mask=False)
    return loss, grads, {k: params[k] - lr * grads[k] for k in params}


def _ascent(params, X, y, lr):
    loss, grads = two_layer_loss_and_grads(params, X, y)
    return loss, grads, {k: params[k] + lr * grads[k] for k in params}


def _loss_after_step(params, X, y, lr):
    loss, grads, new = two_layer_step(params, X, y, lr)
    return two_layer_loss_and_grads(new, X, y)[0], grads, new


#: (name, wrong implementation, message): shown when the learner's outputs match the wrong one.
_VARIANTS = (
    (
        "no_relu_backward",
        _no_relu_backward,
        "Your W1 and b1 gradients are what you get by passing da straight through the ReLU: "
        "apply relu_backward (zero the gradient where the hidden pre-activation was <= 0).",
    ),
    (
        "gradient_ascent",
        _ascent,
        "Your new_params move along +grads: gradient descent subtracts, params - lr * grads.",
    ),
    (
        "loss_after_step",
        _loss_after_step,
        "Your loss is the loss after the update; return the loss at the parameters you were given "
        "(the one computed in the forward pass, before the step).",
    ),
)


register(
    "network.two_layer_step",
    lesson=LESSON,
    title="One training step of a two-layer network",
    reference=two_layer_step,
    cases=_cases,
    points=2,
    outputs=("loss", "grads", "new_params"),
    arg_names=("params", "X", "y", "lr"),
    variants=tuple(Variant(*v) for v in _VARIANTS),
    hints=(
        "Forward: h = X @ W1 + b1, a = relu(h), scores = a @ W2 + b2, then softmax cross-entropy.",
        "Backward in reverse order: dscores -> (da, dW2, db2) -> dh = relu backward -> (dX, dW1, db1).",
        "Build new arrays (params[k] - lr * grads[k]); params[k] -= ... would change the caller's params.",
    ),
)


# ---------------------------------------------------------------------------------------------
# network.init_regressor: the parameters of lesson 03's regression network, the fix of its
# shape-error story (W2 created (1, 1) instead of (H, M)).


def init_regressor(rng, D=3, H=2, M=1):
    """Parameters of tanh(X @ W1 + b1) @ W2 + b2: W1 (D, H), b1 (H,), W2 (H, M), b2 (M,), weights
    0.5 N(0, 1) drawn from the Generator ``rng`` in the order W1, W2; biases 0."""
    return {"W1": 0.5 * rng.standard_normal((D, H)), "b1": np.zeros(H),
            "W2": 0.5 * rng.standard_normal((H, M)), "b2": np.zeros(M)}


def _init_cases(rng):
    def case(D, H, M, note):
        return Case((), {"D": D, "H": H, "M": M}, note=note, extra={"seed": int(rng.integers(0, 2**31))})

    D, H, M = sizes(rng, 3, 2, 5)
    return [case(3, 2, 1, "the lesson's network: D = 3, H = 2, M = 1"),
            case(D, H, M, f"D = {D}, H = {H}, M = {M}"),
            case(2, 4, 3, "D = 2, H = 4, M = 3")]


def _w2_one_by_one(rng, D=3, H=2, M=1):
    return {"W1": 0.5 * rng.standard_normal((D, H)), "b1": np.zeros(H),
            "W2": 0.5 * rng.standard_normal((1, 1)), "b2": np.zeros(M)}


def _w2_transposed(rng, D=3, H=2, M=1):
    return {"W1": 0.5 * rng.standard_normal((D, H)), "b1": np.zeros(H),
            "W2": 0.5 * rng.standard_normal((M, H)), "b2": np.zeros(M)}


register(
    "network.init_regressor",
    lesson=LESSON,
    title="The regression network's parameters, with the right shapes",
    reference=init_regressor,
    cases=_init_cases,
    outputs=("params",),
    arg_names=(),
    protocol=Seeded(),
    forced=True,  # one dict of four arrays, drawn in the order the lesson gives: every answer reads the same
    variants=(
        Variant("w2_one_by_one", _w2_one_by_one,
                "Your W2 is (1, 1), the bug of the story: W2 maps the H hidden units to the M outputs, (H, M)."),
        Variant("w2_transposed", _w2_transposed,
                "Your W2 is (M, H): a layer's weight is (inputs, outputs), so W2 is (H, M)."),
    ),
    hints=("W1 (D, H) and W2 (H, M) from rng.standard_normal, times 0.5, in that order; b1 and b2 zeros.",),
)
