"""Protocols for the capstone (lesson 19): a learner's whole network, and a whole training run.

Both fit the grader's phases: ``run`` is the only place that calls learner code, and it returns
plain data (arrays, numbers, dicts, error strings); the verdicts
(:mod:`course.grader.compare.training_checks`) only read that data, so instructor grading can run
``run`` in the sandbox and decide in the grader.

- :class:`GradientCheck`: ``fn`` is the learner's ``Network`` class. The run phase builds
  ``Network(seed=...)``, calls ``net.loss_and_grads(X, y, rng=...)`` (a fresh Generator with the
  same seed for every call, so dropout masks repeat) and, for a few sampled entries of every
  parameter, central differences of the learner's *own* loss. No reference is needed: the
  network is compared with itself.
- :class:`TrainingRun`: ``fn`` is the learner's ``train(X, y, *, seed, time_budget)``, returning
  ``(network, history)``. The run phase trains on the digits training split, times it, and calls
  ``network.predict`` on the test inputs, plus *probes*: the same call again (dropout at test
  time), single examples and half the batch (batch norm left in training mode), and the test set
  with every pixel rescaled and shifted (a standardiser fitted on the data it is given). The test
  labels are read only by the compare phase.
"""

from __future__ import annotations

import time

import numpy as np

from .calling import LearnerMistake, call_learner, capture
from .outcome import Outcome
from .protocols import Protocol
from .values import close

__all__ = ["GradientCheck", "TrainingRun", "SAMPLES_PER_PARAM", "TOL"]

SAMPLES_PER_PARAM = 8  # entries of each parameter checked by finite differences
_STEPS = (1e-5, 1e-7)  # a second, smaller step for entries whose first one crossed a ReLU kink
TOL = (1e-4, 1e-7)  # rtol, atol between the gradient and finite differences


def _error_text(exc) -> str:
    return f"{type(exc).__name__}: {exc}"[:300]


def _loss_grads(net, X, y, dropout_seed, what="loss_and_grads"):
    out = call_learner(net.loss_and_grads, X.copy(), y.copy(), rng=np.random.default_rng(dropout_seed))
    if not (isinstance(out, tuple) and len(out) == 2):
        raise LearnerMistake(f"Your {what} should return (loss, grads), got {type(out).__name__}.", "count")
    loss, grads = out
    try:
        loss = float(loss)
    except (TypeError, ValueError):
        raise LearnerMistake(f"Your loss is a {type(loss).__name__}, not a number.", "type") from None
    if not isinstance(grads, dict):
        raise LearnerMistake(f"Your grads is a {type(grads).__name__}; return a dict with the keys of params.", "type")
    return loss, grads


class GradientCheck(Protocol):
    """The learner's assembled network against finite differences of its own loss."""

    repeat_first = False

    def run(self, exercise, cls, case, options):
        X, y = case.args
        seed, dropout_seed = case.extra["seed"], case.extra["dropout_seed"]
        try:
            net = call_learner(cls, seed=seed)
            params = getattr(net, "params", None)
            if not isinstance(params, dict) or not params:
                raise LearnerMistake("Your Network has no `params` dict of arrays (e.g. {'W1': ..., 'b1': ...}).")
            loss, grads = _loss_grads(net, X, y, dropout_seed)
            again = _loss_grads(net, X, y, dropout_seed)[0]
        except Exception as exc:
            return Outcome(error=capture(exc))
        rng = np.random.default_rng(seed + 1)
        analytic, numeric, shapes = {}, {}, {}
        for name in sorted(params):
            p, g = params[name], grads.get(name)
            shapes[name] = (tuple(np.shape(p)), None if g is None else tuple(np.shape(g)))
            if g is None or not isinstance(p, np.ndarray) or p.dtype.kind != "f" or np.shape(g) != p.shape:
                continue
            flat = p.reshape(-1)
            if not np.shares_memory(flat, p):
                continue
            idx = rng.choice(p.size, size=min(SAMPLES_PER_PARAM, p.size), replace=False)
            analytic[name] = np.asarray(g, dtype=np.float64).reshape(-1)[idx].copy()
            try:
                numeric[name] = self._fd(net, X, y, dropout_seed, flat, idx, analytic[name])
            except Exception as exc:  # the loss fails at a perturbed point: say so, no verdict
                numeric[name] = _error_text(exc)
        extra = {"loss": loss, "again": again, "shapes": shapes, "grad_keys": sorted(map(str, grads)),
                 "numeric": numeric}
        return Outcome(outputs=analytic, extra=extra)

    @staticmethod
    def _fd(net, X, y, dropout_seed, flat, idx, analytic):
        def loss():
            return _loss_grads(net, X, y, dropout_seed)[0]

        out = np.empty(idx.size)
        for j, i in enumerate(idx):
            old = flat[i]
            for h in _STEPS:  # the smaller step only where the first one disagrees
                flat[i] = old + h
                plus = loss()
                flat[i] = old - h
                minus = loss()
                flat[i] = old
                out[j] = (plus - minus) / (2 * h)
                if close(analytic[j], out[j], *TOL):
                    break
        return out

