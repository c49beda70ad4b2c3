"""Lesson 11's tuning procedures: the searches against hand-counted grids and a counting
``train_and_score``, the diagnosis against hand-computed cases, and the grader's protocol (budget
counted on the grader's side, choice on validation, named mistakes)."""

import json
import math
from pathlib import Path

import numpy as np
import pytest

from course.grader import check
from course.grader.run.search_protocols import CHANCE, search_scores
from course.tuning import ACTIONS, axis_values, diagnose, grid_search, grid_side, random_search

SPACE = {"lr": (1e-5, 1.0, "log"), "dropout": (0.0, 0.5, "linear")}


@pytest.fixture(autouse=True)
def _progress_off(monkeypatch):
    monkeypatch.setenv("COURSE_PROGRESS_FILE", "off")
    monkeypatch.delenv("COURSE_CHECK_STRICT", raising=False)


class Counter:
    """A train_and_score whose best validation run is known: val peaks at lr = 1e-2, dropout 0.1."""

    def __init__(self):
        self.configs = []

    def __call__(self, config):
        self.configs.append(dict(config))
        val = -abs(math.log10(config["lr"]) + 2) - abs(config["dropout"] - 0.1)
        return {"val_acc": val, "test_acc": -val}


@pytest.mark.parametrize("budget, d, k", [(1, 2, 1), (3, 2, 1), (4, 2, 2), (16, 2, 4), (30, 2, 5), (63, 3, 3),
                                          (64, 3, 4), (125, 3, 5), (1000, 3, 10), (10, 1, 10)])
def test_grid_side_is_the_integer_root(budget, d, k):
    assert grid_side(budget, d) == k
    assert k**d <= budget < (k + 1) ** d


def test_float_root_is_the_trap_the_lesson_names():
    assert int(64 ** (1 / 3)) == 3  # why grid_side counts with integers


def test_grid_search_trains_the_full_log_grid_once_and_picks_on_validation():
    f = Counter()
    best = grid_search(f, SPACE, 30)
    assert len(f.configs) == 25
    lrs = sorted({c["lr"] for c in f.configs})
    np.testing.assert_allclose(lrs, [1e-5, 1e-4 * 10**0.25, 10**-2.5, 10**-1.25, 1.0], rtol=1e-12)
    assert sorted({c["dropout"] for c in f.configs}) == [0.0, 0.125, 0.25, 0.375, 0.5]
    assert len({(c["lr"], c["dropout"]) for c in f.configs}) == 25
    tried = list(f.configs)
    assert best == max(tried, key=lambda c: f(c)["val_acc"])
    assert best["dropout"] == 0.125


def test_random_search_uses_the_whole_budget_log_uniformly():
    f = Counter()
    best = random_search(f, SPACE, 400, np.random.default_rng(0))
    assert len(f.configs) == 400
    exps = np.log10([c["lr"] for c in f.configs])
    assert exps.min() >= -5 and exps.max() <= 0
    assert 0.4 < np.mean(exps < -2.5) < 0.6  # half below the geometric middle
    tried = list(f.configs)
    assert best in tried and f(best)["val_acc"] == max(f(c)["val_acc"] for c in tried)


def test_axis_values():
    np.testing.assert_allclose(axis_values(1e-4, 1.0, "log", 5), [1e-4, 1e-3, 1e-2, 1e-1, 1.0], rtol=1e-12)
    np.testing.assert_allclose(axis_values(0.0, 0.5, "linear", 3), [0.0, 0.25, 0.5])


@pytest.mark.parametrize("bad, words", [({"lr": (1.0, 0.1, "log")}, "low < high"),
                                        ({"lr": (0.0, 1.0, "log")}, "low > 0"),
                                        ({"lr": (0.1, 1.0, "ln")}, "'log' or 'linear'"), ({}, "non-empty")])
def test_bad_space_is_named(bad, words):
    with pytest.raises((ValueError, TypeError), match=words):
        grid_search(Counter(), bad, 4)


def test_bad_budget_is_named():
    with pytest.raises(ValueError, match="budget must be an int >= 1"):
        random_search(Counter(), SPACE, 0, np.random.default_rng(0))


