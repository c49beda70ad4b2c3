"""The capstone (lesson 19): the learner's assembled network and training run on the digits.

``capstone.gradient_check`` takes the learner's ``Network`` class and checks its
``loss_and_grads`` against finite differences of its own loss; ``capstone.train`` takes the
learner's ``train`` function, runs it under a time budget and grades the test accuracy of the
network it returns, with probes for the usual failures (see
:mod:`course.grader.run.training_protocol`).
"""

from __future__ import annotations

from ...capstone import Network, standardiser, train
from ...data import load_digits
from ..cases import Case
from ..compare.training_checks import gradient_verdict, training_verdict
from ..registry import register
from ..run.training_protocol import GradientCheck, TrainingRun

LESSON = "19_capstone"
#: Seconds the full training run may take (a run that goes over by half fails the case). Kept well
#: under the instructor sandbox's default exercise timeout (60 s), which covers both runs of the check.
TIME_BUDGET = 30.0
MIN_ACCURACY = 0.97


def _batch(rng, n):
    X, y = load_digits("train")
    mean, std = standardiser(X)
    rows = rng.choice(X.shape[0], size=n, replace=False)
    return (X[rows] - mean) / std, y[rows]


def _gradient_cases(rng):
    seeds = [int(s) for s in rng.integers(0, 10_000, size=4)]
    return [
        Case(_batch(rng, 16), note="16 standardised digits, a fresh network", N=16,
             extra={"seed": seeds[0], "dropout_seed": seeds[1]}),
        Case(_batch(rng, 5), note="5 digits (an odd batch), another seed", N=5,
             extra={"seed": seeds[2], "dropout_seed": seeds[3]}),
    ]


_GRADIENT_CHECK, _TRAINING_RUN = GradientCheck(), TrainingRun()


register(
    "capstone.gradient_check",
    lesson=LESSON,
    title="Your network's gradients against finite differences of your own loss",
    reference=Network,
    cases=_gradient_cases,
    outputs=("sampled gradients",),
    protocol=_GRADIENT_CHECK,
    judge=gradient_verdict,
    hints=(
        "Network(seed=...) must build params; loss_and_grads(X, y, rng=...) returns (loss, grads) with the keys "
        "of params, and draws its dropout masks from rng so that two calls with the same rng agree.",
        "Check each layer's backward on its own first (lessons 03, 10, 11), then assemble them in reverse order.",
    ),
)


def _train_cases(rng):
    seed = int(rng.integers(0, 10_000))
    return [
        Case(note="a short time budget (1 s): train stops in time and returns a working network",
             extra={"seed": seed + 1, "time_budget": 1.0, "min_accuracy": None}),
        Case(note=f"the full run ({TIME_BUDGET:g} s budget): test accuracy of at least {MIN_ACCURACY:.0%}, "
                  "and evaluation probes",
             extra={"seed": seed, "time_budget": TIME_BUDGET, "min_accuracy": MIN_ACCURACY, "probes": True,
                    "single": 24}),
    ]


register(
    "capstone.train",
    lesson=LESSON,
    title="Train a digits classifier: at least 97% test accuracy",
    reference=train,
    cases=_train_cases,
    outputs=("test labels",),
    protocol=_TRAINING_RUN,
    judge=training_verdict,
    hints=(
        "train(X, y, *, seed, time_budget) -> (network, history): standardise with the training statistics, hold "
        "out a validation part for early stopping, and return the network of the best validation epoch.",
        "predict(X) must not depend on the batch: eval-mode batch norm (running statistics), no dropout, and the "
        "standardiser's mean and std from training.",
    ),
)
