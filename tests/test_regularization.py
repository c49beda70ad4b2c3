"""Tests for course.regularization: penalties (hand-computed, finite differences, SGD weight decay)
and early stopping."""

from __future__ import annotations

import numpy as np
import pytest

from course.optim import SGD
from course.regularization import EarlyStopping, l1_penalty, l2_penalty


def test_l2_penalty_hand_computed():
    params = {"W": np.array([[1.0, -2.0], [0.0, 3.0]]), "b": np.array([5.0])}
    loss, grads = l2_penalty(params, 0.1)
    assert loss == pytest.approx(0.05 * (1 + 4 + 9 + 25))  # lam/2 * sum w^2 = 1.95
    np.testing.assert_allclose(grads["W"], [[0.1, -0.2], [0.0, 0.3]], rtol=1e-15)
    np.testing.assert_allclose(grads["b"], [0.5], rtol=1e-15)


def test_l1_penalty_hand_computed():
    params = {"W": np.array([[1.0, -2.0], [0.0, 3.0]]), "b": np.array([5.0])}
    loss, grads = l1_penalty(params, 0.1)
    assert loss == pytest.approx(0.1 * 11)
    np.testing.assert_allclose(grads["W"], [[0.1, -0.1], [0.0, 0.1]], rtol=1e-15)  # 0 at w = 0


def test_names_choose_the_penalised_parameters():
    params = {"W": np.array([2.0, -1.0]), "b": np.array([4.0])}
    for penalty in (l1_penalty, l2_penalty):
        loss, grads = penalty(params, 0.5, names=["W"])
        full, _ = penalty({"W": params["W"]}, 0.5)
        assert loss == full
        assert set(grads) == {"W", "b"}
        np.testing.assert_array_equal(grads["b"], [0.0])
    assert l2_penalty(params, 0.5, names="b")[0] == pytest.approx(4.0)
    with pytest.raises(ValueError, match="not in params"):
        l2_penalty(params, 0.5, names=["c"])
    with pytest.raises(ValueError, match="lam"):
        l1_penalty(params, -0.1)
    with pytest.raises(TypeError, match="params must be a dict"):
        l2_penalty([np.ones(2)], 0.1)


@pytest.mark.parametrize("penalty", [l1_penalty, l2_penalty])
def test_penalty_gradients_match_finite_differences(penalty):
    rng = np.random.default_rng(0)
    params = {"W": rng.standard_normal((3, 2)), "b": rng.standard_normal(2)}
    _, grads = penalty(params, 0.3)
    h = 1e-6
    for k, w in params.items():
        num = np.zeros_like(w)
        for idx in np.ndindex(w.shape):
            old = w[idx]
            w[idx] = old + h
            plus, _ = penalty(params, 0.3)
            w[idx] = old - h
            minus, _ = penalty(params, 0.3)
            w[idx] = old
            num[idx] = (plus - minus) / (2 * h)
        np.testing.assert_allclose(grads[k], num, rtol=1e-6, atol=1e-8)


def test_l2_penalty_is_sgd_weight_decay():
    rng = np.random.default_rng(1)
    W0 = rng.standard_normal((3, 3))
    lam, lr = 0.05, 0.1
    a, b = {"W": W0.copy()}, {"W": W0.copy()}
    decayed, plain = SGD(a, lr=lr, momentum=0.9, weight_decay=lam), SGD(b, lr=lr, momentum=0.9)
    for _ in range(10):
        g = rng.standard_normal((3, 3))
        decayed.step({"W": g})
        plain.step({"W": g + l2_penalty(b, lam)[1]["W"]})
    np.testing.assert_allclose(a["W"], b["W"], rtol=1e-13)


# ---------------------------------------------------------------------------------------------
# Early stopping
# ---------------------------------------------------------------------------------------------


def test_early_stopping_patience_and_restore():
    params = {"W": np.zeros(2)}
    stopper = EarlyStopping(patience=2)
    history = [1.0, 0.5, 0.6, 0.4, 0.45, 0.41, 0.3]
    stopped_at = None
    for epoch, loss in enumerate(history):
        params["W"][:] = epoch  # the "training"
        if stopper.step(loss, params):
            stopped_at = epoch
            break
    # best 0.4 at epoch 3; epochs 4 and 5 do not improve -> stop at 5
    assert stopped_at == 5 and stopper.best == 0.4 and stopper.best_step == 3
    W = params["W"]
    assert stopper.restore(params) is params and params["W"] is W
    np.testing.assert_array_equal(params["W"], [3.0, 3.0])
    assert stopper.should_stop and stopper.num_bad == 2 and stopper.n_steps == 6


def test_early_stopping_min_delta_and_max_mode():
    stopper = EarlyStopping(patience=2, min_delta=0.1)
    assert not stopper.step(1.0)
    assert not stopper.step(0.95)  # better, but not by more than 0.1
    assert stopper.step(0.92)
    assert stopper.best == 1.0
    acc = EarlyStopping(patience=1, mode="max")
    assert not acc.step(0.5) and not acc.step(0.7)
    assert acc.step(0.6) and acc.best == 0.7 and acc.best_step == 1


def test_early_stopping_nan_never_improves():
    stopper = EarlyStopping(patience=1)
    assert stopper.step(float("nan"))
    assert stopper.best is None


def test_early_stopping_saved_params_are_copies():
    params = {"W": np.ones(2)}
    stopper = EarlyStopping(patience=3)
    stopper.step(1.0, params)
    params["W"] += 5
    np.testing.assert_array_equal(stopper.best_params["W"], [1.0, 1.0])


def test_early_stopping_errors():
    with pytest.raises(ValueError, match="patience"):
        EarlyStopping(patience=0)
    with pytest.raises(ValueError, match="min_delta"):
        EarlyStopping(min_delta=-1)
    with pytest.raises(ValueError, match="mode"):
        EarlyStopping(mode="lowest")
    stopper = EarlyStopping()
    stopper.step(1.0)
    with pytest.raises(ValueError, match="no parameters were saved"):
        stopper.restore({"W": np.zeros(2)})
    stopper.step(0.5, {"W": np.zeros(2)})
    with pytest.raises(ValueError, match="saved keys"):
        stopper.restore({"V": np.zeros(2)})
    with pytest.raises(ValueError, match="shape"):
        stopper.restore({"W": np.zeros(3)})
