"""The run phase of lesson 11's hyper-parameter searches: the grader's own ``train_and_score``,
which counts and records every call, so that the budget is counted on the grader's side.

Held by the grading sandbox (:data:`course.instructor.plan.SANDBOX_PROTOCOL_MODULES`); it calls
the learner's search and needs no reference. The judge (``topics/tuning.py``) reads the recorded
configurations and recomputes their scores with :func:`search_scores`.
"""

from __future__ import annotations

import math

import numpy as np

from ..cases import copy_data
from .calling import LearnerMistake, call_learner, capture
from .outcome import Outcome
from .protocols import Protocol

__all__ = ["search_scores", "position", "SearchRun", "MAX_RECORDED"]

#: calls beyond this many are counted but not recorded (a runaway loop stays small data)
MAX_RECORDED = 2000
#: the accuracy of a guess among the digits' 10 classes: no run scores less
CHANCE = 0.1
#: where the validation and the test scores peak, in [0, 1] coordinates of each axis: apart, so
#: that the best run on validation is not the best on test, and not in the corner where
#: validation is worst (a search that keeps the lowest val_acc is not taken for one that chose on test)
VAL_PEAK, TEST_PEAK = (0.62, 0.35), (0.2, 0.7)


def position(space: dict, values) -> np.ndarray:
    """Each value's place between its axis' low (0) and high (1), on the axis' scale."""
    out = []
    for v, (low, high, scale) in zip(values, space.values()):
        if scale == "log":
            v, low, high = (math.log10(v) if v > 0 else -math.inf), math.log10(low), math.log10(high)
        out.append((v - low) / (high - low))
    return np.array(out, dtype=np.float64)


def _score(u: np.ndarray, peak) -> float:
    centre = np.array([peak[0]] + [peak[1]] * (u.size - 1))
    with np.errstate(invalid="ignore", over="ignore"):
        acc = 0.97 - 0.25 * np.sum((u - centre) ** 2)
    return float(acc) if acc > CHANCE else CHANCE  # far off (or not a number): chance level, as a real run


def search_scores(space: dict, values) -> tuple[float, float]:
    """``(val_acc, test_acc)`` of the grader's ``train_and_score`` for one configuration (the
    values in the order of ``space``). Smooth in the configuration, peaking at different places,
    never below chance (a diverged run, a value outside the space)."""
    u = position(space, values)
    return _score(u, VAL_PEAK), _score(u, TEST_PEAK)


class SearchRun(Protocol):
    """``fn(train_and_score, space, budget)`` (grid) or ``fn(train_and_score, space, budget, rng)``
    (random, ``rng`` a fresh Generator from the case's seed). Outputs: the number of calls, the
    recorded configurations (calls, d) in the order of ``space``, and the returned one (d,)."""

    kind = "search"

    def __init__(self, seeded: bool):
        self.seeded = seeded

    def run(self, exercise, fn, case, options):
        space, budget = copy_data(case.extra["space"]), int(case.extra["budget"])
        names, trials, calls = list(space), [], [0]

        def train_and_score(config):
            if not isinstance(config, dict) or set(config) != set(names):
                got = sorted(config) if isinstance(config, dict) else type(config).__name__
                raise LearnerMistake(f"train_and_score takes one dict with the keys {names}; it got {got}.",
                                     "config")
            values = [float(config[n]) for n in names]
            calls[0] += 1
            if len(trials) < MAX_RECORDED:
                trials.append(values)
            val, test = search_scores(space, values)
            return {"val_acc": val, "test_acc": test}

        args = (train_and_score, copy_data(space), budget)
        if self.seeded:
            args += (np.random.default_rng(int(case.extra["seed"])),)
        try:
            picked = call_learner(fn, *args)
            if not isinstance(picked, dict) or set(picked) != set(names):
                got = sorted(picked) if isinstance(picked, dict) else type(picked).__name__
                raise LearnerMistake(f"Your search returned {got}; it should return the chosen configuration, "
                                     f"a dict with the keys {names}.", "type")
            row = np.array([float(picked[n]) for n in names], dtype=np.float64)
        except Exception as exc:
            return Outcome(error=capture(exc))
        table = np.array(trials, dtype=np.float64).reshape(len(trials), len(names))
        return Outcome(outputs=(float(calls[0]), table, row))
