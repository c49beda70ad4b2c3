"""Optimizer update functions (lessons 05-07), graded on trajectories.

Each case runs K steps of ``fn(w, g, state, **hyperparameters)`` from a fresh ``state = {}`` on a
test function, and compares the path of w with the reference's. When they differ, the learner's
path is compared with the paths of deliberately wrong variants below; the one it matches names
the bug (no bias correction, eps inside the square root, L2 instead of decoupled decay, ...).
"""

from __future__ import annotations

import numpy as np

from ... import functions as _functions
from ...functions import Bowl as _Bowl
from ...optim import adagrad, adam, adamw, momentum_classic, momentum_ema, rmsprop, sgd
from ..cases import Case
from ..registry import Variant, register
from ..runner import Trajectory

STEPS = 20


def _lookup(name):
    return _Bowl() if name == "bowl5" else _functions.FUNCTIONS[name]


TRAJECTORY = Trajectory(_lookup)


def _case(rng, function, w0, note, steps=STEPS, **hp):
    w0 = np.asarray(w0, dtype=np.float64) + rng.uniform(-0.1, 0.1, len(w0))
    return Case(kwargs=hp, note=note, extra={"function": function, "w0": w0, "steps": steps})


def _fresh_state(update):
    """The state-not-kept bug: every step starts from an empty state."""
    return lambda w, g, state, **hp: update(w, g, {}, **hp)


_STATE = (
    "Your optimizer forgets its state between steps: each step behaves like the first. Store "
    "the running buffers back into the state dict (state['...'] = ...), and update the dict you "
    "were given rather than making a new one."
)


# ---------------------------------------------------------------------------------------------
# Deliberately wrong versions (the grader's own code), used to name a learner's bug


def _adam_family(w, g, state, *, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
                 decoupled=False, bias_correction=True, step="before"):
    """Adam/AdamW with switches for the usual mistakes. ``step``: "before" (right), "after"
    (incremented after the bias correction), "never" (always bias-corrects with t = 1)."""
    b1, b2 = betas
    t = state.get("step", 0)
    t_used = t + 1 if step == "before" else (t if step == "after" else 1)
    if decoupled:
        w *= 1 - lr * weight_decay
    elif weight_decay:
        g = g + weight_decay * w
    m = state["exp_avg"] = b1 * state.get("exp_avg", 0.0) + (1 - b1) * g
    v = state["exp_avg_sq"] = b2 * state.get("exp_avg_sq", 0.0) + (1 - b2) * g * g
    if amsgrad:
        v = state["max_exp_avg_sq"] = np.maximum(state.get("max_exp_avg_sq", 0.0), v)
    if bias_correction:
        with np.errstate(all="ignore"):
            m, v = m / (1 - b1**t_used), v / (1 - b2**t_used)
    with np.errstate(all="ignore"):
        w -= lr * m / (np.sqrt(v) + eps)
    state["step"] = t + 1
    return w


def _adam_variant(decoupled=False, **bug):
    return lambda w, g, state, **hp: _adam_family(w, g, state, decoupled=decoupled, **hp, **bug)


def _adam_eps_inside(decoupled):
    def update(w, g, state, *, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False):
        b1, b2 = betas
        t = state["step"] = state.get("step", 0) + 1
        if decoupled:
            w *= 1 - lr * weight_decay
        elif weight_decay:
            g = g + weight_decay * w
        m = state["exp_avg"] = b1 * state.get("exp_avg", 0.0) + (1 - b1) * g
        v = state["exp_avg_sq"] = b2 * state.get("exp_avg_sq", 0.0) + (1 - b2) * g * g
        if amsgrad:
            v = state["max_exp_avg_sq"] = np.maximum(state.get("max_exp_avg_sq", 0.0), v)
        w -= lr * (m / (1 - b1**t)) / np.sqrt(v / (1 - b2**t) + eps)
        return w

    return update


