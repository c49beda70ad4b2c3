"""Exponential moving averages (lesson 06)."""

from __future__ import annotations

import numpy as np

from ...averages import ema
from ..cases import Case, randn
from ..registry import Variant, register


def _swapped(x, beta, bias_correction=False):
    return ema(x, 1.0 - beta, bias_correction) if beta > 0 else np.zeros_like(x)


def _uncorrected(x, beta, bias_correction=False):
    return ema(x, beta, False)


def _from_first(x, beta, bias_correction=False):
    out, v = [], float(x[0])
    for t in range(len(x)):
        v = beta * v + (1 - beta) * x[t] if t else v
        out.append(v)
    return np.array(out)


def _cases(rng):
    T = int(rng.integers(12, 20))
    return [
        Case((randn(rng, T) + 3.0, 0.9), note=f"T = {T}, beta = 0.9"),
        Case((randn(rng, 8), 0.5), note="beta = 0.5"),
        Case((randn(rng, T) + 5.0, 0.9, True), note="bias_correction=True"),
        Case((randn(rng, 1), 0.8, True), note="a single value (T = 1), bias-corrected"),
        Case((randn(rng, 6), 0.0), note="beta = 0: no averaging"),
    ]


register(
    "averages.ema",
    lesson="06_momentum",
    title="Exponential moving average",
    reference=ema,
    cases=_cases,
    outputs=("averages",),
    arg_names=("x", "beta", "bias_correction"),
    variants=(
        Variant("weights_swapped", _swapped,
                "You swapped the weights: v = beta * v + (1 - beta) * x_t keeps most of the old average."),
        Variant("no_bias_correction", _uncorrected,
                "With bias_correction=True divide v_t by (1 - beta**t), t counted from 1."),
        Variant("starts_at_first_value", _from_first,
                "Your average starts at x[0]; the course's EMA starts at v_0 = 0 (which is why bias "
                "correction exists)."),
    ),
    hints=("v = 0; for t = 1..T: v = beta * v + (1 - beta) * x[t-1]; keep v (or v / (1 - beta**t)).",),
)
