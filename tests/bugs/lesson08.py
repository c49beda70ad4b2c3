"""Lesson 08 (schedules and clipping)."""

import math

import numpy as np


def _items(grads):
    return list(grads.values()) if isinstance(grads, dict) else list(grads)


def clip_norm_ignores_type(grads, max_norm, norm_type=2.0, error_if_nonfinite=True):
    total = math.sqrt(sum(float(np.sum(g * g)) for g in _items(grads)))
    if total > max_norm:
        for g in _items(grads):
            g *= max_norm / (total + 1e-6)
    return total


def clip_norm_returns_after(grads, max_norm, norm_type=2.0, error_if_nonfinite=True):
    p = float(norm_type)
    if math.isinf(p):
        total = max(float(np.max(np.abs(g))) for g in _items(grads))
    else:
        total = sum(float(np.sum(np.abs(g) ** p)) for g in _items(grads)) ** (1 / p)
    if total > max_norm:
        for g in _items(grads):
            g *= max_norm / (total + 1e-6)
        return min(total, max_norm)
    return total


def clip_value_lower_zero(grads, clip_value):
    for g in _items(grads):
        np.clip(g, 0, clip_value, out=g)


def clip_value_upper_only(grads, clip_value):
    for g in _items(grads):
        g[g > clip_value] = clip_value


def clip_value_minimum_maximum(grads, clip_value):  # correct
    for g in _items(grads):
        np.minimum(np.maximum(g, -clip_value, out=g), clip_value, out=g)


def step_round(step, base_lr, step_size, gamma=0.1):
    return base_lr * gamma ** round(step / step_size)


def step_ceil(step, base_lr, step_size, gamma=0.1):
    return base_lr * gamma ** math.ceil(step / step_size)


def step_int(step, base_lr, step_size, gamma=0.1):  # correct
    return base_lr * gamma ** int(step / step_size)


def exp_base_e(step, base_lr, gamma):
    return base_lr * math.exp(-gamma * step)


def exp_one_minus(step, base_lr, gamma):
    return base_lr * (1 - gamma) ** step


def cos_no_half(step, base_lr, T_max, eta_min=0.0):
    return eta_min + (base_lr - eta_min) * math.cos(math.pi * step / T_max)


def cos_degrees(step, base_lr, T_max, eta_min=0.0):
    return eta_min + (base_lr - eta_min) * (1 + math.cos(180 * step / T_max)) / 2


def cos_tmax_minus_one(step, base_lr, T_max, eta_min=0.0):
    return eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * step / (T_max - 1))) / 2


def cos_numpy(step, base_lr, T_max, eta_min=0.0):  # correct
    return float(eta_min + 0.5 * (base_lr - eta_min) * (1 + np.cos(np.pi * step / T_max)))


def warmup_minus_one(step, base_lr, start_factor=1 / 3, end_factor=1.0, total_iters=5):
    f = start_factor + (end_factor - start_factor) * min(step, total_iters - 1) / (total_iters - 1)
    return base_lr * f


def warmup_integer(step, base_lr, start_factor=1 / 3, end_factor=1.0, total_iters=5):
    f = start_factor + (end_factor - start_factor) * (min(step, total_iters) // total_iters)
    return base_lr * f


def cyclic_ignores_mode(step, base_lr, max_lr, step_size_up=2000, step_size_down=None, mode="triangular",
                        gamma=1.0):
    down = step_size_up if step_size_down is None else step_size_down
    total = step_size_up + down
    x = step % total
    frac = x / step_size_up if x <= step_size_up else 1 - (x - step_size_up) / down
    return base_lr + (max_lr - base_lr) * frac


def cyclic_ignores_down(step, base_lr, max_lr, step_size_up=2000, step_size_down=None, mode="triangular",
                        gamma=1.0):
    cycle = step // (2 * step_size_up)
    x = step % (2 * step_size_up)
    frac = x / step_size_up if x <= step_size_up else 2 - x / step_size_up
    scale = 0.5**cycle if mode == "triangular2" else (gamma**step if mode == "exp_range" else 1.0)
    return base_lr + (max_lr - base_lr) * frac * scale


BUGS = [
    ("gradients.clip_grad_norm", clip_norm_ignores_type, ("norm_type",), {}),
    ("gradients.clip_grad_norm", clip_norm_returns_after, ("before",), {}),
    ("gradients.clip_grad_value", clip_value_lower_zero, ("-clip_value",), {}),
    ("gradients.clip_grad_value", clip_value_upper_only, ("-clip_value",), {}),
    ("schedules.step_lr", step_round, ("round",), {}),
    ("schedules.step_lr", step_ceil, ("round",), {}),
    ("schedules.exponential_lr", exp_base_e, ("base",), {}),
    ("schedules.exponential_lr", exp_one_minus, ("gamma",), {}),
    ("schedules.cosine_annealing_lr", cos_no_half, ("1 + cos",), {}),
    ("schedules.cosine_annealing_lr", cos_degrees, ("radian",), {}),
    ("schedules.cosine_annealing_lr", cos_tmax_minus_one, ("T_max",), {}),
    ("schedules.linear_warmup_lr", warmup_minus_one, ("total_iters",), {}),
    ("schedules.linear_warmup_lr", warmup_integer, ("integer",), {}),
    ("schedules.cyclic_lr", cyclic_ignores_mode, ("triangular2",), {}),
    ("schedules.cyclic_lr", cyclic_ignores_down, ("step_size_down",), {}),
]

CORRECT = [
    ("gradients.clip_grad_value", clip_value_minimum_maximum, {}),
    ("schedules.step_lr", step_int, {}),
    ("schedules.cosine_annealing_lr", cos_numpy, {}),
]
