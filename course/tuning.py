"""Tuning by procedure (lesson 11): hyper-parameter search under a fixed budget, and the
bias/variance diagnosis from training and validation errors.

A search space is a dict ``name -> (low, high, scale)`` with ``scale`` ``"log"`` (learning rates,
weight decay: values spread evenly in log10) or ``"linear"`` (dropout). ``train_and_score(config)``
trains one network for the dict ``config`` (one value per name) and returns
``{"val_acc": ..., "test_acc": ...}``; each call is one training run of the budget. The best
configuration is the one with the highest ``val_acc``: the test score is reported for the chosen
configuration only, never used to choose.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

__all__ = ["grid_side", "axis_values", "grid_search", "random_search", "diagnose", "VERDICTS", "ACTIONS"]

SCALES = ("log", "linear")


def _check_space(space, fn):
    if not isinstance(space, dict) or not space:
        raise TypeError(f"{fn}: space must be a non-empty dict name -> (low, high, scale), got {space!r}")
    for name, axis in space.items():
        if not (isinstance(axis, tuple) and len(axis) == 3 and axis[2] in SCALES):
            raise ValueError(f"{fn}: space[{name!r}] must be (low, high, 'log' or 'linear'), got {axis!r}")
        low, high, scale = axis
        if not low < high or (scale == "log" and low <= 0):
            raise ValueError(f"{fn}: space[{name!r}] needs low < high (and low > 0 on a log scale), got {axis!r}")


def _check_budget(budget, fn):
    if isinstance(budget, bool) or not isinstance(budget, (int, np.integer)) or budget < 1:
        raise ValueError(f"{fn}: budget must be an int >= 1 (training runs), got {budget!r}")


def grid_side(budget: int, d: int) -> int:
    """The largest k with k**d <= budget (integers only: 64 ** (1/3) is 3.9999999999999996)."""
    k = max(1, int(round(budget ** (1.0 / d))))
    while k**d > budget:
        k -= 1
    while (k + 1) ** d <= budget:
        k += 1
    return k


def axis_values(low, high, scale, k):
    """k values from low to high, ends included, evenly spaced on the axis' scale."""
    return np.geomspace(low, high, k) if scale == "log" else np.linspace(low, high, k)


def _best(train_and_score, configs):
    best, best_val = None, -math.inf
    for config in configs:
        score = float(train_and_score(config)["val_acc"])
        if score > best_val:
            best, best_val = config, score
    return best


def grid_search(train_and_score, space, budget):
    """Grid search: k values per hyper-parameter (the largest k with k**d <= budget), every
    combination trained once; returns the config (dict) with the highest validation accuracy."""
    _check_space(space, "grid_search")
    _check_budget(budget, "grid_search")
    k = grid_side(budget, len(space))
    axes = [axis_values(low, high, scale, k) for low, high, scale in space.values()]
    configs = ({n: float(v) for n, v in zip(space, combo)} for combo in itertools.product(*axes))
    return _best(train_and_score, configs)


def random_search(train_and_score, space, budget, rng):
    """Random search: ``budget`` configurations, each value drawn uniformly on its axis' scale
    (log-uniform: 10 ** uniform(log10 low, log10 high)); returns the best on validation."""
    _check_space(space, "random_search")
    _check_budget(budget, "random_search")

    def draw():
        config = {}
        for name, (low, high, scale) in space.items():
            if scale == "log":
                config[name] = float(10 ** rng.uniform(math.log10(low), math.log10(high)))
            else:
                config[name] = float(rng.uniform(low, high))
        return config

    return _best(train_and_score, (draw() for _ in range(budget)))


#: What to do next for each verdict of :func:`diagnose`.
ACTIONS = {
    "high bias": "increase capacity",
    "high variance": "regularise or add data",
    "both": "increase capacity first",
    "ok": "none",
}
VERDICTS = tuple(ACTIONS)


def diagnose(train_err, val_err, target_err, tol=2.0):
    """Bias and variance from errors in percent: bias = train_err - target_err (the avoidable
    error), variance = val_err - train_err (the gap). A gap is high when it is larger than
    ``tol`` (equal is not high). Returns ``(verdict, ACTIONS[verdict])``."""
    high_bias = train_err - target_err > tol
    high_variance = val_err - train_err > tol
    verdict = "both" if high_bias and high_variance else (
        "high bias" if high_bias else "high variance" if high_variance else "ok")
    return verdict, ACTIONS[verdict]
