"""The capstone's grading: the reference passes, and each usual failure, planted in a network or a
training run, is named by its diagnosis. Faulty runs are short (a few epochs of the reference)."""

import numpy as np
import pytest

from course.capstone import Network, train
from course.grader import cases, check, get, reference_outcomes, run
from course.grader.compare import core as compare
from course.layers import batchnorm_forward, dropout_forward, linear_forward, relu_forward


@pytest.fixture(autouse=True)
def _progress_off(monkeypatch):
    monkeypatch.setenv("COURSE_PROGRESS_FILE", "off")
    monkeypatch.delenv("COURSE_CHECK_STRICT", raising=False)


def names(exercise_id, fn):
    result = check(exercise_id, fn, record=False)
    assert not result.passed, str(result)
    return result.diagnosis_names


# ---------------------------------------------------------------------------------------------
# the gradient check


def test_reference_network_passes_and_is_compared_with_itself():
    result = check("capstone.gradient_check", Network, record=False)
    assert result.passed and not result.diagnoses, str(result)


class DoubledW1(Network):
    def loss_and_grads(self, X, y, rng=None):
        loss, g = super().loss_and_grads(X, y, rng)
        g["W1"] = 2 * g["W1"]
        return loss, g


class NoGamma(Network):
    def loss_and_grads(self, X, y, rng=None):
        loss, g = super().loss_and_grads(X, y, rng)
        del g["gamma1"]
        return loss, g


class GlobalRandomDropout(Network):
    def loss_and_grads(self, X, y, rng=None):
        return super().loss_and_grads(X, y, np.random.default_rng())  # ignores the rng it is given


class BetaGradZero(Network):
    def loss_and_grads(self, X, y, rng=None):
        loss, g = super().loss_and_grads(X, y, rng)
        g["beta1"] = np.zeros_like(g["beta1"])
        return loss, g


def test_wrong_gradient_is_named_with_its_factor():
    result = check("capstone.gradient_check", DoubledW1, record=False)
    assert not result.passed and "gradient_check" in result.diagnosis_names
    text = str(result)
    assert "grads['W1']" in text and "2 times" in text and "grads['W2']" not in text.split("What is wrong")[1]


def test_missing_gradient_key_is_named():
    assert "gradient_keys" in names("capstone.gradient_check", NoGamma)


def test_dropout_from_the_global_generator_is_named():
    assert "nondeterministic_loss" in names("capstone.gradient_check", GlobalRandomDropout)


def test_zero_gradient_says_so():
    result = check("capstone.gradient_check", BetaGradZero, record=False)
    assert "gradient_check" in result.diagnosis_names and "all zeros" in str(result)


# ---------------------------------------------------------------------------------------------
# the training run (the reference trains once per seed: its outcomes are cached)


def short_train(X, y, *, seed=0, time_budget=60.0, **kw):
    return train(X, y, seed=seed, time_budget=time_budget, epochs=kw.pop("epochs", 6), **kw)


def _eval_hidden(net, X):
    p = net.params
    z = linear_forward((X - net.mean) / net.std, p["W1"], p["b1"])[0]
    net.bn["mode"] = "eval"
    return relu_forward(batchnorm_forward(z, p["gamma1"], p["beta1"], net.bn)[0])[0]


def faulty(predict):
    """A short run whose network predicts with ``predict(net, X)``."""

    def train_fn(X, y, *, seed=0, time_budget=60.0):
        net, history = short_train(X, y, seed=seed, time_budget=time_budget)
        net.predict = lambda X: predict(net, X)
        return net, history

    return train_fn


def bn_in_train_mode(net, X):
    p = net.params
    z = linear_forward((X - net.mean) / net.std, p["W1"], p["b1"])[0]
    z = batchnorm_forward(z, p["gamma1"], p["beta1"], {"mode": "train"})[0]  # the batch's statistics
    return np.argmax(linear_forward(relu_forward(z)[0], p["W2"], p["b2"])[0], axis=1)


def dropout_at_test(net, X):
    h = dropout_forward(_eval_hidden(net, X), 0.2, train=True, rng=np.random.default_rng())[0]
    return np.argmax(linear_forward(h, net.params["W2"], net.params["b2"])[0], axis=1)


def leaky_standardiser(net, X):
    net.mean, net.std = X.mean(axis=0), X.std(axis=0) + 1e-8  # refitted on the data to predict
    return np.argmax(linear_forward(_eval_hidden(net, X), net.params["W2"], net.params["b2"])[0], axis=1)


