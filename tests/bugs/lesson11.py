"""Lesson 11 (tuning by procedure): grid and random search under a budget, the bias/variance
diagnosis. Written before the grader's messages for them were read."""

import itertools
import math

import numpy as np


def _axis(low, high, scale, k):
    return np.geomspace(low, high, k) if scale == "log" else np.linspace(low, high, k)


def _best(train_and_score, configs):
    best, best_score = None, -1.0
    for c in configs:
        s = train_and_score(c)["val_acc"]
        if s > best_score:
            best, best_score = c, s
    return best


def grid_float_root(train_and_score, space, budget):
    k = int(budget ** (1 / len(space)))  # 64 ** (1/3) = 3.9999999999999996 -> 3
    axes = [_axis(lo, hi, s, k) for lo, hi, s in space.values()]
    return _best(train_and_score, [dict(zip(space, map(float, c))) for c in itertools.product(*axes)])


def grid_logspace_values(train_and_score, space, budget):
    k = math.isqrt(budget) if len(space) == 2 else round(budget ** (1 / len(space)))
    axes = [np.logspace(lo, hi, k) if s == "log" else np.linspace(lo, hi, k) for lo, hi, s in space.values()]
    return _best(train_and_score, [dict(zip(space, map(float, c))) for c in itertools.product(*axes)])


def grid_lowest_score(train_and_score, space, budget):
    k = 1
    while (k + 1) ** len(space) <= budget:
        k += 1
    axes = [_axis(lo, hi, s, k) for lo, hi, s in space.values()]
    best, best_score = None, math.inf
    for c in itertools.product(*axes):
        config = dict(zip(space, map(float, c)))
        s = train_and_score(config)["val_acc"]
        if s < best_score:  # as if it were a loss
            best, best_score = config, s
    return best


def grid_isqrt(train_and_score, space, budget):  # correct: integer root by counting up
    k = 1
    while (k + 1) ** len(space) <= budget:
        k += 1
    axes = [list(_axis(lo, hi, s, k)) for lo, hi, s in space.values()]
    configs = [dict(zip(space, c)) for c in itertools.product(*axes)]
    scores = [train_and_score(c)["val_acc"] for c in configs]
    return configs[int(np.argmax(scores))]


def random_log_not_exponentiated(train_and_score, space, budget, rng):
    configs = [{n: float(rng.uniform(np.log10(lo), np.log10(hi))) if s == "log" else float(rng.uniform(lo, hi))
                for n, (lo, hi, s) in space.items()} for _ in range(budget)]
    return _best(train_and_score, configs)


def random_range_from_one(train_and_score, space, budget, rng):
    configs = []
    for _ in range(1, budget):
        configs.append({n: float(10 ** rng.uniform(np.log10(lo), np.log10(hi))) if s == "log"
                        else float(rng.uniform(lo, hi)) for n, (lo, hi, s) in space.items()})
    return _best(train_and_score, configs)


def random_average_of_scores(train_and_score, space, budget, rng):
    best, best_score = None, -1.0
    for _ in range(budget):
        c = {n: float(np.exp(rng.uniform(np.log(lo), np.log(hi)))) if s == "log" else float(rng.uniform(lo, hi))
             for n, (lo, hi, s) in space.items()}
        r = train_and_score(c)
        score = (r["val_acc"] + r["test_acc"]) / 2
        if score > best_score:
            best, best_score = c, score
    return best


def random_natural_log(train_and_score, space, budget, rng):  # correct: log-uniform with base e
    configs = [{n: float(np.exp(rng.uniform(np.log(lo), np.log(hi)))) if s == "log" else float(rng.uniform(lo, hi))
                for n, (lo, hi, s) in space.items()} for _ in range(budget)]
    return _best(train_and_score, configs)


def diagnose_abs_gap(train_err, val_err, target_err, tol=2.0):
    actions = {"high bias": "increase capacity", "high variance": "regularise or add data",
               "both": "increase capacity first", "ok": "none"}
    b, v = abs(train_err - target_err) > tol, abs(val_err - train_err) > tol
    verdict = "both" if b and v else "high bias" if b else "high variance" if v else "ok"
    return verdict, actions[verdict]


def diagnose_variance_first(train_err, val_err, target_err, tol=2.0):
    actions = {"high bias": "increase capacity", "high variance": "regularise or add data",
               "both": "increase capacity first", "ok": "none"}
    if val_err - train_err > tol:
        verdict = "high variance"
    elif train_err - target_err > tol:
        verdict = "high bias"
    else:
        verdict = "ok"
    return verdict, actions[verdict]


def diagnose_fractions(train_err, val_err, target_err, tol=2.0):
    actions = {"high bias": "increase capacity", "high variance": "regularise or add data",
               "both": "increase capacity first", "ok": "none"}
    train_err, val_err, target_err = train_err / 100, val_err / 100, target_err / 100
    b, v = train_err - target_err > tol, val_err - train_err > tol
    verdict = "both" if b and v else "high bias" if b else "high variance" if v else "ok"
    return verdict, actions[verdict]


def diagnose_both_action_variance(train_err, val_err, target_err, tol=2.0):
    b, v = train_err - target_err > tol, val_err - train_err > tol
    verdict = "both" if b and v else "high bias" if b else "high variance" if v else "ok"
    action = {"high bias": "increase capacity", "high variance": "regularise or add data",
              "both": "regularise or add data", "ok": "none"}[verdict]
    return verdict, action


BUGS = [
    ("tuning.grid_search", grid_float_root, ("budget",), {}),
    ("tuning.grid_search", grid_logspace_values, ("lr",), {}),
    ("tuning.grid_search", grid_lowest_score, ("highest",), {}),
    ("tuning.random_search", random_log_not_exponentiated, ("lr",), {}),
    ("tuning.random_search", random_range_from_one, ("budget",), {}),
    ("tuning.random_search", random_average_of_scores, ("validation",), {}),
    ("tuning.diagnose", diagnose_abs_gap, ("ok",), {}),
    ("tuning.diagnose", diagnose_variance_first, ("both",), {}),
    ("tuning.diagnose", diagnose_fractions, ("percent",), {}),
    ("tuning.diagnose", diagnose_both_action_variance, ("increase capacity first",), {}),
]

CORRECT = [
    ("tuning.grid_search", grid_isqrt, {}),
    ("tuning.random_search", random_natural_log, {}),
]
