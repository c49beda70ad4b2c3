"""Batch norm and layer norm: finite differences for every backward, running statistics against
the hand formula and PyTorch's BatchNorm1d, bad input."""

import array_api_strict as xs
import numpy as np
import pytest

from course.gradcheck import numerical_gradient_array, relative_error
from course.layers import (
    batchnorm_backward,
    batchnorm_forward,
    layernorm_backward,
    layernorm_forward,
)

TOL = 1e-7


def make(N, D, seed=0, scale=3.0):
    rng = np.random.default_rng(seed)
    x = scale * rng.standard_normal((N, D)) + 2.0
    gamma = rng.standard_normal(D)
    beta = rng.standard_normal(D)
    dout = rng.standard_normal((N, D))
    return x, gamma, beta, dout


# ------------------------------------------------------------------ batch norm forward


def test_batchnorm_train_normalises_each_feature():
    x, _, _, _ = make(50, 4)
    gamma, beta = np.array([1.0, 2.0, 0.5, 1.0]), np.array([0.0, -1.0, 3.0, 0.0])
    out, _ = batchnorm_forward(x, gamma, beta, {"mode": "train"})
    np.testing.assert_allclose(out.mean(axis=0), beta, atol=1e-12)
    np.testing.assert_allclose(out.std(axis=0), gamma * np.sqrt(x.var(0) / (x.var(0) + 1e-5)), rtol=1e-12)


def test_batchnorm_hand_formula_and_defaults():
    x = np.array([[1.0, 2.0], [3.0, 6.0], [5.0, 10.0]])
    bn_param = {}
    out, _ = batchnorm_forward(x, np.ones(2), np.zeros(2), bn_param)
    mean, var = np.array([3.0, 6.0]), np.array([8.0 / 3.0, 32.0 / 3.0])  # biased variances
    np.testing.assert_allclose(out, (x - mean) / np.sqrt(var + 1e-5), rtol=1e-14)
    assert bn_param["mode"] == "train" and bn_param["eps"] == 1e-5 and bn_param["momentum"] == 0.1
    # running stats start at zeros / ones, then one update with the UNBIASED variance (N - 1 = 2)
    np.testing.assert_allclose(bn_param["running_mean"], 0.1 * mean, rtol=1e-14)
    np.testing.assert_allclose(bn_param["running_var"], 0.9 + 0.1 * np.array([4.0, 16.0]), rtol=1e-14)


def test_running_statistics_follow_pytorch_formula_over_steps():
    rng = np.random.default_rng(1)
    bn_param = {"mode": "train", "momentum": 0.3, "eps": 1e-3}
    rm, rv = np.zeros(3), np.ones(3)
    for _ in range(5):
        x = rng.standard_normal((8, 3)) * 2 + 1
        batchnorm_forward(x, np.ones(3), np.zeros(3), bn_param)
        rm = 0.7 * rm + 0.3 * x.mean(axis=0)
        rv = 0.7 * rv + 0.3 * x.var(axis=0, ddof=1)
    np.testing.assert_allclose(bn_param["running_mean"], rm, rtol=1e-13)
    np.testing.assert_allclose(bn_param["running_var"], rv, rtol=1e-13)


def test_eval_mode_uses_running_statistics_and_changes_nothing():
    x, gamma, beta, _ = make(6, 3)
    rm, rv = np.array([1.0, -1.0, 0.5]), np.array([4.0, 0.25, 1.0])
    bn_param = {"mode": "eval", "running_mean": rm.copy(), "running_var": rv.copy()}
    out, _ = batchnorm_forward(x, gamma, beta, bn_param)
    np.testing.assert_allclose(out, gamma * (x - rm) / np.sqrt(rv + 1e-5) + beta, rtol=1e-14)
    np.testing.assert_array_equal(bn_param["running_mean"], rm)
    np.testing.assert_array_equal(bn_param["running_var"], rv)


