"""Losses: values vs hand computation and (when installed) PyTorch, gradients vs finite differences,
stability, bad input; under every backend."""

import numpy as np
import pytest
from _backends import xp  # noqa: F401

from course.gradcheck import numerical_gradient, relative_error
from course.losses import binary_cross_entropy_with_logits, mse_loss, softmax_cross_entropy


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("shape", [(1, 1), (4, 3), (2, 3, 2)])
def test_mse_gradient(xp, reduction, shape):  # noqa: F811
    rng = np.random.default_rng(len(shape))
    pred, target = xp.asarray(rng.standard_normal(shape)), xp.asarray(rng.standard_normal(shape))
    loss, dpred = mse_loss(pred, target, reduction)
    num = numerical_gradient(lambda p: mse_loss(p, target, reduction)[0], pred)
    assert relative_error(dpred, num) < 1e-7


def test_mse_hand_computed():
    loss, d = mse_loss(np.array([1.0, 2.0, 4.0]), np.array([1.0, 0.0, 1.0]))
    assert loss == pytest.approx((0 + 4 + 9) / 3)
    np.testing.assert_allclose(d, [0, 4 / 3, 2.0])
    assert mse_loss(np.array([1.0, 2.0, 4.0]), np.array([1.0, 0.0, 1.0]), "sum")[0] == 13.0


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("N,C", [(1, 2), (5, 3), (3, 7)])
def test_cross_entropy_gradient(xp, reduction, N, C):  # noqa: F811
    rng = np.random.default_rng(N * C)
    logits = xp.asarray(rng.standard_normal((N, C)))  # tiny probabilities would leave only FD noise
    y = xp.asarray(rng.integers(0, C, N))
    loss, d = softmax_cross_entropy(logits, y, reduction)
    num = numerical_gradient(lambda z: softmax_cross_entropy(z, y, reduction)[0], logits)
    assert relative_error(d, num) < 1e-7


def test_cross_entropy_hand_computed():
    logits = np.array([[0.0, np.log(3.0)], [np.log(2.0), np.log(2.0)]])
    loss, d = softmax_cross_entropy(logits, np.array([1, 0]))
    assert loss == pytest.approx((-np.log(0.75) - np.log(0.5)) / 2, rel=1e-14)
    np.testing.assert_allclose(d, [[0.25 / 2, -0.25 / 2], [-0.5 / 2, 0.5 / 2]], rtol=1e-14)


def test_cross_entropy_finite_for_huge_logits(xp):  # noqa: F811
    logits = xp.asarray([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]])
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        loss, d = softmax_cross_entropy(logits, xp.asarray([1, 0]))
    assert np.isfinite(loss) and loss == pytest.approx((2e4 + 2e4 + np.log(2)) / 2)
    assert np.all(np.isfinite(xp.to_numpy(d)))


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_bce_with_logits_gradient_and_hand_value(xp, reduction):  # noqa: F811
    rng = np.random.default_rng(5)
    z = xp.asarray(rng.standard_normal((4, 3)) * 2)
    y = xp.asarray(rng.random((4, 3)))
    loss, d = binary_cross_entropy_with_logits(z, y, reduction)
    assert relative_error(d, numerical_gradient(lambda v: binary_cross_entropy_with_logits(v, y, reduction)[0], z)) < 1e-7
    zn, yn = xp.to_numpy(z), xp.to_numpy(y)
    s = 1 / (1 + np.exp(-zn))
    per = -(yn * np.log(s) + (1 - yn) * np.log(1 - s))
    assert loss == pytest.approx(per.mean() if reduction == "mean" else per.sum(), rel=1e-12)


def test_bce_stable_and_accepts_integer_targets():
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        loss, d = binary_cross_entropy_with_logits(np.array([1e4, -1e4, 1e4]), np.array([1, 0, 0]))
    assert loss == pytest.approx(1e4 / 3)
    np.testing.assert_allclose(d, [0, 0, 1 / 3])


torch_cases = [("mean",), ("sum",)]


@pytest.mark.torch
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_losses_match_pytorch(reduction):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng = np.random.default_rng(11)
    logits, y = rng.standard_normal((6, 4)) * 5, rng.integers(0, 4, 6)
    pred, target = rng.standard_normal((6, 4)), rng.standard_normal((6, 4))
    t = torch.tensor
    assert softmax_cross_entropy(logits, y, reduction)[0] == pytest.approx(
        F.cross_entropy(t(logits), t(y), reduction=reduction).item(), rel=1e-12)
    assert mse_loss(pred, target, reduction)[0] == pytest.approx(
        F.mse_loss(t(pred), t(target), reduction=reduction).item(), rel=1e-12)
    probs = rng.random((6, 4))
    big = logits * 2000
    assert binary_cross_entropy_with_logits(big, probs, reduction)[0] == pytest.approx(
        F.binary_cross_entropy_with_logits(t(big), t(probs), reduction=reduction).item(), rel=1e-12)
    # gradients too, through torch's autograd
    z = t(logits, requires_grad=True)
    F.cross_entropy(z, t(y), reduction=reduction).backward()
    np.testing.assert_allclose(softmax_cross_entropy(logits, y, reduction)[1], z.grad.numpy(), rtol=1e-10)


def test_cross_entropy_bad_labels():
    logits = np.zeros((3, 4))
    with pytest.raises(ValueError, match=r"y must hold labels in \[0, C\) = \[0, 4\), got values from 0 to 4"):
        softmax_cross_entropy(logits, np.array([0, 1, 4]))
    with pytest.raises(TypeError, match="y must hold integer class labels.*float64"):
        softmax_cross_entropy(logits, np.array([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match=r"y must have shape \(N,\) = \(3,\).*got \(2,\)"):
        softmax_cross_entropy(logits, np.array([0, 1]))
    with pytest.raises(ValueError, match=r"logits must have shape \(N, C\)"):
        softmax_cross_entropy(np.zeros(4), np.array([0]))


def test_loss_bad_arguments():
    with pytest.raises(ValueError, match="pred and target must have the same shape.*\\(3,\\).*\\(3, 1\\)"):
        mse_loss(np.ones(3), np.ones((3, 1)))
    with pytest.raises(ValueError, match="reduction must be one of"):
        mse_loss(np.ones(3), np.ones(3), reduction="avg")
    with pytest.raises(ValueError, match=r"y must hold targets in \[0, 1\]"):
        binary_cross_entropy_with_logits(np.ones(2), np.array([0.0, 2.0]))
