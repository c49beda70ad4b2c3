"""Each optimizer family's update, written once with switches for one fault at a time.

``update(w, g, state, *, fault="", **hyperparameters)`` is the right update with ``fault=""``
(PyTorch's semantics, as :mod:`course.optim`); each name in the family's fault list changes one
term: where lr, the decay or eps enters, which bias-correction power, m vs m-hat, g vs g*g, a
state kept or lost, the order of two updates. The messages say it in the learner's terms.
:data:`MODELS` maps the reference's name to ``(update, ((fault, message), ...))``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["MODELS"]

_LOST = ("state_lost", "Every step of yours behaves like a first step: the running buffers are not kept. Store "
         "them back into the state dict you were given (state['...'] = ...), do not start a new one.")


def _sgd(w, g, state, *, lr, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0, fault=""):
    if fault == "state_lost":
        state.clear()
    if weight_decay and fault not in ("wd_after_momentum", "wd_no_lr", "wd_ignored"):
        g = g + (-weight_decay if fault == "wd_sign" else weight_decay) * w
    if momentum:
        buf = state.get("momentum_buffer")
        if buf is None:
            buf = (1 - dampening) * g if fault == "dampened_first" else g.copy()
        else:
            buf = momentum * buf + (1.0 if fault == "no_dampening" else 1 - dampening) * g
        old = state.get("momentum_buffer", buf)
        state["momentum_buffer"] = buf
        if nesterov and fault != "nesterov_ignored":
            g = g + momentum * (old if fault == "nesterov_old" else buf)
        else:
            g = buf
    if weight_decay and fault == "wd_after_momentum":
        g = g + weight_decay * w
    if weight_decay and fault == "wd_no_lr":
        w -= weight_decay * w
    w -= lr * g
    return w


_SGD = (
    ("wd_no_lr", "With g = 0 your step shrinks w by weight_decay * w, not by lr * weight_decay * w: "
                 "the decay must go through the learning rate, w -= lr * (g + weight_decay * w)."),
    ("wd_sign", "With g = 0 your step pushes w away from 0: weight decay adds +weight_decay * w to the "
                "gradient (g + weight_decay * w), it does not subtract it."),
    ("wd_ignored", "With g = 0 your step leaves w where it is, though weight_decay > 0: add weight_decay * w "
                   "to the gradient."),
    ("no_dampening", "Your buffer adds the whole gradient every step: with dampening it is "
                     "buf = momentum * buf + (1 - dampening) * g (after the first step, which copies g)."),
    ("dampened_first", "Your first step is (1 - dampening) times too short: PyTorch's first step copies the "
                       "gradient into the buffer undamped (buf = g), dampening applies from step 2."),
    ("nesterov_old", "Your Nesterov look-ahead uses the buffer from before this step; it is "
                     "g + momentum * buf with the buffer just updated."),
    ("nesterov_ignored", "Your steps are plain momentum: with nesterov=True the step uses "
                         "g + momentum * buf instead of buf."),
    ("wd_after_momentum", "You add weight_decay * w after the momentum buffer; it belongs to the gradient "
                          "before the buffer is updated (g = g + weight_decay * w first)."),
    _LOST,
)


def _classic(w, g, state, *, lr, mu, fault=""):
    if fault == "state_lost":
        state.clear()
    v = state.get("velocity", np.zeros_like(w))
    if fault == "position_first":
        w += v
        state["velocity"] = mu * v - lr * g
        return w
    v = mu * (v - lr * g) if fault == "mu_on_all" else mu * v + (lr * g if fault == "velocity_sign" else -lr * g)
    state["velocity"] = v
    w += v
    return w


_CLASSIC = (
    ("position_first", "Your first step does not move w at all: you add the old velocity to w and update the "
                       "velocity afterwards. Update v = mu * v - lr * g first, then w = w + v."),
    ("mu_on_all", "Your first step is mu times too short: mu multiplies only the old velocity, "
                  "v = mu * v - lr * g, not mu * (v - lr * g)."),
    ("velocity_sign", "Your steps go uphill: the velocity subtracts the gradient, v = mu * v - lr * g."),
    _LOST,
)


def _ema(w, g, state, *, lr, beta, fault=""):
    if fault == "state_lost":
        state.clear()
    t = state["t"] = state.get("t", 0) + 1
    v = state.get("velocity", np.zeros_like(w))
    v = beta * v + (g if fault == "no_one_minus_beta" else (1 - beta) * g)
    state["velocity"] = v
    w -= lr * (v / (1 - beta**t) if fault == "bias_corrected" else v)
    return w


_EMA = (
    ("no_one_minus_beta", "Your first step is 1 / (1 - beta) times too long: the average weighs the new "
                          "gradient by (1 - beta), v = beta * v + (1 - beta) * g."),
    ("bias_corrected", "Your first step is a full lr * g: you divide v by 1 - beta**t (a bias correction); "
                       "this exercise's EMA momentum has none, w = w - lr * v."),
    _LOST,
)


def _adagrad(w, g, state, *, lr=1e-2, lr_decay=0.0, weight_decay=0.0, eps=1e-10, fault=""):
    if fault == "state_lost":
        state.clear()
    t = state["step"] = state.get("step", 0) + 1
    if weight_decay and fault != "wd_ignored":
        g = g + weight_decay * w
    gg = g if fault == "sum_of_g" else g * g
    s = state["sum"] = state.get("sum", 0.0) + gg
    k = {"decay_off_by_one": t, "decay_ignored": 0}.get(fault, t - 1)
    with np.errstate(all="ignore"):
        w -= lr / (1 + k * lr_decay) * g / (np.sqrt(s) + eps)
    return w


_ADAGRAD = (
    ("sum_of_g", "Your running sum adds g, not g * g (g squared): the sum can turn negative and sqrt of it is "
                 "NaN. Accumulate sum += g * g."),
    ("decay_off_by_one", "Your learning rate decays one step early: on step t (from 1) it is "
                         "lr / (1 + (t - 1) * lr_decay), so the first step uses lr itself."),
    ("decay_ignored", "Your steps ignore lr_decay: the rate on step t is lr / (1 + (t - 1) * lr_decay)."),
    ("wd_ignored", "Your steps ignore weight_decay: add weight_decay * w to the gradient first."),
    _LOST,
)


def _rmsprop(w, g, state, *, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False,
             fault=""):
    if fault == "state_lost":
        state.clear()
    if weight_decay:
        g = g + weight_decay * w
    v = state["square_avg"] = alpha * state.get("square_avg", 0.0) + (1 - alpha) * (g if fault == "v_of_g"
                                                                                    else g * g)
    with np.errstate(all="ignore"):
        if centered:
            mg = state["grad_avg"] = alpha * state.get("grad_avg", 0.0) + (1 - alpha) * g
            avg = np.sqrt(v - (mg if fault == "centered_no_square" else mg * mg)) + eps
        else:
            avg = np.sqrt(v) + eps
        if momentum:
            buf = state["momentum_buffer"] = momentum * state.get("momentum_buffer", 0.0) + g / avg
            w -= lr * buf
        else:
            w -= lr * g / avg
    return w


_RMSPROP = (
    ("v_of_g", "Your running average is of g, not of g * g: the square root of a negative average is NaN. "
               "square_avg = alpha * square_avg + (1 - alpha) * g * g."),
    ("centered_no_square", "With centered=True you subtract the average gradient itself; the centered "
                           "variance subtracts its square: sqrt(square_avg - grad_avg ** 2)."),
    _LOST,
)


def _adam(w, g, state, *, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, fault="",
          decoupled=False):
    if fault == "state_lost":
        state.clear()
    b1, b2 = betas
    if fault == "betas_swapped":
        b1, b2 = b2, b1
    t = state["step"] = state.get("step", 0) + 1
    if decoupled:
        w *= 1 - (1.0 if fault == "wd_no_lr" else lr) * weight_decay
    elif weight_decay:
        g = g + weight_decay * w
    m = state["m"] = b1 * state.get("m", 0.0) + (1 - b1) * g
    v = state["v"] = b2 * state.get("v", 0.0) + (1 - b2) * (g if fault == "v_of_g" else g * g)
    if amsgrad and fault != "amsgrad_ignored":
        v = state["vmax"] = np.maximum(state.get("vmax", 0.0), v)
    p = t + 1 if fault == "power_plus_one" else t
    with np.errstate(all="ignore"):
        m_hat = m if fault == "m_not_corrected" else m / (1 - b1**p)
        v_hat = v if fault == "v_not_corrected" else v / (1 - b2**p)
        if fault == "eps_outside_division":
            w -= lr * m_hat / np.sqrt(v_hat) + eps
        elif fault == "no_sqrt":
            w -= lr * m_hat / (v_hat + eps)
        else:
            w -= lr * m_hat / (np.sqrt(v_hat) + eps)
    return w


_ADAM = (
    ("m_not_corrected", "Your first step moves by lr * (1 - beta1) * g / (|g| + eps): you used m, not "
                        "m_hat = m / (1 - beta1 ** t)."),
    ("v_not_corrected", "Your first step is sqrt(1 - beta2) times too short: you divide by sqrt(v), "
                        "not sqrt(v_hat) with v_hat = v / (1 - beta2 ** t)."),
    ("power_plus_one", "Your bias correction uses the power t + 1: on the first step it must be "
                       "1 - beta ** 1 (t counts from 1), e.g. m_hat = m / (1 - beta1 ** t)."),
    ("v_of_g", "Your second moment averages g, not g * g (g squared): sqrt of a negative average is NaN. "
               "v = beta2 * v + (1 - beta2) * g * g."),
    ("eps_outside_division", "You add eps to the step itself (lr * m_hat / sqrt(v_hat) + eps), so even g = 0 "
                             "moves w by eps; eps belongs in the denominator: lr * m_hat / (sqrt(v_hat) + eps)."),
    ("no_sqrt", "You divide by v_hat itself; Adam divides by its square root: sqrt(v_hat) + eps."),
    ("betas_swapped", "Your first step is right but the next ones are not: beta1 and beta2 are swapped "
                      "(beta1 = betas[0] averages g, beta2 = betas[1] averages g * g)."),
    ("amsgrad_ignored", "With amsgrad=True keep the running maximum of v (v_max = maximum(v_max, v)) and "
                        "divide by its square root."),
    _LOST,
)

_ADAMW = (
    ("wd_no_lr", "With g = 0 your step shrinks w by weight_decay * w: the decoupled decay goes through the "
                 "learning rate, w = w * (1 - lr * weight_decay)."),
) + _ADAM


def _adamw(w, g, state, *, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, fault=""):
    return _adam(w, g, state, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                 fault=fault, decoupled=True)


MODELS = {
    "sgd": (_sgd, _SGD),
    "momentum_classic": (_classic, _CLASSIC),
    "momentum_ema": (_ema, _EMA),
    "adagrad": (_adagrad, _ADAGRAD),
    "rmsprop": (_rmsprop, _RMSPROP),
    "adam": (_adam, _ADAM),
    "adamw": (_adamw, _ADAMW),
}