# hand-computed: (train, val, target, tol) -> verdict
HAND = [
    ((12, 13, 5, 2), "high bias"), ((1, 9, 0.5, 2), "high variance"), ((9, 20, 5, 2), "both"),
    ((5.5, 6.5, 5, 2), "ok"), ((7, 8, 5, 2), "ok"), ((7, 9, 5, 2), "ok"), ((7.5, 9, 5, 2), "high bias"),
    ((3, 5, 2, 2), "ok"), ((3, 5.5, 2, 2), "high variance"), ((6, 5, 5, 2), "ok"), ((4, 1, 3.5, 2), "ok"),
    ((5.75, 6, 5, 0.5), "high bias"), ((5.5, 6, 5, 0.5), "ok"), ((2, 9, 0, 2), "high variance"),
]


@pytest.mark.parametrize("args, verdict", HAND)
def test_diagnose_hand_cases(args, verdict):
    train, val, target, tol = args
    assert diagnose(train, val, target, tol) == (verdict, ACTIONS[verdict])


def test_notebook_actions_are_the_courses():
    nb = json.loads(Path("solutions/11_regularization.ipynb").read_text(encoding="utf-8"))
    src = next("".join(c["source"]) for c in nb["cells"] if "".join(c["source"]).startswith("ACTIONS = {"))
    scope: dict = {}
    exec(src.split("\n\n\ndef ")[0], scope)
    assert scope["ACTIONS"] == ACTIONS


def test_grader_scores_disagree_and_never_fall_below_chance():
    val, test = search_scores(SPACE, [1e-5 * 10**(0.62 * 5), 0.35 * 0.5])
    assert val == pytest.approx(0.97) and test < val - 0.05
    assert search_scores(SPACE, [-1.0, 0.2]) == (CHANCE, CHANCE)
    assert search_scores(SPACE, [1e9, 0.2])[0] == CHANCE


@pytest.mark.parametrize("exercise, fn", [("tuning.grid_search", grid_search), ("tuning.random_search", random_search),
                                          ("tuning.diagnose", diagnose)])
def test_references_pass(exercise, fn):
    assert check(exercise, fn, record=False).passed


def _random_then_rerun_twice(train_and_score, space, budget, rng):
    best = random_search(train_and_score, space, budget - 1, rng)
    train_and_score(best)
    train_and_score(best)
    return best


def test_budget_is_counted_by_the_grader():
    r = check("tuning.random_search", _random_then_rerun_twice, record=False)
    assert not r.passed and "over_budget" in r.diagnosis_names
    assert "the budget is 30 training runs" in str(r)


def test_picking_on_test_is_named_with_both_scores():
    def on_test(train_and_score, space, budget, rng):
        configs = [{n: float(10 ** rng.uniform(math.log10(lo), math.log10(hi))) if s == "log" else
                    float(rng.uniform(lo, hi)) for n, (lo, hi, s) in space.items()} for _ in range(budget)]
        scores = [train_and_score(c) for c in configs]
        return configs[int(np.argmax([s["test_acc"] for s in scores]))]

    r = check("tuning.random_search", on_test, record=False)
    assert "picked_on_test" in r.diagnosis_names
    assert "Choose on val_acc only" in str(r)


def test_linear_scale_grid_names_the_axis():
    def linear(train_and_score, space, budget):
        return grid_search(train_and_score, {n: (lo, hi, "linear") for n, (lo, hi, _) in space.items()}, budget)

    r = check("tuning.grid_search", linear, record=False)
    assert r.diagnosis_names == ["linear_scale"]
    assert "np.geomspace(1e-05, 1, k)" in str(r)
    assert "Your learning rates are evenly spaced" not in str(r)  # the variant's words: the judge said it already


def test_tie_is_named_with_the_rule():
    def ties(train_err, val_err, target_err, tol=2.0):
        return diagnose(train_err, val_err, target_err, tol - 1e-9)

    r = check("tuning.diagnose", ties, record=False)
    assert "a gap equal to tol is not high (use >, not >=)" in str(r)
    assert "ties_count_as_high" in r.diagnosis_names  # a variant matched on strings


def test_wrong_return_type_is_named():
    r = check("tuning.grid_search", lambda f, space, budget: list(space), record=False)
    assert "type" in r.diagnosis_names and "a dict with the keys" in str(r)