def test_batchnorm_matches_torch_batchnorm1d_train_and_eval():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    D = 5
    bn = torch.nn.BatchNorm1d(D, eps=1e-5, momentum=0.1, dtype=torch.float64)
    gamma, beta = rng.standard_normal(D), rng.standard_normal(D)
    with torch.no_grad():
        bn.weight.copy_(torch.from_numpy(gamma))
        bn.bias.copy_(torch.from_numpy(beta))
    bn_param = {"mode": "train"}
    for N in (2, 7, 16):
        x = rng.standard_normal((N, D)) * 3 - 1
        bn.train()
        expected = bn(torch.from_numpy(x)).detach().numpy()
        out, _ = batchnorm_forward(x, gamma, beta, bn_param)
        np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(bn_param["running_mean"], bn.running_mean.numpy(), rtol=1e-12)
        np.testing.assert_allclose(bn_param["running_var"], bn.running_var.numpy(), rtol=1e-12)
    x = rng.standard_normal((4, D))
    bn.eval()
    bn_param["mode"] = "eval"
    out, _ = batchnorm_forward(x, gamma, beta, bn_param)
    np.testing.assert_allclose(out, bn(torch.from_numpy(x)).detach().numpy(), rtol=1e-10, atol=1e-12)


def test_batchnorm_matches_torch_functional_with_custom_momentum():
    torch = pytest.importorskip("torch")
    x, gamma, beta, _ = make(9, 4, seed=3)
    rm, rv = torch.zeros(4, dtype=torch.float64), torch.ones(4, dtype=torch.float64)
    expected = torch.nn.functional.batch_norm(
        torch.from_numpy(x), rm, rv, torch.from_numpy(gamma), torch.from_numpy(beta),
        training=True, momentum=0.25, eps=1e-4,
    )
    bn_param = {"mode": "train", "momentum": 0.25, "eps": 1e-4}
    out, _ = batchnorm_forward(x, gamma, beta, bn_param)
    np.testing.assert_allclose(out, expected.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(bn_param["running_mean"], rm.numpy(), rtol=1e-12)
    np.testing.assert_allclose(bn_param["running_var"], rv.numpy(), rtol=1e-12)


def test_batchnorm_train_with_one_example_raises_like_pytorch():
    x, gamma, beta, _ = make(1, 3)
    bn_param = {"mode": "train"}
    with pytest.raises(ValueError, match="at least 2 examples"):
        batchnorm_forward(x, gamma, beta, bn_param)
    assert "running_mean" not in bn_param or np.all(bn_param["running_mean"] == 0)
    # eval mode with one example is fine: it uses the running statistics
    out, _ = batchnorm_forward(x, gamma, beta, {"mode": "eval"})
    np.testing.assert_allclose(out, gamma * x / np.sqrt(1 + 1e-5) + beta, rtol=1e-14)


def test_batchnorm_float32_keeps_dtype():
    x, gamma, beta, dout = (a.astype(np.float32) for a in make(5, 3))
    bn_param = {}
    out, cache = batchnorm_forward(x, gamma, beta, bn_param)
    assert out.dtype == np.float32 and bn_param["running_var"].dtype == np.float32
    assert all(g.dtype == np.float32 for g in batchnorm_backward(dout, cache))


# ------------------------------------------------------------------ batch norm backward


# With N = 2 the normalised values are +-sqrt(var / (var + eps)), nearly +-1 whatever x is, so dx
# is tiny unless var is comparable to eps: that case uses a small spread (scale 0.01) and a step
# h small against it.
@pytest.mark.parametrize(
    "shape, scale, h", [((2, 3), 0.01, 1e-6), ((5, 4), 3.0, 1e-5), ((16, 1), 3.0, 1e-5), ((3, 7), 1.0, 1e-5)]
)
def test_batchnorm_backward_train_finite_differences(shape, scale, h):
    x, gamma, beta, dout = make(*shape, seed=shape[0], scale=scale)
    out, cache = batchnorm_forward(x, gamma, beta, {"mode": "train"})
    dx, dgamma, dbeta = batchnorm_backward(dout, cache)

    def f(x_, g_, b_):
        return batchnorm_forward(x_, g_, b_, {"mode": "train"})[0]

    num = numerical_gradient_array
    assert relative_error(dx, num(lambda v: f(v, gamma, beta), x, dout, h=h)) < TOL
    assert relative_error(dgamma, num(lambda v: f(x, v, beta), gamma, dout, h=h)) < TOL
    assert relative_error(dbeta, num(lambda v: f(x, gamma, v), beta, dout, h=h)) < TOL


@pytest.mark.parametrize("shape", [(1, 3), (4, 5)])
def test_batchnorm_backward_eval_finite_differences(shape):
    x, gamma, beta, dout = make(*shape, seed=9)
    rng = np.random.default_rng(4)
    running = {"running_mean": rng.standard_normal(shape[1]), "running_var": rng.random(shape[1]) + 0.5}

    def f(x_, g_, b_):
        return batchnorm_forward(x_, g_, b_, {"mode": "eval", **running})[0]

    out, cache = batchnorm_forward(x, gamma, beta, {"mode": "eval", **running})
    dx, dgamma, dbeta = batchnorm_backward(dout, cache)
    assert relative_error(dx, numerical_gradient_array(lambda v: f(v, gamma, beta), x, dout)) < TOL
    assert relative_error(dgamma, numerical_gradient_array(lambda v: f(x, v, beta), gamma, dout)) < TOL
    assert relative_error(dbeta, numerical_gradient_array(lambda v: f(x, gamma, v), beta, dout)) < TOL


def test_batchnorm_backward_matches_torch_autograd():
    torch = pytest.importorskip("torch")
    x, gamma, beta, dout = make(6, 4, seed=5)
    tx, tg, tb = (torch.tensor(a, requires_grad=True) for a in (x, gamma, beta))
    out = torch.nn.functional.batch_norm(tx, None, None, tg, tb, training=True, eps=1e-5)
    out.backward(torch.from_numpy(dout))
    _, cache = batchnorm_forward(x, gamma, beta, {"mode": "train"})
    for ours, theirs in zip(batchnorm_backward(dout, cache), (tx, tg, tb)):
        np.testing.assert_allclose(ours, theirs.grad.numpy(), rtol=1e-9, atol=1e-12)


# ------------------------------------------------------------------ layer norm


def test_layernorm_normalises_each_row_and_matches_hand_formula():
    x, gamma, beta, _ = make(4, 6)
    out, _ = layernorm_forward(x, gamma, beta)
    mean = x.mean(axis=1, keepdims=True)
    var = x.var(axis=1, keepdims=True)
    np.testing.assert_allclose(out, gamma * (x - mean) / np.sqrt(var + 1e-5) + beta, rtol=1e-13)
    out, _ = layernorm_forward(x, np.ones(6), np.zeros(6))
    np.testing.assert_allclose(out.mean(axis=1), 0.0, atol=1e-13)


def test_layernorm_matches_torch():
    torch = pytest.importorskip("torch")
    x, gamma, beta, dout = make(5, 7, seed=6)
    tx, tg, tb = (torch.tensor(a, requires_grad=True) for a in (x, gamma, beta))
    out_t = torch.nn.functional.layer_norm(tx, (7,), tg, tb, eps=1e-5)
    out_t.backward(torch.from_numpy(dout))
    out, cache = layernorm_forward(x, gamma, beta)
    np.testing.assert_allclose(out, out_t.detach().numpy(), rtol=1e-10, atol=1e-12)
    for ours, theirs in zip(layernorm_backward(dout, cache), (tx, tg, tb)):
        np.testing.assert_allclose(ours, theirs.grad.numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("shape", [(1, 5), (4, 3), (3, 8), (2, 1)])
def test_layernorm_backward_finite_differences(shape):
    x, gamma, beta, dout = make(*shape, seed=shape[1])
    out, cache = layernorm_forward(x, gamma, beta)
    dx, dgamma, dbeta = layernorm_backward(dout, cache)

    def f(x_, g_, b_):
        return layernorm_forward(x_, g_, b_)[0]

    assert relative_error(dx, numerical_gradient_array(lambda v: f(v, gamma, beta), x, dout)) < TOL
    assert relative_error(dgamma, numerical_gradient_array(lambda v: f(x, v, beta), gamma, dout)) < TOL
    assert relative_error(dbeta, numerical_gradient_array(lambda v: f(x, gamma, v), beta, dout)) < TOL


# ------------------------------------------------------------------ backends and bad input


def test_array_api_strict_backend():
    x, gamma, beta, dout = make(4, 3)
    sx, sg, sb, sd = (xs.asarray(a) for a in (x, gamma, beta, dout))
    out, cache = batchnorm_forward(sx, sg, sb, {})
    ref_out, ref_cache = batchnorm_forward(x, gamma, beta, {})
    assert isinstance(out, type(sx))
    np.testing.assert_allclose(np.asarray(out), ref_out, rtol=1e-14)
    for a, b in zip(batchnorm_backward(sd, cache), batchnorm_backward(dout, ref_cache)):
        np.testing.assert_allclose(np.asarray(a), b, rtol=1e-12, atol=1e-14)
    out, cache = layernorm_forward(sx, sg, sb)
    ref_out, ref_cache = layernorm_forward(x, gamma, beta)
    np.testing.assert_allclose(np.asarray(out), ref_out, rtol=1e-14)
    for a, b in zip(layernorm_backward(sd, cache), layernorm_backward(dout, ref_cache)):
        np.testing.assert_allclose(np.asarray(a), b, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize(
    "args, exc, match",
    [
        ((np.ones(4), np.ones(4), np.zeros(4), {}), ValueError, r"x must have shape \(N, D\)"),
        ((np.ones((3, 4)), np.ones(3), np.zeros(4), {}), ValueError, "gamma must have shape"),
        ((np.ones((3, 4)), np.ones(4), np.zeros(5), {}), ValueError, "beta must have shape"),
        ((np.ones((3, 4)), np.ones(4), np.zeros(4), {"mode": "test"}), ValueError, "mode"),
        ((np.ones((3, 4)), np.ones(4), np.zeros(4), {"momentum": 1.5}), ValueError, "momentum"),
        ((np.ones((3, 4)), np.ones(4), np.zeros(4), {"eps": 0.0}), ValueError, "eps"),
        ((np.ones((3, 4)), np.ones(4), np.zeros(4), {"running_mean": np.zeros(3)}), ValueError,
         "running_mean"),
        ((np.ones((3, 4)), np.ones(4), np.zeros(4), None), TypeError, "bn_param must be a dict"),
        ((np.ones((3, 4), dtype=int), np.ones(4), np.zeros(4), {}), TypeError, "floating-point"),
    ],
)
def test_batchnorm_bad_input(args, exc, match):
    with pytest.raises(exc, match=match):
        batchnorm_forward(*args)


def test_backward_bad_dout_shape():
    x, gamma, beta, _ = make(3, 4)
    _, cache = batchnorm_forward(x, gamma, beta, {})
    with pytest.raises(ValueError, match="dout must have shape"):
        batchnorm_backward(np.ones((4, 3)), cache)
    _, cache = layernorm_forward(x, gamma, beta)
    with pytest.raises(ValueError, match="dout must have shape"):
        layernorm_backward(np.ones((3, 5)), cache)
    with pytest.raises(ValueError, match="eps"):
        layernorm_forward(x, gamma, beta, eps=-1.0)


# ---------------------------------------------------------------- the running-statistics update (lesson 10)


def test_update_running_stats_is_what_batchnorm_forward_stores():
    from course.layers.normalization import update_running_stats

    rng = np.random.default_rng(7)
    x, rm, rv = rng.standard_normal((6, 4)), rng.standard_normal(4), rng.uniform(0.5, 2, 4)
    bn = {"mode": "train", "momentum": 0.3, "running_mean": rm.copy(), "running_var": rv.copy()}
    batchnorm_forward(x, np.ones(4), np.zeros(4), bn)
    new_mean, new_var = update_running_stats(rm, rv, x, 0.3)
    np.testing.assert_allclose(new_mean, bn["running_mean"], rtol=1e-14)
    np.testing.assert_allclose(new_var, bn["running_var"], rtol=1e-14)
    np.testing.assert_allclose(new_var, 0.7 * rv + 0.3 * x.var(axis=0, ddof=1), rtol=1e-14)  # by hand


@pytest.mark.torch
def test_update_running_stats_matches_torch_over_steps():
    torch = pytest.importorskip("torch")
    from course.layers.normalization import update_running_stats

    rng = np.random.default_rng(8)
    bn = torch.nn.BatchNorm1d(3, momentum=0.2, dtype=torch.float64)
    rm, rv = np.zeros(3), np.ones(3)
    for _ in range(5):
        x = 2.0 + 3.0 * rng.standard_normal((5, 3))
        bn.train()
        bn(torch.from_numpy(x))
        rm, rv = update_running_stats(rm, rv, x, 0.2)
    np.testing.assert_allclose(rm, bn.running_mean.numpy(), rtol=1e-12)
    np.testing.assert_allclose(rv, bn.running_var.numpy(), rtol=1e-12)


def test_update_running_stats_errors():
    from course.layers.normalization import update_running_stats

    with pytest.raises(ValueError, match="at least 2 examples"):
        update_running_stats(np.zeros(3), np.ones(3), np.ones((1, 3)))
    with pytest.raises(ValueError, match="running_var"):
        update_running_stats(np.zeros(3), np.ones(2), np.ones((4, 3)))
