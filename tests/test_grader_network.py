"""Lesson 03's own exercise, network.two_layer_step: the reference against independent oracles
(finite differences, PyTorch), and each named mistake is caught."""

import numpy as np
import pytest

from course.gradcheck import numerical_gradient, relative_error
from course.grader import cases, check, get
from course.grader.topics import network
from course.grader.topics.network import two_layer_loss_and_grads, two_layer_step

ID = "network.two_layer_step"


@pytest.fixture(autouse=True)
def _progress_off(monkeypatch):
    monkeypatch.setenv("COURSE_PROGRESS_FILE", "off")
    monkeypatch.delenv("COURSE_CHECK_STRICT", raising=False)


def _problem(seed=0, N=5, D=4, H=6, C=3):
    rng = np.random.default_rng(seed)
    params = {
        "W1": rng.standard_normal((D, H)),
        "b1": rng.standard_normal(H),
        "W2": rng.standard_normal((H, C)),
        "b2": rng.standard_normal(C),
    }
    return params, rng.standard_normal((N, D)), rng.integers(0, C, N)


def test_registered_for_lesson_03():
    ex = get(ID)
    assert ex.lesson == "03_backprop" and ex.points == 2


def test_reference_gradients_match_finite_differences():
    params, X, y = _problem()
    _, grads = two_layer_loss_and_grads(params, X, y)
    for name in params:
        num = numerical_gradient(lambda _: two_layer_loss_and_grads(params, X, y)[0], params[name])
        assert relative_error(num, grads[name]) < 1e-7, name


def test_step_returns_new_arrays_and_leaves_params_alone():
    params, X, y = _problem(1)
    before = {k: v.copy() for k, v in params.items()}
    loss, grads, new = two_layer_step(params, X, y, 0.3)
    for k in params:
        np.testing.assert_array_equal(params[k], before[k])
        np.testing.assert_allclose(new[k], before[k] - 0.3 * grads[k])
    assert loss == pytest.approx(two_layer_loss_and_grads(before, X, y)[0])
    assert two_layer_loss_and_grads(new, X, y)[0] < loss  # a small step downhill lowers the loss


def test_matches_pytorch():
    torch = pytest.importorskip("torch")
    params, X, y = _problem(2)
    loss, grads = two_layer_loss_and_grads(params, X, y)
    t = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    scores = torch.relu(torch.tensor(X) @ t["W1"] + t["b1"]) @ t["W2"] + t["b2"]
    t_loss = torch.nn.functional.cross_entropy(scores, torch.tensor(y))
    t_loss.backward()
    assert loss == pytest.approx(t_loss.item(), rel=1e-12)
    for k in params:
        np.testing.assert_allclose(grads[k], t[k].grad.numpy(), rtol=1e-10, atol=1e-12)


def test_cases_keep_away_from_relu_kinks():
    for seed in range(3):
        for case in cases(ID, seed):
            params, X = case.args[0], case.args[1]
            h = X @ params["W1"] + params["b1"]
            assert np.min(np.abs(h)) > 1e-6


@pytest.mark.parametrize("name, fn", [(n, f) for n, f, _ in network._VARIANTS])
def test_each_mistake_is_named(name, fn):
    result = check(ID, fn, record=False)
    assert not result.passed
    assert name in result.diagnosis_names


def test_in_place_update_is_reported():
    def in_place(params, X, y, lr):
        loss, grads = two_layer_loss_and_grads(params, X, y)
        for k in params:
            params[k] -= lr * grads[k]
        return loss, grads, params

    result = check(ID, in_place, record=False)
    assert not result.passed and "mutated" in result.diagnosis_names


def test_sum_instead_of_mean_is_blamed_on_the_batch_size():
    def summed(params, X, y, lr):
        loss, grads = two_layer_loss_and_grads(params, X, y)
        grads = {k: g * X.shape[0] for k, g in grads.items()}
        return loss, grads, {k: params[k] - lr * grads[k] for k in params}

    result = check(ID, summed, record=False)
    assert not result.passed
    assert any("batch size N" in d.message for d in result.diagnoses)


def test_not_attempted_and_reference_pass():
    def stub(params, X, y, lr):
        raise NotImplementedError

    assert check(ID, stub, record=False).status == "not_attempted"
    assert check(ID, two_layer_step, record=False).passed


def test_init_regressor_shapes_and_named_bugs():
    # the lesson's shape-error story: W2 created (1, 1), or transposed, is named; the fix passes
    assert get("network.init_regressor").lesson == "03_backprop"
    params = network.init_regressor(np.random.default_rng(2), D=3, H=4, M=2)
    assert {k: v.shape for k, v in params.items()} == {"W1": (3, 4), "b1": (4,), "W2": (4, 2), "b2": (2,)}
    assert check("network.init_regressor", network.init_regressor).passed
    for bug, name in [(network._w2_one_by_one, "w2_one_by_one"), (network._w2_transposed, "w2_transposed")]:
        result = check("network.init_regressor", bug)
        assert not result.passed and name in {d.name for d in result.diagnoses}
