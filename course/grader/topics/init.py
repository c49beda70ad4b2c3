"""Initialisation and the depth problem (lesson 09): init standard deviations, PReLU, a residual
block, per-layer gradient norms."""

from __future__ import annotations

import math

import numpy as np

from ...gradients import layer_grad_norms
from ...init import kaiming_std, xavier_std
from ...layers import linear_backward, prelu_backward, prelu_forward, residual_backward, residual_forward
from ..cases import Case, away_from_zero, randn, sizes
from ..registry import Variant, register
from ..run.runner import Backward

LESSON = "09_initialization"


# ---------------------------------------------------------------------------------------------
# The two standard deviations


def _fans(rng):
    a, b = sizes(rng, 2, 3, 400)
    return int(a), int(b)


def _kaiming_cases(rng):
    (a, b), (c, d) = _fans(rng), _fans(rng)
    return [
        Case((a, b), note=f"fan_in {a}, fan_out {b}, ReLU gain (default)"),
        Case((c, d), {"mode": "fan_out"}, note=f"fan_in {c}, fan_out {d}, mode='fan_out'"),
        Case((b, a), {"gain": 5.0 / 3.0}, note=f"fan_in {b}, fan_out {a}, tanh gain 5/3"),
        Case((d, 1), {"gain": 1.0, "mode": "fan_in"}, note=f"fan_in {d}, one output, gain 1"),
    ]


def _xavier_cases(rng):
    (a, b), (c, d) = _fans(rng), _fans(rng)
    return [
        Case((a, b), note=f"fan_in {a}, fan_out {b}"),
        Case((c, d), {"gain": 5.0 / 3.0}, note=f"fan_in {c}, fan_out {d}, gain 5/3"),
        Case((1, d), note=f"fan_in 1, fan_out {d}"),
    ]


register(
    "init.kaiming_std",
    lesson=LESSON,
    title="He/Kaiming standard deviation",
    reference=kaiming_std,
    cases=_kaiming_cases,
    outputs=("std",),
    arg_names=("fan_in", "fan_out"),
    variants=(
        Variant("fan_out_for_fan_in",
                lambda fan_in, fan_out, gain=2**0.5, mode="fan_in":
                    gain / math.sqrt(fan_out if mode == "fan_in" else fan_in),
                "You divide by the wrong fan: mode='fan_in' (the default) uses fan_in, the number of "
                "inputs of each unit, so that the forward activations keep their variance."),
        Variant("missing_gain",
                lambda fan_in, fan_out, gain=2**0.5, mode="fan_in":
                    1.0 / math.sqrt(fan_in if mode == "fan_in" else fan_out),
                "You left out the gain: std = gain / sqrt(fan). For ReLU the gain is sqrt(2), because "
                "ReLU zeroes half of its inputs and so halves the second moment at every layer."),
        Variant("variance_not_std",
                lambda fan_in, fan_out, gain=2**0.5, mode="fan_in":
                    gain**2 / (fan_in if mode == "fan_in" else fan_out),
                "You returned the variance gain**2 / fan; the function returns the standard deviation, "
                "its square root: gain / sqrt(fan)."),
        Variant("gain_inside_sqrt",
                lambda fan_in, fan_out, gain=2**0.5, mode="fan_in":
                    math.sqrt(gain / (fan_in if mode == "fan_in" else fan_out)),
                "You put the gain under the square root: std = gain / sqrt(fan), not sqrt(gain / fan) "
                "(the variance is gain**2 / fan)."),
    ),
    hints=(
        "std = gain / sqrt(fan), with fan = fan_in for mode='fan_in' and fan_out for mode='fan_out'.",
        "The ReLU default gain = sqrt(2) gives std = sqrt(2 / fan_in).",
    ),
)
register(
    "init.xavier_std",
    lesson=LESSON,
    title="Xavier/Glorot standard deviation",
    reference=xavier_std,
    cases=_xavier_cases,
    outputs=("std",),
    arg_names=("fan_in", "fan_out"),
    variants=(
        Variant("fan_in_only", lambda fan_in, fan_out, gain=1.0: gain / math.sqrt(fan_in),
                "You used fan_in alone (that is LeCun's initialisation); Xavier averages the two "
                "fans: std = gain * sqrt(2 / (fan_in + fan_out))."),
        Variant("missing_two", lambda fan_in, fan_out, gain=1.0: gain * math.sqrt(1.0 / (fan_in + fan_out)),
                "You left out the 2: the variance is 2 / (fan_in + fan_out), the harmonic mean of "
                "1 / fan_in and 1 / fan_out."),
        Variant("uniform_bound", lambda fan_in, fan_out, gain=1.0: gain * math.sqrt(6.0 / (fan_in + fan_out)),
                "You returned the bound a = sqrt(6 / (fan_in + fan_out)) of the uniform version; its "
                "standard deviation is a / sqrt(3) = sqrt(2 / (fan_in + fan_out))."),
        Variant("missing_gain", lambda fan_in, fan_out, gain=1.0: math.sqrt(2.0 / (fan_in + fan_out)),
                "You ignored the gain argument: std = gain * sqrt(2 / (fan_in + fan_out))."),
    ),
    hints=("std = gain * sqrt(2 / (fan_in + fan_out)).",),
)