_EPS = (
    "You put eps inside the square root: sqrt(v_hat + eps). The course (like PyTorch) adds it "
    "after: sqrt(v_hat) + eps."
)


def _adam_variants(decoupled: bool):
    out = [
        Variant(
            "no_bias_correction",
            _adam_variant(decoupled, bias_correction=False),
            "Your steps match Adam without bias correction: divide m by (1 - beta1**t) and v by "
            "(1 - beta2**t), with t the step number (1 on the first step).",
        ),
        Variant(
            "step_after_bias_correction",
            _adam_variant(decoupled, step="after"),
            "Your first step divides by 1 - beta**0 = 0: increment state['step'] *before* using it in "
            "the bias correction (t = 1 on the first step).",
        ),
        Variant(
            "step_not_incremented",
            _adam_variant(decoupled, step="never"),
            "Your bias correction always uses t = 1: increment state['step'] on every call and use "
            "the new value.",
        ),
        Variant("eps_inside_sqrt", _adam_eps_inside(decoupled), _EPS),
        Variant("state_not_updated", _fresh_state(_adam_variant(decoupled)), _STATE),
    ]
    if decoupled:
        out.append(Variant(
            "l2_instead_of_decoupled",
            _adam_variant(False),
            "You applied weight decay the L2 way (g = g + weight_decay * w, then divided by sqrt(v)); "
            "AdamW decouples it: shrink the weights directly, w = w * (1 - lr * weight_decay), "
            "before the Adam step.",
        ))
    else:
        out.append(Variant(
            "decoupled_instead_of_l2",
            _adam_variant(True),
            "You applied decoupled weight decay (w = w * (1 - lr * weight_decay)), which is AdamW's; "
            "Adam's weight_decay is an L2 term added to the gradient: g = g + weight_decay * w.",
        ))
    return tuple(out)


def _adam_cases(rng, adamw_default=False):
    return [
        _case(rng, "quadratic", (-4.0, 2.0), "quadratic, lr = 0.1", lr=0.1, betas=(0.9, 0.999), eps=1e-8,
              weight_decay=0.01 if adamw_default else 0.0, amsgrad=False),
        _case(rng, "rosenbrock", (-1.2, 1.0), "rosenbrock, lr = 0.01", lr=0.01, betas=(0.9, 0.999),
              eps=1e-8, weight_decay=0.0, amsgrad=False),
        _case(rng, "beale", (1.0, 1.5), "beale, eps = 0.1", lr=0.05, betas=(0.8, 0.99), eps=0.1,
              weight_decay=0.0, amsgrad=False),
        _case(rng, "bowl5", (1.0, -2.0, 1.5, 0.5, -0.3), "5-D bowl, weight_decay = 0.5", lr=0.1,
              betas=(0.9, 0.999), eps=1e-8, weight_decay=0.5, amsgrad=False),
        _case(rng, "quadratic", (3.0, -2.0), "quadratic, amsgrad", lr=0.3, betas=(0.5, 0.6), eps=1e-8,
              weight_decay=0.0, amsgrad=True),
    ]


register(
    "optim.adam",
    lesson="07_adaptive",
    title="Adam update",
    reference=adam,
    cases=_adam_cases,
    outputs=("path",),
    protocol=TRAJECTORY,
    variants=_adam_variants(decoupled=False),
    hints=(
        "t = state['step'] = state.get('step', 0) + 1 first; then m, v; then m_hat, v_hat; "
        "w -= lr * m_hat / (sqrt(v_hat) + eps).",
        "Adam's weight_decay adds weight_decay * w to the gradient before the moments.",
        "With amsgrad, keep the running maximum of v in state['max_exp_avg_sq'] and use it for v_hat.",
        "Update w in place (w -= ...) and return w.",
    ),
)
register(
    "optim.adamw",
    lesson="07_adaptive",
    title="AdamW update",
    reference=adamw,
    cases=lambda rng: _adam_cases(rng, adamw_default=True),
    outputs=("path",),
    protocol=TRAJECTORY,
    variants=_adam_variants(decoupled=True),
    hints=(
        "First shrink the weights: w *= 1 - lr * weight_decay; then exactly Adam's step with no "
        "weight decay in the gradient.",
    ),
)