# ---------------------------------------------------------------------------------------------
# A whole training run


def _labels(x, n, what) -> np.ndarray:
    try:
        a = np.asarray(x)
    except Exception:
        a = None
    if a is None or a.shape != (n,) or a.dtype.kind not in "biuf" or not np.all(np.isfinite(a)):
        shape = getattr(a, "shape", None)
        raise LearnerMistake(
            f"Your predict({what}) returned {type(x).__name__} of shape {shape}; it should return the labels, "
            f"an array of shape ({n},) (np.argmax(scores, axis=1)).", "type")
    return a.astype(np.int64)


def _try_predict(predict, X, what):
    try:
        return _labels(call_learner(predict, X.copy()), X.shape[0], what)
    except Exception as exc:
        return _error_text(exc)


class TrainingRun(Protocol):
    """``train(X, y, seed=..., time_budget=...)`` on the digits, then ``predict`` and probes."""

    repeat_first = False

    def run(self, exercise, train, case, options):
        from ...data import load_digits

        X, y = load_digits("train")
        X_test, _ = load_digits("test")  # the labels stay with the grader
        budget, seed = case.extra["time_budget"], case.extra["seed"]
        start = time.perf_counter()
        try:
            ret = call_learner(train, X.copy(), y.copy(), seed=seed, time_budget=budget)
            wall = time.perf_counter() - start
            if not (isinstance(ret, tuple) and len(ret) == 2):
                raise LearnerMistake(f"Your train should return (network, history), got {type(ret).__name__}.",
                                     "count")
            net, history = ret
            predict = getattr(net, "predict", None)
            if not callable(predict):
                raise LearnerMistake(f"The network your train returned ({type(net).__name__}) has no predict method.")
            pred = _labels(call_learner(predict, X_test.copy()), X_test.shape[0], "X_test")
        except Exception as exc:
            return Outcome(error=capture(exc))
        try:
            history = np.asarray(history, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError):
            history = None
        extra = {"wall_s": wall, "time_budget": budget, "history": history}
        if case.extra.get("probes"):
            k = case.extra["single"]
            rng = np.random.default_rng(seed + 99)
            scale, shift = rng.uniform(0.3, 3.0, X_test.shape[1]), rng.uniform(-1.0, 1.0, X_test.shape[1])
            singles = [_try_predict(predict, X_test[i : i + 1], f"X_test[{i}:{i + 1}]") for i in range(k)]
            bad = next((s for s in singles if isinstance(s, str)), None)
            half = X_test.shape[0] // 2
            extra["probes"] = {
                "again": _try_predict(predict, X_test, "X_test"),
                "single": bad if bad is not None else np.concatenate(singles),
                "half": _try_predict(predict, X_test[:half], "X_test[:half]"),
                "affine": _try_predict(predict, X_test * scale + shift, "X_test * a + c"),
            }
        return Outcome(outputs=pred, extra=extra)