# ---------------------------------------------------------------------------------------------
# PReLU


def _prelu_cases(rng):
    N, D = sizes(rng, 2, 2, 6)
    return [
        Case((away_from_zero(rng, N, D), rng.uniform(0.05, 0.5, D)), note=f"N = {N}, D = {D}, a slope per feature",
             N=N),
        Case((away_from_zero(rng, N, D), np.array([0.25])), note="one shared slope alpha = [0.25]", N=N),
        Case((away_from_zero(rng, 1, D + 1), rng.uniform(-0.5, 0.5, D + 1)), note="N = 1, some negative slopes",
             N=1),
        Case((-np.abs(away_from_zero(rng, 3, D)), rng.uniform(0.1, 0.9, D)), note="only negative x", N=3),
    ]


def _prelu_backward_cases(rng):
    return [
        Case(c.args, c.kwargs, c.note, c.N, c.fd, {"dout": randn(rng, *c.args[0].shape)})
        for c in _prelu_cases(rng)
    ]


def _prelu_dalpha_not_summed(dout, cache):
    x, alpha = cache
    dx, _ = prelu_backward(dout, cache)
    return dx, np.where(x <= 0, dout * x, 0.0)


def _prelu_dalpha_all_x(dout, cache):
    x, alpha = cache
    dx, _ = prelu_backward(dout, cache)
    d = (dout * x).sum(axis=0)
    return dx, d if alpha.shape[0] > 1 else np.array([d.sum()])


def _prelu_dalpha_mean(dout, cache):
    x, alpha = cache
    dx, dalpha = prelu_backward(dout, cache)
    return dx, dalpha / x.shape[0]


def _prelu_dx_no_alpha(dout, cache):
    x, _ = cache
    return np.where(x > 0, dout, 0.0), prelu_backward(dout, cache)[1]


register(
    "init.prelu_forward",
    lesson=LESSON,
    title="PReLU forward",
    reference=prelu_forward,
    cases=_prelu_cases,
    outputs=("out", None),
    arg_names=("x", "alpha"),
    variants=(
        Variant("fixed_slope", lambda x, alpha: (np.where(x > 0, x, 0.01 * x), None),
                "You used a fixed slope 0.01 (Leaky ReLU); PReLU multiplies the negative inputs by "
                "the alpha argument, the learned slope."),
        Variant("alpha_on_positives", lambda x, alpha: (np.where(x > 0, alpha * x, x), None),
                "You multiplied the positive inputs by alpha; alpha is the slope of the NEGATIVE side: "
                "out = x where x > 0, alpha * x elsewhere."),
    ),
    hints=(
        "out = np.where(x > 0, x, alpha * x); alpha (D,) or (1,) broadcasts over the rows.",
        "Return (out, cache) with cache = (x, alpha).",
    ),
)
register(
    "init.prelu_backward",
    lesson=LESSON,
    title="PReLU backward (dx and dalpha)",
    reference=prelu_backward,
    cases=_prelu_backward_cases,
    outputs=("dx", "dalpha"),
    arg_names=("x", "alpha"),
    protocol=Backward(prelu_forward),
    variants=(
        Variant("dalpha_not_summed", _prelu_dalpha_not_summed,
                "Your dalpha has one value per entry of x; alpha is shared by every example (and, "
                "with shape (1,), by every feature), so add the contributions up: "
                "dalpha = sum of dout * x over the entries where x <= 0, shaped like alpha."),
        Variant("dalpha_all_x", _prelu_dalpha_all_x,
                "Your dalpha sums dout * x over every entry; alpha only acts where x <= 0, so only "
                "those entries contribute (use np.where(x <= 0, dout * x, 0))."),
        Variant("dalpha_mean", _prelu_dalpha_mean,
                "Your dalpha is divided by N: the gradient of a shared parameter is the SUM of the "
                "contributions (the loss already averaged over the batch in dout)."),
        Variant("dx_no_alpha", _prelu_dx_no_alpha,
                "Your dx is 0 where x <= 0, as for ReLU; there PReLU's slope is alpha, so dx = alpha * dout."),
    ),
    hints=(
        "dx = dout where x > 0, alpha * dout elsewhere.",
        "dalpha = (np.where(x <= 0, x, 0) * dout).sum(axis=0); for alpha of shape (1,), sum everything "
        "and return shape (1,).",
    ),
)


# ---------------------------------------------------------------------------------------------
# The residual block


