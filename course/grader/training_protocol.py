"""Protocols for the capstone (lesson 19): a learner's whole network, and a whole training run.

Both fit the grader's phases: ``run`` is the only place that calls learner code, and it returns
plain data (arrays, numbers, dicts, error strings); ``judge`` and ``diagnose`` only read that
data, so instructor grading can run ``run`` in the sandbox and decide in the grader.

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
  images are the grader's (``case.extra["images"]``: the test split with a secret noise); their
  labels are read only by the compare phase. The wall time is the learner's own figure (a
  remark, not graded).
"""

from __future__ import annotations

import time

import numpy as np

from .calling import LearnerMistake, call_learner, capture
from .findings import Diagnosis, OutputCheck
from .outcome import Outcome
from .protocols import Protocol
from .values import close

__all__ = ["GradientCheck", "TrainingRun", "SAMPLES_PER_PARAM"]

SAMPLES_PER_PARAM = 8  # entries of each parameter checked by finite differences
_STEPS = (1e-5, 1e-7)  # a second, smaller step for entries whose first one crossed a ReLU kink
_TOL = (1e-4, 1e-7)  # rtol, atol between the gradient and finite differences
_GUESS = float(np.log(10.0))  # the cross-entropy of a uniform guess over the 10 digits


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
                if close(analytic[j], out[j], *_TOL):
                    break
        return out

    def verdict(self, ctx):
        """``judge=`` for ``register``: the compare phase's verdict on one case (data only)."""
        return _robust(self._judge, ctx)

    def _judge(self, ctx):
        out, extra = ctx.outcome.outputs, ctx.outcome.extra
        diags, checks = [], []
        missing = [k for k, (_, g) in extra["shapes"].items() if g is None]
        unknown = [k for k in extra["grad_keys"] if k not in extra["shapes"]]
        if missing or unknown:
            text = f"no gradient for {', '.join(missing)}" if missing else ""
            if unknown:
                text += ("; " if text else "") + f"gradients for {', '.join(unknown)}, which is not in params"
            diags.append(Diagnosis("gradient_keys", f"Your grads has {text}: give grads the keys of params."))
        for k, (ps, gs) in extra["shapes"].items():
            if gs is not None and gs != ps:
                diags.append(Diagnosis("shape", f"Your grads[{k!r}] has shape {gs} but params[{k!r}] has {ps}."))
        if not np.isfinite(extra["loss"]):
            diags.append(Diagnosis("nan", f"Your loss is {extra['loss']}: look for a log of 0 or an overflow."))
        elif extra["again"] != extra["loss"]:
            diags.append(Diagnosis(
                "nondeterministic_loss",
                f"Two calls of loss_and_grads with the same parameters and the same rng gave {extra['loss']:.10g} "
                f"and {extra['again']:.10g}: draw the dropout masks from the `rng` argument (rng.random(...)), "
                "not from np.random, so that the gradient check sees one fixed function."))
            return False, diags, checks
        for name, a in out.items():
            n = extra["numeric"][name]
            if isinstance(n, str):
                diags.append(Diagnosis("exception", f"Your loss raised {n} when params[{name!r}] was perturbed."))
                continue
            ok = close(a, n, *_TOL)
            checks.append(OutputCheck(f"grads[{name!r}] vs finite differences", ok, np.array2string(n, precision=4),
                                      np.array2string(a, precision=4)))
            if not ok:
                diags.append(Diagnosis("gradient_check", _gradient_message(name, a, n)))
        return not diags and bool(checks), diags, checks


def _robust(judge, ctx):
    """The outcome came from learner code (perhaps through the sandbox): data of an unexpected
    structure is a failed case with a message, never a crash of the grader."""
    try:
        return judge(ctx)
    except Exception as exc:
        msg = f"The results of your run could not be read ({type(exc).__name__}: {exc})."[:300]
        return False, [Diagnosis("type", msg)], []


