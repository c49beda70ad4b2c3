"""Learning-rate schedules (lesson 08), graded over a sweep of steps."""

from __future__ import annotations

import math

from ...schedules import cosine_annealing_lr, cyclic_lr, exponential_lr, linear_warmup_lr, step_lr
from ..cases import Case
from ..registry import Variant, register
from ..run.runner import Sweep

LESSON = "08_schedules"
SWEEP = Sweep()


def _steps(n):
    return list(range(n))


def _shifted(fn, by):
    return lambda step, *a, **k: fn(max(step + by, 0), *a, **k)


def _shift_variants(fn):
    return (
        Variant("one_step_ahead", _shifted(fn, 1),
                "Your schedule is one step ahead: at step t you return the rate for t + 1 (steps count from 0)."),
        Variant("one_step_behind", _shifted(fn, -1),
                "Your schedule is one step behind: at step t you return the rate for t - 1 (steps count from 0)."),
    )


register(
    "schedules.step_lr",
    lesson=LESSON,
    title="Step decay",
    reference=step_lr,
    cases=lambda rng: [
        Case((0.1, 5, 0.5), note="base_lr 0.1, step_size 5, gamma 0.5", extra={"steps": _steps(22)}),
        Case((float(rng.uniform(0.01, 1.0)), 3, 0.1), note="step_size 3, gamma 0.1", extra={"steps": _steps(10)}),
        Case((0.5, 1, 0.9), note="step_size 1", extra={"steps": _steps(6)}),
    ],
    outputs=("lr",),
    protocol=SWEEP,
    variants=(
        Variant("no_floor", lambda step, base_lr, step_size, gamma=0.1: base_lr * gamma ** (step / step_size),
                "Your rate decays smoothly; step decay changes only every step_size steps: use integer "
                "division, gamma ** (step // step_size)."),
        *_shift_variants(step_lr),
    ),
    hints=("lr = base_lr * gamma ** (step // step_size).",),
)
register(
    "schedules.exponential_lr",
    lesson=LESSON,
    title="Exponential decay",
    reference=exponential_lr,
    cases=lambda rng: [
        Case((0.1, 0.9), note="base_lr 0.1, gamma 0.9", extra={"steps": _steps(15)}),
        Case((float(rng.uniform(0.01, 1.0)), 0.5), note="gamma 0.5", extra={"steps": _steps(8)}),
    ],
    outputs=("lr",),
    protocol=SWEEP,
    variants=_shift_variants(exponential_lr),
    hints=("lr = base_lr * gamma ** step.",),
)
register(
    "schedules.cosine_annealing_lr",
    lesson=LESSON,
    title="Cosine annealing",
    reference=cosine_annealing_lr,
    cases=lambda rng: [
        Case((0.1, 10, 0.0), note="T_max 10, eta_min 0", extra={"steps": _steps(11)}),
        Case((float(rng.uniform(0.05, 1.0)), 7, 0.01), note="T_max 7, eta_min 0.01", extra={"steps": _steps(15)}),
    ],
    outputs=("lr",),
    protocol=SWEEP,
    variants=(
        Variant("eta_min_ignored",
                lambda step, base_lr, T_max, eta_min=0.0: base_lr * (1 + math.cos(math.pi * step / T_max)) / 2,
                "Your schedule goes down to 0 instead of eta_min: "
                "lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * step / T_max)) / 2."),
        *_shift_variants(cosine_annealing_lr),
    ),
    hints=("lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * step / T_max)) / 2.",),
)


def _warmup_unclamped(step, base_lr, start_factor=1.0 / 3, end_factor=1.0, total_iters=5):
    return base_lr * (start_factor + (end_factor - start_factor) * step / total_iters)


register(
    "schedules.linear_warmup_lr",
    lesson=LESSON,
    title="Linear warm-up",
    reference=linear_warmup_lr,
    cases=lambda rng: [
        Case((0.1,), {"start_factor": 0.25, "end_factor": 1.0, "total_iters": 4}, note="4 warm-up steps",
             extra={"steps": _steps(10)}),
        Case((float(rng.uniform(0.05, 1.0)),), {"start_factor": 0.5, "end_factor": 0.8, "total_iters": 6},
             note="start 0.5, end 0.8", extra={"steps": _steps(9)}),
    ],
    outputs=("lr",),
    protocol=SWEEP,
    variants=(
        Variant("not_clamped", _warmup_unclamped,
                "Your rate keeps growing after total_iters; it should stay at base_lr * end_factor "
                "(use min(step, total_iters))."),
        *_shift_variants(linear_warmup_lr),
    ),
    hints=("factor = start + (end - start) * min(step, total_iters) / total_iters; lr = base_lr * factor.",),
)
register(
    "schedules.cyclic_lr",
    lesson=LESSON,
    title="Cyclical learning rate",
    reference=cyclic_lr,
    cases=lambda rng: [
        Case((0.01, 0.1), {"step_size_up": 4}, note="triangular, 4 steps up", extra={"steps": _steps(20)}),
        Case((0.01, 0.1), {"step_size_up": 3, "step_size_down": 5}, note="3 up, 5 down",
             extra={"steps": _steps(20)}),
        Case((0.001, float(rng.uniform(0.05, 0.5))), {"step_size_up": 2, "mode": "triangular2"},
             note="triangular2", extra={"steps": _steps(14)}),
    ],
    outputs=("lr",),
    protocol=SWEEP,
    variants=_shift_variants(cyclic_lr),
    hints=(
        "Find where the step is in its cycle (x in [0, 1)), how high the triangle is there "
        "(x / r going up, (x - 1) / (r - 1) going down), and scale max_lr - base_lr by it.",
    ),
)
