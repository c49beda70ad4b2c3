"""The capstone's verdicts (lesson 19): the compare phase's side of its two protocols.

The run phase (:mod:`course.grader.run.training_protocol`) calls the learner's network and
training run and returns plain data; these verdicts (``judge=`` of the capstone's exercises)
read only that data: the gradients against finite differences of the learner's own loss, and a
training run's test accuracy, history and probes.
"""

from __future__ import annotations

import numpy as np

from ..run.training_protocol import TOL
from ..run.values import close
from .findings import Diagnosis, OutputCheck

__all__ = ["gradient_verdict", "training_verdict"]

_GUESS = float(np.log(10.0))  # the cross-entropy of a uniform guess over the 10 digits


def gradient_verdict(ctx):
    """``judge=`` for ``register``: the compare phase's verdict on one case (data only)."""
    return _robust(_judge_gradients, ctx)

def _judge_gradients(ctx):
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
        ok = close(a, n, *TOL)
        checks.append(OutputCheck(f"grads[{name!r}] vs finite differences", ok, np.array2string(n, precision=4),
                                  np.array2string(a, precision=4)))
        if not ok:
            diags.append(Diagnosis("gradient_check", _gradient_message(name, a, n)))
    return not diags and bool(checks), diags, checks


def training_verdict(ctx):
    """``judge=`` for ``register``: the compare phase's verdict on one case (data only)."""
    return _robust(_judge_training, ctx)

def _judge_training(ctx):
    from ...data import load_digits

    labels = load_digits("test")[1]
    pred, extra, need = ctx.outcome.outputs, ctx.outcome.extra, ctx.case.extra.get("min_accuracy")
    acc = float(np.mean(pred == labels))
    diags = _history_diagnoses(extra["history"])
    budget, wall = extra["time_budget"], extra["wall_s"]
    if wall > 1.5 * budget + 2.0:
        diags.append(Diagnosis(
            "time_budget", f"Your train took {wall:.1f} s for a time budget of {budget:g} s: check "
            "time.perf_counter() - start against time_budget after every epoch and stop when it is spent."))
    checks = [OutputCheck("test accuracy", need is None or acc >= need,
                          f">= {need:.0%}" if need else "any", f"{acc:.2%} ({int(np.sum(pred == labels))} of "
                                                                f"{labels.size})")]
    if need is not None and acc < need:
        diags.append(Diagnosis(
            "accuracy", f"Your network reaches {acc:.2%} on the test split; at least {need:.0%} is needed. "
            "Train longer (within the budget), tune the learning rate and its schedule, and keep the "
            "parameters of the best validation epoch (early stopping)."))
    diags += _probe_diagnoses(pred, extra.get("probes"))
    return not diags, diags, checks


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