# ---------------------------------------------------------------------------------------------
# SGD and momentum


def _sgd_l2_missing(w, g, state, *, lr, weight_decay=0.0, **hp):
    return sgd(w, g, state, lr=lr, **hp)


register(
    "optim.sgd",
    lesson="05_gradient_descent",
    title="Gradient descent step",
    reference=sgd,
    cases=lambda rng: [
        _case(rng, "quadratic", (-4.0, 2.0), "quadratic, lr = 0.05", lr=0.05),
        _case(rng, "rosenbrock", (-1.2, 1.0), "rosenbrock, lr = 0.001", lr=0.001),
        _case(rng, "bowl5", (1.0, -2.0, 1.5, 0.5, -0.3), "5-D bowl, lr = 0.04", lr=0.04),
        _case(rng, "saddle", (1.5, 0.01), "saddle, weight_decay = 0.3", lr=0.1, weight_decay=0.3),
    ],
    outputs=("path",),
    protocol=TRAJECTORY,
    variants=(
        Variant(
            "gradient_ascent",
            lambda w, g, state, *, lr, weight_decay=0.0: sgd(w, -g - 2 * weight_decay * w, state, lr=lr,
                                                             weight_decay=weight_decay),
            "Your steps go uphill: gradient descent moves against the gradient, w = w - lr * g.",
        ),
        Variant(
            "weight_decay_ignored",
            _sgd_l2_missing,
            "You ignored weight_decay: add weight_decay * w to the gradient before the step.",
        ),
    ),
    hints=("w -= lr * (g + weight_decay * w); update w in place and return it.",),
)


def _sgd_first_step_damped(w, g, state, *, lr, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0):
    if "momentum_buffer" not in state:
        state["momentum_buffer"] = np.zeros_like(w)
    return sgd(w, g, state, lr=lr, momentum=momentum, dampening=dampening, nesterov=nesterov,
               weight_decay=weight_decay)


def _sgd_nesterov_ignored(w, g, state, *, nesterov=False, **hp):
    return sgd(w, g, state, **hp)


register(
    "optim.sgd_momentum",
    lesson="06_momentum",
    title="SGD with momentum (PyTorch's form)",
    reference=sgd,
    cases=lambda rng: [
        _case(rng, "quadratic", (-4.0, 2.0), "quadratic, momentum = 0.9", lr=0.02, momentum=0.9),
        _case(rng, "rosenbrock", (-1.2, 1.0), "rosenbrock, momentum = 0.8", lr=0.0005, momentum=0.8),
        _case(rng, "quadratic", (3.0, -1.0), "quadratic, dampening = 0.5", lr=0.05, momentum=0.7,
              dampening=0.5),
        _case(rng, "bowl5", (1.0, -2.0, 1.5, 0.5, -0.3), "5-D bowl, nesterov", lr=0.02, momentum=0.9,
              nesterov=True),
        _case(rng, "saddle", (1.5, 0.01), "saddle, weight_decay = 0.2", lr=0.05, momentum=0.5,
              weight_decay=0.2),
    ],
    outputs=("path",),
    protocol=TRAJECTORY,
    variants=(
        Variant("state_not_updated", _fresh_state(sgd), _STATE),
        Variant(
            "first_step_from_zero",
            _sgd_first_step_damped,
            "Your buffer starts at zeros; PyTorch's SGD sets it to the gradient itself on the first "
            "step (b = g), and applies momentum and dampening only from the second step on.",
        ),
        Variant(
            "nesterov_ignored",
            _sgd_nesterov_ignored,
            "With nesterov=True the step uses g + momentum * b instead of b.",
        ),
    ),
    hints=(
        "First step: b = g (a copy). Later: b = momentum * b + (1 - dampening) * g. "
        "Step with b (or g + momentum * b with nesterov). Keep b in state['momentum_buffer'].",
    ),
)


