"""``optim.*`` (lesson 07): Adam, AdamW, AdaGrad and RMSprop, graded on trajectories.

As in ``optim.py``: when the learner's path differs from the reference's, the paths of
deliberately wrong variants name the bug (no bias correction, eps inside the square root, L2
instead of decoupled decay, ...).
"""

from __future__ import annotations

from ...optim import adagrad, adam, adamw, rmsprop
from ..models.optim_models import with_fault
from ..registry import Variant, register
from ._trajectories import _STATE, TRAJECTORY, _case, _fresh_state

# ---------------------------------------------------------------------------------------------
# Deliberately wrong versions (the grader's own code), used to name a learner's bug


def _adam_variant(decoupled=False, fault=""):
    """Adam (AdamW with ``decoupled``) with one fault of the grader's one Adam model."""
    return with_fault("adam", fault, decoupled=decoupled)


_EPS = (
    "You put eps inside the square root: sqrt(v_hat + eps). The course (like PyTorch) adds it "
    "after: sqrt(v_hat) + eps."
)


def _adam_variants(decoupled: bool):
    out = [
        Variant(
            "no_bias_correction",
            _adam_variant(decoupled, "no_bias_correction"),
            "Your steps match Adam without bias correction: divide m by (1 - beta1**t) and v by "
            "(1 - beta2**t), with t the step number (1 on the first step).",
        ),
        Variant(
            "step_after_bias_correction",
            _adam_variant(decoupled, "step_after_bias_correction"),
            "Your first step divides by 1 - beta**0 = 0: increment state['step'] *before* using it in "
            "the bias correction (t = 1 on the first step).",
        ),
        Variant(
            "step_not_incremented",
            _adam_variant(decoupled, "step_not_incremented"),
            "Your bias correction always uses t = 1: increment state['step'] on every call and use "
            "the new value.",
        ),
        Variant("eps_inside_sqrt", _adam_variant(decoupled, "eps_inside_sqrt"), _EPS),
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
# AdaGrad and RMSprop


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
        Variant("eps_inside_sqrt", with_fault("adagrad", "eps_inside_sqrt"), _EPS.replace("v_hat", "sum")),
        Variant("state_not_updated", _fresh_state(adagrad), _STATE),
    ),
    hints=(
        "t = step + 1; lr_t = lr / (1 + (t - 1) * lr_decay); sum += g * g; "
        "w -= lr_t * g / (sqrt(sum) + eps).",
    ),
)


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
        Variant("eps_inside_sqrt", with_fault("rmsprop", "eps_inside_sqrt"), _EPS.replace("v_hat", "v")),
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
