"""Lessons 06 (momentum) and 07 (adaptive methods): update functions fn(w, g, state, **hp)."""

import numpy as np


def ema_power_off(x, beta, bias_correction=False):
    out, v = [], 0.0
    for t in range(1, len(x) + 1):
        v = beta * v + (1 - beta) * x[t - 1]
        out.append(v / (1 - beta ** (t + 1)) if bias_correction else v)
    return np.array(out)


def ema_corrects_state(x, beta, bias_correction=False):
    out, v = [], 0.0
    for t in range(1, len(x) + 1):
        v = beta * v + (1 - beta) * x[t - 1]
        if bias_correction:
            v = v / (1 - beta**t)
        out.append(v)
    return np.array(out)


def ema_closed_form(x, beta, bias_correction=False):  # correct, without a loop
    x = np.asarray(x, dtype=float)
    T = len(x)
    t = np.arange(1, T + 1)
    lag = t[:, None] - t[None, :]
    w = np.where(lag >= 0, (1 - beta) * float(beta) ** np.maximum(lag, 0), 0.0)
    v = w @ x
    return v / (1 - beta**t) if bias_correction else v


def _sgd(w, g, state, lr, momentum, dampening, nesterov, weight_decay, bug=""):
    if weight_decay and bug != "wd_after":
        g = g + weight_decay * w
    if momentum:
        buf = state.get("momentum_buffer")
        if buf is None:
            buf = g.copy()
        elif bug == "no_dampening":
            buf = momentum * buf + g
        else:
            buf = momentum * buf + (1 - dampening) * g
        old = state.get("momentum_buffer", buf)
        state["momentum_buffer"] = buf
        if nesterov:
            g = g + momentum * (old if bug == "nesterov_old" else buf)
        else:
            g = buf
    if weight_decay and bug == "wd_after":
        g = g + weight_decay * w
    w -= lr * g
    return w


def _sgd_bug(bug):
    def update(w, g, state, *, lr, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0):
        return _sgd(w, g, state, lr, momentum, dampening, nesterov, weight_decay, bug)

    return update


def classic_position_first(w, g, state, *, lr, mu):
    v = state.get("velocity", np.zeros_like(w))
    w += v
    state["velocity"] = mu * v - lr * g
    return w


def classic_mu_on_all(w, g, state, *, lr, mu):
    v = state.get("velocity", np.zeros_like(w))
    v = mu * (v - lr * g)
    state["velocity"] = v
    w += v
    return w


def classic_lr_outside(w, g, state, *, lr, mu):  # correct with a constant lr
    u = state.get("u", np.zeros_like(w))
    u = mu * u - g
    state["u"] = u
    state["velocity"] = lr * u
    w += lr * u
    return w


def ema_no_one_minus_beta(w, g, state, *, lr, beta):
    v = state.get("velocity", np.zeros_like(w))
    v = beta * v + g
    state["velocity"] = v
    w -= lr * v
    return w


def ema_bias_corrected(w, g, state, *, lr, beta):
    t = state["t"] = state.get("t", 0) + 1
    v = state.get("velocity", np.zeros_like(w))
    v = beta * v + (1 - beta) * g
    state["velocity"] = v
    w -= lr * v / (1 - beta**t)
    return w


def _adam(w, g, state, lr, betas, eps, weight_decay, amsgrad, decoupled, bug=""):
    b1, b2 = betas
    if bug == "betas_swapped":
        b1, b2 = b2, b1
    t = state["step"] = state.get("step", 0) + 1
    if decoupled:
        w *= 1 - (1.0 if bug == "wd_no_lr" else lr) * weight_decay
    elif weight_decay:
        g = g + weight_decay * w
    m = state["exp_avg"] = b1 * state.get("exp_avg", 0.0) + (1 - b1) * g
    gg = g if bug == "v_of_g" else g * g
    v = state["exp_avg_sq"] = b2 * state.get("exp_avg_sq", 0.0) + (1 - b2) * gg
    if amsgrad:
        v = state["max_exp_avg_sq"] = np.maximum(state.get("max_exp_avg_sq", 0.0), v)
    p = t + 1 if bug == "power_plus_one" else t
    m_hat = m if bug == "m_not_corrected" else m / (1 - b1**p)
    v_hat = v / (1 - b2**p)
    if bug == "eps_outside_division":
        w -= lr * m_hat / np.sqrt(v_hat) + eps
    else:
        w -= lr * m_hat / (np.sqrt(v_hat) + eps)
    return w


def _adam_bug(bug, decoupled=False, default_wd=0.0):
    def update(w, g, state, *, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=default_wd, amsgrad=False):
        return _adam(w, g, state, lr, betas, eps, weight_decay, amsgrad, decoupled, bug)

    return update


