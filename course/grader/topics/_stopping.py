"""Early stopping's grading: the cases and wrong classes (variants) of ``regularization.early_stopping``
(the protocol, :class:`~course.grader.run.lesson_protocols.StoppingRun`, runs a class on validation values)."""

from __future__ import annotations

import numpy as np

from ...regularization import EarlyStopping
from ..cases import Case


def _stop_cases(rng):
    noisy = list(np.round(1.0 / np.arange(1, 8) + 0.3 + rng.uniform(0, 0.02, 7), 4))
    noisy += list(np.round(noisy[-1] + rng.uniform(0.01, 0.1, 6), 4))
    return [
        Case(kwargs={"patience": 3}, note="patience 3",
             extra={"values": [1.0, 0.8, 0.7, 0.72, 0.71, 0.75, 0.74, 0.73, 0.76]}),
        Case(kwargs={"patience": 2, "min_delta": 0.05}, note="patience 2, min_delta 0.05",
             extra={"values": [1.0, 0.9, 0.88, 0.86, 0.84, 0.83, 0.82, 0.81]}),
        Case(kwargs={"patience": 2, "mode": "max"}, note="mode 'max' (an accuracy)",
             extra={"values": [0.5, 0.7, 0.8, 0.79, 0.8, 0.78, 0.9]}),
        Case(kwargs={"patience": 2}, note="ties are not improvements", extra={"values": [0.5, 0.5, 0.5, 0.5, 0.5]}),
        Case(kwargs={"patience": int(rng.integers(2, 5))}, note="a noisy validation curve", extra={"values": noisy}),
    ]


class _OffByOne(EarlyStopping):
    def step(self, value, params=None):
        super().step(value, params)
        self.should_stop = self.num_bad > self.patience
        return self.should_stop


class _NoMinDelta(EarlyStopping):
    def improved(self, value):
        if self.best is None:
            return True
        return value < self.best if self.mode == "min" else value > self.best


class _TiesImprove(EarlyStopping):
    def improved(self, value):
        if self.best is None:
            return True
        return value <= self.best - self.min_delta if self.mode == "min" else value >= self.best + self.min_delta


class _NotCopied(EarlyStopping):
    def step(self, value, params=None):
        stop = super().step(value, None)
        if self.num_bad == 0 and params is not None:
            self.best_params = dict(params)  # the same arrays: they keep changing after this check
        return stop


class _MinOnly(EarlyStopping):
    def __init__(self, patience=5, min_delta=0.0, mode="min"):
        super().__init__(patience, min_delta, "min")