def _gradient_message(name, a, n) -> str:
    rel = np.max(np.abs(a - n) / np.maximum(np.abs(a) + np.abs(n), 1e-12))
    msg = (f"Your grads[{name!r}] disagrees with finite differences of your own loss (largest relative error "
           f"{rel:.2g} over {a.size} sampled entries; expected {n[0]:.6g}, got {a[0]:.6g} for the first).")
    big = np.abs(n) > 1e-6
    if np.all(np.abs(a) < 1e-12) and big.any():
        return msg + " It is all zeros: is this parameter's gradient computed at all (or overwritten)?"
    if big.sum() >= 2:
        ratio = a[big] / n[big]
        if np.allclose(ratio, ratio[0], rtol=1e-3):
            c = float(ratio[0])
            return msg + (f" It is {c:.4g} times the right one everywhere: a constant factor is missing or "
                          "extra (a division by the batch size N twice or not at all? a missing 2?)."
                          if abs(c + 1) > 1e-3 else " It has the wrong sign.")
    return msg + " Check this layer's backward (and the layers above it: the error flows down)."


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
        from ..data import load_digits

        X, y = load_digits("train")
        X_test = case.extra.get("images")  # the grader's copy of the test images; the labels stay there
        if X_test is None:
            X_test = load_digits("test")[0]
        X_test = np.asarray(X_test, dtype=np.float64)
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

    def verdict(self, ctx):
        """``judge=`` for ``register``: the compare phase's verdict on one case (data only)."""
        return _robust(self._judge, ctx)

    def _judge(self, ctx):
        from ..data import load_digits

        labels = load_digits("test")[1]
        pred, extra, need = ctx.outcome.outputs, ctx.outcome.extra, ctx.case.extra.get("min_accuracy")
        acc = float(np.mean(pred == labels))
        diags = _history_diagnoses(extra["history"])
        budget, wall = extra["time_budget"], extra["wall_s"]
        if wall > 1.5 * budget + 2.0:  # timed in the learner's process: shown, not graded
            diags.append(Diagnosis(
                "time_budget", f"Your train took {wall:.1f} s for a time budget of {budget:g} s (not graded: "
                "timed in your own process; the grader's exercise timeout still applies): check "
                "time.perf_counter() - start against time_budget after every epoch and stop when it is spent.",
                fails=False))
        checks = [OutputCheck("test accuracy", need is None or acc >= need,
                              f">= {need:.0%}" if need else "any", f"{acc:.2%} ({int(np.sum(pred == labels))} of "
                                                                    f"{labels.size})")]
        if need is not None and acc < need:
            diags.append(Diagnosis(
                "accuracy", f"Your network reaches {acc:.2%} on the test split; at least {need:.0%} is needed. "
                "Train longer (within the budget), tune the learning rate and its schedule, and keep the "
                "parameters of the best validation epoch (early stopping)."))
        diags += _probe_diagnoses(pred, extra.get("probes"))
        return not any(d.fails for d in diags), diags, checks


def _history_diagnoses(history) -> list:
    if history is None or history.size == 0:
        return [Diagnosis("history", "Your train should return, as its second value, the list of training "
                                     "losses (one per epoch or per step); it returned none.")]
    if not np.all(np.isfinite(history)):
        at = int(np.argmin(np.isfinite(history)))
        return [Diagnosis("diverged", f"Your training loss became {history[at]} at entry {at + 1} of your history: "
                                      "the training diverged. The learning rate is too large for this network "
                                      "(try 10 times smaller), or clip the gradient norm.")]
    if history.size >= 2 and history[-1] > history[0]:
        return [Diagnosis("diverged", f"Your training loss rose from {history[0]:.4g} to {history[-1]:.4g}: "
                                      "the training diverges. Lower the learning rate (by 10 at first).")]
    if history[-1] > _GUESS:
        return [Diagnosis("diverged", f"Your training loss ended at {history[-1]:.4g}, worse than guessing every "
                                      f"class with probability 1/10 (ln 10 = {_GUESS:.3f}): the steps are far too "
                                      "large. Lower the learning rate (by 10 at first).")]
    return []


def _probe_diagnoses(pred, probes) -> list:
    if not probes:
        return []
    again = probes["again"]
    if isinstance(again, str):
        return [Diagnosis("exception", f"A second call of your predict on the test set raised {again}.")]
    if np.any(again != pred):
        return [Diagnosis(
            "dropout_at_test",
            f"Two calls of your predict on the same test set gave different labels for {int(np.sum(again != pred))} "
            f"of {pred.size} images: dropout (or other randomness) is still on at evaluation. Predict in "
            "evaluation mode: no dropout masks (inverted dropout needs no rescaling at test time).")]
    single, half = probes["single"], probes["half"]
    if isinstance(single, str):
        how = f"Your predict fails on a single image ({single}), though it works on the whole test set"
    elif isinstance(half, str):
        how = f"Your predict fails on half of the test set ({half}), though it works on the whole set"
    elif np.any(single != pred[: single.size]) or np.any(half != pred[: half.size]):
        n = int(np.sum(single != pred[: single.size]))
        how = (f"Your predict gave other labels for {n} of {single.size} images predicted one at a time than "
               "for the same images within the whole test set" if n else
               "Your predict gave other labels for the first half of the test set predicted on its own than "
               "within the whole set")
    else:
        return []
    affine = probes["affine"]
    if not isinstance(affine, str) and np.mean(affine == pred) >= 0.98:
        return [Diagnosis(
            "standardiser_leak",
            f"{how}, and its labels do not change when every pixel of the test set is rescaled and shifted: "
            "predict standardises with the statistics of the data it is "
            "given, so the test data leaks into the standardiser. Compute mean and std on the training set in "
            "train, keep them with the network, and use those in predict.")]
    return [Diagnosis(
        "bn_train_mode",
        f"{how}: the labels depend on which other images share the batch. Batch normalisation is still in "
        "training mode at evaluation: in predict, normalise with the "
        "running mean and variance collected during training, not the batch's statistics.")]
