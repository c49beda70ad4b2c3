"""``optim.*`` (lessons 05-06): SGD and momentum updates, graded on trajectories.

Each case runs K steps of ``fn(w, g, state, **hyperparameters)`` from a fresh ``state = {}`` on a
test function, and compares the path of w with the reference's. When they differ, the learner's
path is compared with the paths of deliberately wrong variants below; the one it matches names
the bug (the first step damped, Nesterov ignored, the L2 term missing, ...). The adaptive methods
are in ``optim_adaptive.py``.
"""

from __future__ import annotations

from ...optim import momentum_classic, momentum_ema, sgd
from ..models.optim_models import with_fault
from ..registry import Variant, register
from ._trajectories import _STATE, TRAJECTORY, _case, _fresh_state

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
            with_fault("sgd", "dampened_first"),  # a buffer from zeros: the first step is damped
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
        Variant("velocity_sign", with_fault("momentum_classic", "velocity_sign"),
                "Your velocity adds + lr * g: it should subtract, v = mu * v - lr * g, then w = w + v."),
    ),
    hints=("v = mu * v - lr * g (v starts at zeros, kept in state['velocity']); w += v.",),
)


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
        Variant("weights_swapped", with_fault("momentum_ema", "weights_swapped"),
                "You swapped the weights: the average keeps beta of the old value, "
                "v = beta * v + (1 - beta) * g."),
    ),
    hints=("v = beta * v + (1 - beta) * g (v starts at zeros, kept in state['velocity']); w -= lr * v.",),
)
