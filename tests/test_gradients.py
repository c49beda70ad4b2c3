"""Tests for course.gradients: clipping (hand-computed and against PyTorch) and accumulation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from course.gradients import GradientAccumulator, clip_grad_norm, clip_grad_value
from course.layers.linear import linear_backward, linear_forward


def test_clip_grad_norm_hand_computed():
    # global norm of (3, 4) and (12,) = sqrt(9 + 16 + 144) = 13
    grads = {"W": np.array([3.0, 4.0]), "b": np.array([12.0])}
    W = grads["W"]
    total = clip_grad_norm(grads, max_norm=1.0)
    assert total == 13.0
    assert grads["W"] is W  # in place
    coef = 1.0 / (13.0 + 1e-6)
    np.testing.assert_allclose(grads["W"], [3 * coef, 4 * coef], rtol=1e-15)
    np.testing.assert_allclose(grads["b"], [12 * coef], rtol=1e-15)
    # the direction is kept, the new norm is (just under) max_norm
    assert math.sqrt(sum(float(np.sum(g**2)) for g in grads.values())) == pytest.approx(1.0, abs=1e-6)


def test_clip_grad_norm_leaves_small_gradients_alone():
    grads = {"W": np.array([0.3, 0.4])}
    assert clip_grad_norm(grads, max_norm=1.0) == pytest.approx(0.5)
    np.testing.assert_array_equal(grads["W"], [0.3, 0.4])


def test_clip_grad_norm_other_norms_and_lists():
    grads = [np.array([1.0, -2.0]), np.array([[-3.0]])]
    assert clip_grad_norm(grads, 10.0, norm_type=1) == 6.0
    assert clip_grad_norm(grads, 10.0, norm_type=float("inf")) == 3.0
    assert clip_grad_norm(grads, 10.0, norm_type="inf") == 3.0
    assert clip_grad_norm([], 1.0) == 0.0
    clip_grad_norm(grads, 1.5, norm_type=float("inf"))
    np.testing.assert_allclose(grads[1], [[-3.0 * 1.5 / (3.0 + 1e-6)]], rtol=1e-15)


def test_clip_grad_norm_errors():
    with pytest.raises(ValueError, match="NaN or infinite"):
        clip_grad_norm({"W": np.array([np.inf, 1.0])}, 1.0)
    with pytest.raises(ValueError, match="norm_type"):
        clip_grad_norm({"W": np.ones(2)}, 1.0, norm_type=0)
    with pytest.raises(ValueError, match="max_norm"):
        clip_grad_norm({"W": np.ones(2)}, -1.0)
    with pytest.raises(TypeError, match=r"grads\['W'\] must be an array"):
        clip_grad_norm({"W": [1.0, 2.0]}, 1.0)


def test_clip_grad_value_hand_computed():
    grads = {"W": np.array([[-3.0, 0.2], [0.5, 7.0]]), "b": np.array([-0.4])}
    W = grads["W"]
    assert clip_grad_value(grads, 0.5) is None
    assert grads["W"] is W
    np.testing.assert_array_equal(grads["W"], [[-0.5, 0.2], [0.5, 0.5]])
    np.testing.assert_array_equal(grads["b"], [-0.4])
    with pytest.raises(ValueError, match="clip_value"):
        clip_grad_value(grads, -1.0)


@pytest.mark.torch
@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, float("inf")])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clipping_matches_pytorch(norm_type, max_norm):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    grads = {"W": rng.standard_normal((4, 3)), "b": rng.standard_normal(3)}
    tparams = [torch.zeros(v.shape, dtype=torch.float64, requires_grad=True) for v in grads.values()]
    for p, g in zip(tparams, grads.values()):
        p.grad = torch.tensor(g.copy())
    total = clip_grad_norm(grads, max_norm, norm_type=norm_type)
    t_total = torch.nn.utils.clip_grad_norm_(tparams, max_norm, norm_type=norm_type)
    assert total == pytest.approx(float(t_total), rel=1e-12)
    for p, g in zip(tparams, grads.values()):
        np.testing.assert_allclose(g, p.grad.numpy(), rtol=1e-12)
    # clip by value
    clip_grad_value(grads, 0.3)
    torch.nn.utils.clip_grad_value_(tparams, 0.3)
    for p, g in zip(tparams, grads.values()):
        np.testing.assert_allclose(g, p.grad.numpy(), rtol=1e-12)
        assert np.abs(g).max() <= 0.3


# ---------------------------------------------------------------------------------------------
# Accumulation
# ---------------------------------------------------------------------------------------------


def _mse_grads(x, y, W, b):
    """Gradient of the mean squared error 1/(2N) sum ||x W + b - y||^2 through the linear layer."""
    out, cache = linear_forward(x, W, b)
    dout = (out - y) / x.shape[0]
    _, dW, db = linear_backward(dout, cache)
    return {"W": dW, "b": db}


def test_accumulated_micro_batches_give_the_big_batch_gradient():
    rng = np.random.default_rng(0)
    N, D, M = 23, 4, 3
    x, y = rng.standard_normal((N, D)), rng.standard_normal((N, M))
    W, b = rng.standard_normal((D, M)), rng.standard_normal(M)
    full = _mse_grads(x, y, W, b)
    acc = GradientAccumulator()
    bounds = [0, 5, 6, 14, 23]  # micro-batches of unequal sizes 5, 1, 8, 9
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        acc.add(_mse_grads(x[lo:hi], y[lo:hi], W, b), weight=hi - lo)
    assert acc.count == 4 and acc.total_weight == N
    mean = acc.mean()
    for k in full:
        np.testing.assert_allclose(mean[k], full[k], rtol=1e-12, atol=1e-12)
    # the unweighted average of the micro-batch means is NOT the big-batch gradient
    naive = GradientAccumulator()
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        naive.add(_mse_grads(x[lo:hi], y[lo:hi], W, b))
    assert not np.allclose(naive.mean()["W"], full["W"], rtol=1e-6)


def test_equal_micro_batches_average_and_sum_losses():
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((12, 2)), rng.standard_normal((12, 1))
    W, b = rng.standard_normal((2, 1)), rng.standard_normal(1)
    full = _mse_grads(x, y, W, b)
    acc = GradientAccumulator()
    for k in range(3):
        acc.add(_mse_grads(x[4 * k: 4 * k + 4], y[4 * k: 4 * k + 4], W, b))
    np.testing.assert_allclose(acc.mean()["W"], full["W"], rtol=1e-12, atol=1e-12)
    # a sum-reduced loss: plain sum of micro-batch gradients, weight 1
    summed = acc.sum()
    np.testing.assert_allclose(summed["W"], 3 * acc.mean()["W"], rtol=1e-12)
    summed["W"][0] = 1e9  # sum() hands out copies
    assert acc.sum()["W"][0, 0] != 1e9
    acc.reset()
    assert acc.total is None and acc.count == 0


def test_accumulator_errors():
    acc = GradientAccumulator()
    with pytest.raises(ValueError, match="nothing was added"):
        acc.mean()
    with pytest.raises(ValueError, match="nothing was added"):
        acc.sum()
    acc.add({"W": np.ones((2, 2))})
    with pytest.raises(ValueError, match="keys"):
        acc.add({"V": np.ones((2, 2))})
    with pytest.raises(ValueError, match="same shape"):
        acc.add({"W": np.ones((2, 3))})
    with pytest.raises(ValueError, match="weight"):
        acc.add({"W": np.ones((2, 2))}, weight=-1)
    with pytest.raises(TypeError, match="grads"):
        acc.add([np.ones(2)])


def test_layer_grad_norms_in_layer_order_weights_only():
    from course.gradients import layer_grad_norms

    grads = {f"W{l}": np.full((2, 3), float(l)) for l in range(1, 12)}
    grads.update(b1=np.ones(3) * 100, gamma2=np.ones(3) * 100)
    norms = layer_grad_norms(grads)
    np.testing.assert_allclose(norms, np.arange(1, 12) * np.sqrt(6.0), rtol=1e-15)  # W10 after W9
    with pytest.raises(ValueError, match="without gaps"):
        layer_grad_norms({"W1": np.ones(2), "W3": np.ones(2)})
    with pytest.raises(TypeError, match="dict"):
        layer_grad_norms([np.ones(2)])


def test_layer_grad_norms_match_the_models_own_record():
    from course.gradients import layer_grad_norms
    from course.model import MLP

    model = MLP([6, 5, 5, 5, 3], seed=0, track_stats=True)
    X, y = np.random.default_rng(0).standard_normal((8, 6)), np.arange(8) % 3
    _, grads = model.loss(X, y)
    np.testing.assert_allclose(layer_grad_norms(grads), model.stats["grad_W_norm"], rtol=1e-12)
    np.testing.assert_allclose(layer_grad_norms(grads)[1], np.linalg.norm(grads["W2"]), rtol=1e-12)