def test_reference_training_passes_with_accuracy_of_at_least_97_percent():
    ex = get("capstone.train")
    case_list = cases(ex, 0)
    outcomes = reference_outcomes(ex, 0)
    results = compare(ex, case_list, outcomes, outcomes)
    assert all(r.passed for r in results), [d.message for r in results for d in r.diagnoses]
    labels = __import__("course.data", fromlist=["x"]).load_digits("test")[1]
    assert np.mean(outcomes[1].outputs == labels) >= 0.97
    from course.grader.topics.capstone import TIME_BUDGET

    assert outcomes[1].extra["wall_s"] < 1.5 * TIME_BUDGET + 2


@pytest.mark.parametrize("fault, name", [
    (bn_in_train_mode, "bn_train_mode"),
    (dropout_at_test, "dropout_at_test"),
    (leaky_standardiser, "standardiser_leak"),
])
def test_evaluation_faults_are_named(fault, name):
    found = names("capstone.train", faulty(fault))
    assert name in found
    others = {"bn_train_mode", "dropout_at_test", "standardiser_leak"} - {name}
    assert not others & set(found)


def test_diverging_learning_rate_is_named():
    assert "diverged" in names("capstone.train", lambda X, y, **kw: short_train(X, y, lr=1e3, **kw))


def test_nan_loss_history_is_named():
    def nan_history(X, y, **kw):
        net, history = short_train(X, y, **kw)
        return net, history + [float("nan")]

    assert "diverged" in names("capstone.train", nan_history)


def test_too_few_epochs_is_an_accuracy_failure():
    assert "accuracy" in names("capstone.train", lambda X, y, **kw: short_train(X, y, epochs=1, **kw))


def test_ignoring_the_time_budget_is_named():
    import time

    def slow(X, y, *, seed=0, time_budget=60.0):
        out = short_train(X, y, seed=seed, time_budget=time_budget, epochs=1)
        if time_budget < 5:
            time.sleep(1.5 * time_budget + 2.5)
        return out

    assert "time_budget" in names("capstone.train", slow)


def test_malformed_returns_are_explained():
    result = check("capstone.train", lambda X, y, **kw: short_train(X, y, **kw)[0], record=False)
    assert "count" in result.diagnosis_names and "(network, history)" in str(result)
    assert "history" in names("capstone.train", lambda X, y, **kw: (short_train(X, y, **kw)[0], []))

    def bad_predict(X, y, **kw):
        net, h = short_train(X, y, **kw)
        net.predict = lambda X: np.zeros((X.shape[0], 10))  # scores, not labels
        return net, h

    result = check("capstone.train", bad_predict, record=False)
    assert "type" in result.diagnosis_names and "labels" in str(result)


def test_outcomes_cross_the_sandbox_wire_and_give_the_same_verdict(tmp_path):
    from course.instructor.sandbox.inside import wire

    ex = get("capstone.train")
    case_list = cases(ex, 0)
    outcomes = run(ex, faulty(leaky_standardiser), case_list)
    wire.dump(outcomes, tmp_path / "o.json")
    loaded, _ = wire.load(tmp_path / "o.json")
    refs = reference_outcomes(ex, 0)
    before = [r.diagnoses for r in compare(ex, case_list, outcomes, refs)]
    after = [r.diagnoses for r in compare(ex, case_list, loaded, refs)]
    assert [[d.name for d in ds] for ds in before] == [[d.name for d in ds] for ds in after]
    grad = get("capstone.gradient_check")
    gcases = cases(grad, 0)
    gout = run(grad, DoubledW1, gcases)
    wire.dump(gout, tmp_path / "g.json")
    gloaded, _ = wire.load(tmp_path / "g.json")
    assert [r.passed for r in compare(grad, gcases, gloaded, gout)] == [False, False]


def test_hostile_outcome_data_fails_the_case_without_crashing():
    from course.grader.run.runner import Outcome

    ex = get("capstone.train")
    case_list = cases(ex, 0)
    refs = reference_outcomes(ex, 0)
    hostile = [Outcome(outputs=np.zeros(364, dtype=np.int64), extra={"history": "x"}) for _ in case_list]
    results = compare(ex, case_list, hostile, refs)
    assert not any(r.passed for r in results)