def _classic_swapped(w, g, state, *, lr, mu):
    v = state["velocity"] = mu * state.get("velocity", np.zeros_like(w)) + lr * g
    w += v
    return w


register(
    "optim.momentum_classic",
    lesson="06_momentum",
    title="Momentum (velocity form)",
    reference=momentum_classic,
    cases=lambda rng: [
        _case(rng, "quadratic", (-4.0, 2.0), "quadratic, mu = 0.9", lr=0.02, mu=0.9),
        _case(rng, "rosenbrock", (-1.2, 1.0), "rosenbrock, mu = 0.8", lr=0.0005, mu=0.8),
        _case(rng, "bowl5", (1.0, -2.0, 1.5, 0.5, -0.3), "5-D bowl, mu = 0.5", lr=0.04, mu=0.5),
    ],
    outputs=("path",),
    protocol=TRAJECTORY,
    variants=(
        Variant("state_not_updated", _fresh_state(momentum_classic), _STATE),
        Variant("velocity_sign", _classic_swapped,
                "Your velocity adds + lr * g: it should subtract, v = mu * v - lr * g, then w = w + v."),
    ),
    hints=("v = mu * v - lr * g (v starts at zeros, kept in state['velocity']); w += v.",),
)


def _ema_swapped(w, g, state, *, lr, beta):
    v = state["velocity"] = (1 - beta) * state.get("velocity", np.zeros_like(w)) + beta * g
    w -= lr * v
    return w


register(
    "optim.momentum_ema",
    lesson="06_momentum",
    title="Momentum (moving-average form)",
    reference=momentum_ema,
    cases=lambda rng: [
        _case(rng, "quadratic", (-4.0, 2.0), "quadratic, beta = 0.9", lr=0.2, beta=0.9),
        _case(rng, "rosenbrock", (-1.2, 1.0), "rosenbrock, beta = 0.8", lr=0.002, beta=0.8),
        _case(rng, "bowl5", (1.0, -2.0, 1.5, 0.5, -0.3), "5-D bowl, beta = 0.5", lr=0.05, beta=0.5),
    ],
    outputs=("path",),
    protocol=TRAJECTORY,
    variants=(
        Variant("state_not_updated", _fresh_state(momentum_ema), _STATE),
        Variant("weights_swapped", _ema_swapped,
                "You swapped the weights: the average keeps beta of the old value, "
                "v = beta * v + (1 - beta) * g."),
    ),
    hints=("v = beta * v + (1 - beta) * g (v starts at zeros, kept in state['velocity']); w -= lr * v.",),
)


# ---------------------------------------------------------------------------------------------
# AdaGrad and RMSprop


def _adagrad_eps_inside(w, g, state, *, lr=1e-2, lr_decay=0.0, weight_decay=0.0, eps=1e-10):
    t = state["step"] = state.get("step", 0) + 1
    if weight_decay:
        g = g + weight_decay * w
    s = state["sum"] = state.get("sum", 0.0) + g * g
    w -= lr / (1 + (t - 1) * lr_decay) * g / np.sqrt(s + eps)
    return w