def adagrad_sum_of_g(w, g, state, *, lr=1e-2, lr_decay=0.0, weight_decay=0.0, eps=1e-10):
    t = state["step"] = state.get("step", 0) + 1
    if weight_decay:
        g = g + weight_decay * w
    s = state["sum"] = state.get("sum", 0.0) + g
    w -= lr / (1 + (t - 1) * lr_decay) * g / (np.sqrt(s) + eps)
    return w


def adagrad_decay_off_by_one(w, g, state, *, lr=1e-2, lr_decay=0.0, weight_decay=0.0, eps=1e-10):
    t = state["step"] = state.get("step", 0) + 1
    if weight_decay:
        g = g + weight_decay * w
    s = state["sum"] = state.get("sum", 0.0) + g * g
    w -= lr / (1 + t * lr_decay) * g / (np.sqrt(s) + eps)
    return w


def adagrad_not_accumulated(w, g, state, *, lr=1e-2, lr_decay=0.0, weight_decay=0.0, eps=1e-10):
    t = state["step"] = state.get("step", 0) + 1
    if weight_decay:
        g = g + weight_decay * w
    s = state["sum"] = g * g
    w -= lr / (1 + (t - 1) * lr_decay) * g / (np.sqrt(s) + eps)
    return w


def _rmsprop(w, g, state, lr, alpha, eps, weight_decay, momentum, centered, bug=""):
    if weight_decay:
        g = g + weight_decay * w
    gg = g if bug == "v_of_g" else g * g
    v = state["square_avg"] = alpha * state.get("square_avg", 0.0) + (1 - alpha) * gg
    if centered:
        mg = state["grad_avg"] = alpha * state.get("grad_avg", 0.0) + (1 - alpha) * g
        avg = np.sqrt(v - (mg if bug == "centered_no_square" else mg * mg)) + eps
    else:
        avg = np.sqrt(v) + eps
    if momentum:
        if bug == "lr_in_buffer":  # correct with a constant lr
            buf = state["momentum_buffer"] = momentum * state.get("momentum_buffer", 0.0) + lr * g / avg
            w -= buf
        else:
            buf = state["momentum_buffer"] = momentum * state.get("momentum_buffer", 0.0) + g / avg
            w -= lr * buf
    else:
        w -= lr * g / avg
    return w


def _rms_bug(bug):
    def update(w, g, state, *, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False):
        return _rmsprop(w, g, state, lr, alpha, eps, weight_decay, momentum, centered, bug)

    return update


BUGS = [
    ("averages.ema", ema_power_off, ("t + 1",), {}),
    ("averages.ema", ema_corrects_state, ("bias",), {}),
    ("optim.sgd_momentum", _sgd_bug("no_dampening"), ("dampening",), {}),
    ("optim.sgd_momentum", _sgd_bug("nesterov_old"), ("nesterov",), {}),
    ("optim.sgd_momentum", _sgd_bug("wd_after"), ("weight_decay",), {}),
    ("optim.momentum_classic", classic_position_first, ("velocity",), {}),
    ("optim.momentum_classic", classic_mu_on_all, ("mu",), {}),
    ("optim.momentum_ema", ema_no_one_minus_beta, ("1 - beta",), {}),
    ("optim.momentum_ema", ema_bias_corrected, ("bias",), {}),
    ("optim.adam", _adam_bug("m_not_corrected"), ("m_hat",), {}),
    ("optim.adam", _adam_bug("power_plus_one"), ("t + 1",), {}),
    ("optim.adam", _adam_bug("v_of_g"), ("g * g",), {}),
    ("optim.adam", _adam_bug("eps_outside_division"), ("eps",), {}),
    ("optim.adam", _adam_bug("betas_swapped"), ("beta",), {}),
    ("optim.adamw", _adam_bug("wd_no_lr", True, 0.01), ("lr",), {}),
    ("optim.adamw", _adam_bug("m_not_corrected", True, 0.01), ("m_hat",), {}),
    ("optim.adagrad", adagrad_sum_of_g, ("g * g",), {}),
    ("optim.adagrad", adagrad_decay_off_by_one, ("lr_decay",), {}),
    ("optim.adagrad", adagrad_not_accumulated, ("state",), {}),
    ("optim.rmsprop", _rms_bug("v_of_g"), ("g * g",), {}),
    ("optim.rmsprop", _rms_bug("centered_no_square"), ("centered",), {}),
]

CORRECT = [
    ("averages.ema", ema_closed_form, {}),
    ("optim.momentum_classic", classic_lr_outside, {}),
    ("optim.rmsprop", _rms_bug("lr_in_buffer"), {}),
]