def _residual_cases(rng):
    N, D, H = sizes(rng, 3, 2, 7)

    def block(n, d, h, scale=1.0):
        return (away_from_zero(rng, n, d), randn(rng, d, h, scale=scale), randn(rng, h, scale=0.1),
                randn(rng, h, d, scale=scale), randn(rng, d))

    return [
        Case(block(N, D, H), note=f"N = {N}, D = {D}, H = {H}", N=N, extra={"dout": randn(rng, N, D)}),
        Case(block(1, D, H), note="N = 1", N=1, extra={"dout": randn(rng, 1, D)}),
        Case(block(N, H, D, scale=1e-3), note="tiny weights: F(x) is almost 0", N=N, extra={"dout": randn(rng, N, H)}),
    ]


def _residual_no_skip(dout, cache):
    dx, *rest = residual_backward(dout, cache)
    return (dx - dout, *rest)


def _residual_only_skip(dout, cache):
    _, *rest = residual_backward(dout, cache)
    return (dout.copy(), *rest)


def _residual_no_relu_mask(dout, cache):
    x, W1, b1, z, a, W2, b2 = cache
    da, dW2, db2 = linear_backward(dout, (a, W2, b2))
    dx_F, dW1, db1 = linear_backward(da, (x, W1, b1))  # no ReLU mask
    return dout + dx_F, dW1, db1, dW2, db2


register(
    "init.residual_backward",
    lesson=LESSON,
    title="Residual block backward",
    reference=residual_backward,
    cases=_residual_cases,
    outputs=("dx", "dW1", "db1", "dW2", "db2"),
    arg_names=("x", "W1", "b1", "W2", "b2"),
    protocol=Backward(residual_forward),
    variants=(
        Variant("no_skip_gradient", _residual_no_skip,
                "Your dx only has the gradient through F; y = x + F(x) also depends on x directly, so "
                "add the identity path: dx = dout + (gradient through F)."),
        Variant("only_skip_gradient", _residual_only_skip,
                "Your dx is dout alone, the identity path; add the gradient that flows back through "
                "F's two linear layers and the ReLU."),
        Variant("no_relu_mask", _residual_no_relu_mask,
                "You did not pass the gradient through the ReLU: between the two linear layers, "
                "zero it where z = x @ W1 + b1 was <= 0."),
    ),
    hints=(
        "Backward through F as for any two-layer network: da, dW2, db2 from the second linear layer; "
        "dz = da where z > 0; dx_F, dW1, db1 from the first.",
        "Then the skip connection: dx = dout + dx_F (a sum node sends its gradient to both inputs).",
    ),
)


# ---------------------------------------------------------------------------------------------
# Gradient norm per layer


def _norm_cases(rng):
    def grads(L, width=4):
        out = {}
        for l in range(1, L + 1):
            out[f"W{l}"] = randn(rng, width, width + (l % 2), scale=10.0 ** (-l / 3))
            out[f"b{l}"] = randn(rng, width + (l % 2))
        return out

    return [
        Case((grads(3),), note="3 layers"),
        Case((grads(12),), note="12 layers (W10 comes after W9)"),
        Case(({"W1": randn(rng, 5, 2), "b1": randn(rng, 2), "gamma1": randn(rng, 2)},), note="one layer with BN keys"),
    ]


def _norms_alphabetical(grads):
    keys = sorted(k for k in grads if k.startswith("W"))
    return np.array([np.sqrt(np.sum(grads[k] ** 2)) for k in keys])


def _norms_squared(grads):
    return layer_grad_norms(grads) ** 2


def _norms_with_bias(grads):
    L = len(layer_grad_norms(grads))
    return np.array([np.sqrt(np.sum(grads[f"W{l}"] ** 2) + np.sum(grads.get(f"b{l}", 0.0) ** 2))
                     for l in range(1, L + 1)])


register(
    "init.layer_grad_norms",
    lesson=LESSON,
    title="Gradient norm per layer",
    reference=layer_grad_norms,
    cases=_norm_cases,
    outputs=("norms",),
    arg_names=("grads",),
    variants=(
        Variant("alphabetical_order", _norms_alphabetical,
                "Your layers are in alphabetical order of their keys (W1, W10, W11, W2, ...); order them "
                "by layer number: W1, W2, ..., W10."),
        Variant("squared_norm", _norms_squared,
                "You returned the squared norms; take the square root: sqrt(sum(g ** 2))."),
        Variant("bias_included", _norms_with_bias,
                "You included the biases; the plot shows the norm of each layer's WEIGHT gradient "
                "grads['Wl'] only."),
    ),
    hints=(
        "For l = 1 .. L (L = the number of keys 'W1', 'W2', ...): np.sqrt(np.sum(grads[f'W{l}'] ** 2)).",
        "Return a NumPy array of L floats, first layer first.",
    ),
)