register(
    "optim.adagrad",
    lesson="07_adaptive",
    title="AdaGrad update",
    reference=adagrad,
    cases=lambda rng: [
        _case(rng, "quadratic", (-4.0, 2.0), "quadratic, lr = 0.5", lr=0.5, lr_decay=0.0, weight_decay=0.0,
              eps=1e-10),
        _case(rng, "rosenbrock", (-1.2, 1.0), "rosenbrock, lr = 0.05", lr=0.05, lr_decay=0.0,
              weight_decay=0.0, eps=1e-10),
        _case(rng, "beale", (1.0, 1.5), "beale, eps = 0.5", lr=0.3, lr_decay=0.0, weight_decay=0.0, eps=0.5),
        _case(rng, "bowl5", (1.0, -2.0, 1.5, 0.5, -0.3), "5-D bowl, lr_decay and weight_decay", lr=0.5,
              lr_decay=0.1, weight_decay=0.2, eps=1e-10),
    ],
    outputs=("path",),
    protocol=TRAJECTORY,
    variants=(
        Variant("eps_inside_sqrt", _adagrad_eps_inside, _EPS.replace("v_hat", "sum")),
        Variant("state_not_updated", _fresh_state(adagrad), _STATE),
    ),
    hints=(
        "t = step + 1; lr_t = lr / (1 + (t - 1) * lr_decay); sum += g * g; "
        "w -= lr_t * g / (sqrt(sum) + eps).",
    ),
)


def _rmsprop_eps_inside(w, g, state, *, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                        centered=False):
    state["step"] = state.get("step", 0) + 1
    if weight_decay:
        g = g + weight_decay * w
    v = state["square_avg"] = alpha * state.get("square_avg", 0.0) + (1 - alpha) * g * g
    if centered:
        m = state["grad_avg"] = alpha * state.get("grad_avg", 0.0) + (1 - alpha) * g
        d = np.sqrt(v - m * m + eps)
    else:
        d = np.sqrt(v + eps)
    if momentum > 0:
        b = state["momentum_buffer"] = momentum * state.get("momentum_buffer", 0.0) + g / d
        w -= lr * b
    else:
        w -= lr * g / d
    return w


def _rmsprop_swapped(w, g, state, *, alpha=0.99, **hp):
    return rmsprop(w, g, state, alpha=1 - alpha, **hp)


register(
    "optim.rmsprop",
    lesson="07_adaptive",
    title="RMSprop update",
    reference=rmsprop,
    cases=lambda rng: [
        _case(rng, "quadratic", (-4.0, 2.0), "quadratic, alpha = 0.9", lr=0.05, alpha=0.9, eps=1e-8,
              weight_decay=0.0, momentum=0.0, centered=False),
        _case(rng, "rosenbrock", (-1.2, 1.0), "rosenbrock, alpha = 0.99", lr=0.005, alpha=0.99, eps=1e-8,
              weight_decay=0.0, momentum=0.0, centered=False),
        _case(rng, "beale", (1.0, 1.5), "beale, eps = 0.1", lr=0.02, alpha=0.9, eps=0.1,
              weight_decay=0.0, momentum=0.0, centered=False),
        _case(rng, "bowl5", (1.0, -2.0, 1.5, 0.5, -0.3), "5-D bowl, momentum and weight_decay", lr=0.01,
              alpha=0.9, eps=1e-8, weight_decay=0.1, momentum=0.5, centered=False),
        _case(rng, "quadratic", (3.0, -1.0), "quadratic, centered", lr=0.01, alpha=0.9, eps=1e-8,
              weight_decay=0.0, momentum=0.0, centered=True),
    ],
    outputs=("path",),
    protocol=TRAJECTORY,
    variants=(
        Variant("eps_inside_sqrt", _rmsprop_eps_inside, _EPS.replace("v_hat", "v")),
        Variant("state_not_updated", _fresh_state(rmsprop), _STATE),
        Variant("weights_swapped", _rmsprop_swapped,
                "You swapped the weights of the running average: v = alpha * v + (1 - alpha) * g * g."),
    ),
    hints=(
        "v = alpha * v + (1 - alpha) * g * g in state['square_avg']; w -= lr * g / (sqrt(v) + eps).",
        "centered: also m = alpha * m + (1 - alpha) * g, and divide by sqrt(v - m * m) + eps.",
        "momentum > 0: b = momentum * b + g / (sqrt(v) + eps); w -= lr * b.",
    ),
)
