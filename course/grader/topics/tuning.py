"""Tuning by procedure (lesson 11): grid and random search under a fixed budget, graded on their
protocol, and the bias/variance diagnosis.

The searches run against the grader's own ``train_and_score``
(:class:`~course.grader.run.search_protocols.SearchRun`), which counts every call and records every
configuration; its validation and test scores peak at different places, so a search that picks
on test is told apart from one that picks on validation. The judge checks, in order: the budget
(every call is a training run), the values tried (ranges, the scale of each axis, a full grid),
then the pick.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from ...tuning import ACTIONS, axis_values, diagnose, grid_search, grid_side, random_search
from ..cases import Case
from ..compare.findings import Diagnosis, OutputCheck
from ..registry import Variant, register
from ..run.search_protocols import SearchRun, search_scores

LESSON = "11_regularization"

SPACE2 = {"lr": (1e-5, 1.0, "log"), "dropout": (0.0, 0.5, "linear")}
SPACE3 = {"lr": (1e-4, 1.0, "log"), "weight_decay": (1e-6, 1e-2, "log"), "dropout": (0.0, 0.5, "linear")}


def _search_cases(rng, seeded):
    def case(space, budget, note):
        extra = {"space": space, "budget": budget}
        if seeded:
            extra["seed"] = int(rng.integers(0, 2**31))
        return Case(note=note, extra=extra)

    return [
        case(SPACE2, 30, "lr (log) and dropout (linear), budget 30"),
        case(SPACE2, 16, "budget 16 = 4 x 4 exactly"),
        case(SPACE3, 64, "three hyper-parameters, budget 64 = 4 x 4 x 4"),
    ]


def _judge(seeded):
    def judge(ctx):
        space, budget = ctx.case.extra["space"], int(ctx.case.extra["budget"])
        calls, table, picked = ctx.outcome.outputs
        calls, d = int(calls), len(space)
        k = grid_side(budget, d)
        want = budget if seeded else k**d
        diags = []
        if calls > budget:
            msg = (f"You called train_and_score {calls} times; the budget is {budget} training runs, and every "
                   "call trains a network. Training the chosen configuration again to read its score is a run "
                   "too: keep the scores you already have.")
            if not seeded:
                msg += f" A grid of k values on each of the {d} axes costs k**{d} runs: k = {k} is the largest " \
                       f"with k**{d} <= {budget}."
            diags.append(Diagnosis("over_budget", msg))
        elif calls < want:
            msg = (f"You ran {calls} trainings; the budget is {budget}. Grid and random search are compared at the "
                   "same budget: ")
            msg += (f"random search uses all {budget} runs (it is not tied to a k**d grid)." if seeded else
                    f"k = {k} values per axis make {k**d} <= {budget} runs; use the largest such k (with integers: "
                    f"{budget} ** (1/{d}) in floating point can fall just below a whole number).")
            diags.append(Diagnosis("different_budget", msg))
        diags += _values(space, table, seeded)
        diags += _pick(space, table, picked)
        ok = not diags
        checks = [OutputCheck("runs", calls <= budget and calls >= want, str(want), str(calls)),
                  OutputCheck("choice", ok, "the best on validation", "see above" if diags else "the best")]
        return ok, diags, checks

    return judge


def _values(space, table, seeded):
    out = []
    for i, (name, (low, high, scale)) in enumerate(space.items()):
        col = table[:, i]
        if col.size == 0:
            continue
        span = (high - low) * 1e-9
        if not np.all(np.isfinite(col)) or col.min() < low - span or col.max() > high + span:
            out.append(Diagnosis("out_of_range", f"Your values of {name} go from {col.min():.4g} to "
                                                 f"{col.max():.4g}; the space is [{low:g}, {high:g}]."))
            continue
        if seeded:
            mid = math.sqrt(low * high) if scale == "log" else (low + high) / 2
            below = float(np.mean(col < mid))
            if scale == "log" and below < 0.1:
                out.append(Diagnosis("linear_scale", (
                    f"Your values of {name} are spread evenly on a linear scale: only {below:.0%} fell below "
                    f"{mid:.3g} = sqrt(low * high), where half of them should. {name} spans "
                    f"{math.log10(high / low):.0f} decades and each decade matters as much: draw "
                    "10 ** rng.uniform(log10(low), log10(high)).")))
            elif below < 0.1 or below > 0.9:
                out.append(Diagnosis("distribution", f"Only {below:.0%} of your values of {name} fell below the "
                                                     f"middle of its range, {mid:.3g}: draw them uniformly on a "
                                                     f"{scale} scale."))
            continue
        got = np.unique(col)  # the spacing is judged for the learner's own count (the budget is judged above)
        exp = axis_values(low, high, scale, got.size)
        if np.allclose(got, exp, rtol=1e-9, atol=0):
            continue
        lin = axis_values(low, high, "linear", got.size)
        if scale == "log" and np.allclose(got, lin, rtol=1e-9, atol=0):
            out.append(Diagnosis("linear_scale", (
                f"Your grid's values of {name} are evenly spaced on a linear scale ({_few(got)}): most of them "
                f"sit in the top decade. {name} is searched on a log scale: np.geomspace({low:g}, {high:g}, k).")))
        else:
            out.append(Diagnosis("grid_values", (
                f"Your grid's values of {name} are {_few(got)}; {got.size} values from {low:g} to {high:g}, "
                f"ends included, evenly spaced on a {scale} scale, are {_few(exp)}.")))
    combos = int(np.prod([np.unique(table[:, i]).size for i in range(table.shape[1])])) if table.size else 0
    if not seeded and not out and (len({tuple(r) for r in table}) != table.shape[0] or table.shape[0] != combos):
        out.append(Diagnosis("grid_values", "Your grid does not train every combination of its values exactly once: "
                                            "itertools.product of the axes' values gives each combination once."))
    return out


def _few(values) -> str:
    shown = ", ".join(f"{v:.3g}" for v in values[:6])
    return shown + (", ..." if len(values) > 6 else "")


def _pick(space, table, picked):
    if table.shape[0] == 0:
        return [Diagnosis("pick", "You trained nothing: call train_and_score(config) for every configuration.")]
    scores = np.array([search_scores(space, row) for row in table])
    same = np.all(np.isclose(table, picked, rtol=1e-9, atol=1e-12), axis=1)
    if not same.any():
        return [Diagnosis("pick", f"You returned {_config(space, picked)}, which is none of the configurations "
                                  "you trained: return the dict you passed to train_and_score for the best run.")]
    val, test = scores[same][0]
    best_val, best_test = scores[:, 0].max(), scores[:, 1].max()
    if val >= best_val - 1e-12:
        return []
    if test >= best_test - 1e-12:
        return [Diagnosis("picked_on_test", (
            f"You chose the run with the best TEST score ({test:.3f}); its validation score is {val:.3f}, and "
            f"another run reached {best_val:.3f} on validation. Choose on val_acc only: a test score used to "
            "choose becomes a second validation score, and the number you report is then optimistic."))]
    return [Diagnosis("pick", f"Your choice has val_acc {val:.3f}; your best run had {best_val:.3f}. Return the "
                              "configuration with the highest val_acc (higher is better).")]


def _config(space, row) -> str:
    return "{" + ", ".join(f"{n!r}: {v:.4g}" for n, v in zip(space, row)) + "}"


# Variants: searches with one typical mistake each


def _linear_grid(train_and_score, space, budget):
    return grid_search(train_and_score, {n: (lo, hi, "linear") for n, (lo, hi, _) in space.items()}, budget)


def _grid_rounded_up(train_and_score, space, budget):
    k = math.ceil(budget ** (1 / len(space)) - 1e-9)
    if k**len(space) == budget:
        k += 1
    axes = [axis_values(lo, hi, s, k) for lo, hi, s in space.values()]
    return _pick_best(train_and_score, [dict(zip(space, map(float, c))) for c in itertools.product(*axes)], "val_acc")


def _pick_best(train_and_score, configs, key):
    scored = [(train_and_score(c)[key], c) for c in configs]
    return max(scored, key=lambda t: t[0])[1]


def _draws(space, n, rng, log=True):
    return [{name: float(10 ** rng.uniform(math.log10(lo), math.log10(hi))) if (s == "log" and log)
             else float(rng.uniform(lo, hi)) for name, (lo, hi, s) in space.items()} for _ in range(n)]


def _grid_on_test(train_and_score, space, budget):
    k = grid_side(budget, len(space))
    axes = [axis_values(lo, hi, s, k) for lo, hi, s in space.values()]
    return _pick_best(train_and_score, [dict(zip(space, map(float, c))) for c in itertools.product(*axes)], "test_acc")


def _random_linear(train_and_score, space, budget, rng):
    return _pick_best(train_and_score, _draws(space, budget, rng, log=False), "val_acc")


def _random_on_test(train_and_score, space, budget, rng):
    return _pick_best(train_and_score, _draws(space, budget, rng), "test_acc")


def _random_rerun_best(train_and_score, space, budget, rng):
    best = random_search(train_and_score, space, budget, rng)
    train_and_score(best)  # "to read its final score": one run more than the budget
    return best


def _random_grid_count(train_and_score, space, budget, rng):
    n = grid_side(budget, len(space)) ** len(space)
    return _pick_best(train_and_score, _draws(space, n, rng), "val_acc")


_ON_TEST = "You chose on the test score: choose on val_acc only."
register(
    "tuning.grid_search", lesson=LESSON, title="Grid search under a budget", reference=grid_search,
    cases=lambda rng: _search_cases(rng, False), outputs=("runs", "configurations", "choice"),
    arg_names=("train_and_score", "space", "budget"), protocol=SearchRun(seeded=False), judge=_judge(False),
    variants=(
        Variant("linear_scale", _linear_grid, "Your learning rates are evenly spaced on a linear scale."),
        Variant("over_budget", _grid_rounded_up, "Your grid needs more runs than the budget."),
        Variant("picked_on_test", _grid_on_test, _ON_TEST),
    ),
    hints=("k = the largest integer with k ** len(space) <= budget (check with integers).",
           "values per axis: np.geomspace(low, high, k) for 'log', np.linspace(low, high, k) for 'linear'; "
           "itertools.product(*axes) gives every combination.",
           "Keep the config with the highest train_and_score(config)['val_acc']."),
)
register(
    "tuning.random_search", lesson=LESSON, title="Random search under a budget", reference=random_search,
    cases=lambda rng: _search_cases(rng, True), outputs=("runs", "configurations", "choice"),
    arg_names=("train_and_score", "space", "budget", "rng"), protocol=SearchRun(seeded=True), judge=_judge(True),
    variants=(
        Variant("linear_scale", _random_linear, "Your learning rates are drawn uniformly on a linear scale."),
        Variant("over_budget", _random_rerun_best, "You trained the chosen configuration once more."),
        Variant("picked_on_test", _random_on_test, _ON_TEST),
        Variant("different_budget", _random_grid_count, "Your random search ran as many runs as the grid."),
    ),
    hints=("For each of the budget runs draw every value: 10 ** rng.uniform(np.log10(low), np.log10(high)) on a "
           "'log' axis, rng.uniform(low, high) on a 'linear' one.",
           "Keep the config with the highest train_and_score(config)['val_acc']."),
)


# ---------------------------------------------------------------------------------------------
# Bias and variance


def _diagnose_cases(rng):
    def case(train, val, target, note, tol=None):
        kwargs = {} if tol is None else {"tol": tol}
        return Case((train, val, target), kwargs, note=note)

    return [
        case(12.0, 13.0, 5.0, "training error far above the target"),
        case(1.0, 9.0, 0.5, "a large gap between training and validation"),
        case(9.0, 20.0, 5.0, "both gaps large"),
        case(5.5, 6.5, 5.0, "both gaps small"),
        case(7.0, 8.0, 5.0, "avoidable error exactly tol = 2 (a tie is not high)"),
        case(3.0, 5.0, 2.0, "gap exactly tol = 2 (a tie is not high)"),
        case(6.0, 5.0, 5.0, "validation error below the training error"),
        case(4.0, 1.0, 3.5, "validation error far below the training error (a negative gap is not high)"),
        case(5.75, 6.0, 5.0, "tol = 0.5", tol=0.5),
        case(2.0, 9.0, 0.0, "target 0, high variance only"),
    ]


def _diagnose_judge(ctx):
    train, val, target = ctx.case.args
    tol = ctx.case.kwargs.get("tol", 2.0)
    expected = ctx.reference.outputs
    got = ctx.outcome.outputs
    ok = isinstance(got, tuple) and len(got) == 2 and tuple(got) == tuple(expected)
    checks = [OutputCheck("verdict, action", ok, repr(expected), repr(got)[:120])]
    if ok:
        return True, [], checks
    bias, var = train - target, val - train
    if not (isinstance(got, tuple) and len(got) == 2 and all(isinstance(g, str) for g in got)):
        msg = f"Return a tuple (verdict, action) of two strings, e.g. {expected!r}."
        return False, [Diagnosis("type", msg)], checks
    verdict, action = got
    if verdict == expected[0]:
        return False, [Diagnosis("action", f"The verdict {verdict!r} is right; its action is {ACTIONS[verdict]!r} "
                                           f"(the table ACTIONS), not {action[:60]!r}.")], checks
    facts = (f"Here the avoidable error (bias) is train - target = {bias:g} points and the gap (variance) is "
             f"val - train = {var:g} points, with tol = {tol:g}")
    tie = abs(bias - tol) < 1e-12 or abs(var - tol) < 1e-12
    tail = ": a gap equal to tol is not high (use >, not >=)." if tie else f", so the verdict is {expected[0]!r}."
    return False, [Diagnosis("verdict", facts + tail)], checks


def _ties_high(train_err, val_err, target_err, tol=2.0):
    b, v = train_err - target_err >= tol, val_err - train_err >= tol
    verdict = "both" if b and v else "high bias" if b else "high variance" if v else "ok"
    return verdict, ACTIONS[verdict]


def _variance_from_target(train_err, val_err, target_err, tol=2.0):
    return diagnose(train_err, val_err + (train_err - target_err), target_err, tol)


def _both_as_bias(train_err, val_err, target_err, tol=2.0):
    verdict, _ = diagnose(train_err, val_err, target_err, tol)
    verdict = "high bias" if verdict == "both" else verdict
    return verdict, ACTIONS[verdict]


register(
    "tuning.diagnose", lesson=LESSON, title="Bias and variance: the diagnosis", reference=diagnose,
    cases=_diagnose_cases, outputs=("verdict, action",), arg_names=("train_err", "val_err", "target_err"),
    judge=_diagnose_judge,
    variants=(
        Variant("ties_count_as_high", _ties_high, "A gap equal to tol counted as high: use >."),
        Variant("variance_from_target", _variance_from_target,
                "You measured the variance from the target: it is val_err - train_err."),
        Variant("both_as_bias", _both_as_bias, "With both gaps high, say 'both'."),
    ),
    hints=("bias = train_err - target_err; variance = val_err - train_err; each is high when > tol.",
           "Return (verdict, ACTIONS[verdict])."),
)
