"""Spatial batch norm and group norm against torch.nn.BatchNorm2d / GroupNorm, finite differences and
hand-computed statistics, and bad input."""

import numpy as np
import pytest
from _fd import fd_check

from course.layers import groupnorm_backward, groupnorm_forward, spatial_batchnorm_backward, spatial_batchnorm_forward


def _image(seed, N=3, C=4, H=2, W=3):
    rng = np.random.default_rng(seed)
    return (2.0 + 3.0 * rng.standard_normal((N, C, H, W)), rng.uniform(0.5, 2.0, C), rng.standard_normal(C),
            rng.standard_normal((N, C, H, W)))


def test_spatial_batchnorm_normalises_each_channel_over_batch_and_positions():
    x, _, _, _ = _image(0, N=5, H=3, W=4)
    out, _ = spatial_batchnorm_forward(x, np.ones(4), np.zeros(4), {"mode": "train"})
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0.0, atol=1e-12)
    var = x.var(axis=(0, 2, 3))
    np.testing.assert_allclose(out.var(axis=(0, 2, 3)), var / (var + 1e-5), rtol=1e-12)


def test_groupnorm_normalises_each_example_and_group():
    x, _, _, _ = _image(1, C=6)
    out, cache = groupnorm_forward(x, np.ones(6), np.zeros(6), 3)
    groups = out.reshape(3, 3, -1)  # (N, G, C // G * H * W)
    np.testing.assert_allclose(groups.mean(axis=2), 0.0, atol=1e-12)
    var = x.reshape(3, 3, -1).var(axis=2)
    np.testing.assert_allclose(groups.var(axis=2), var / (var + 1e-5), rtol=1e-12)
    assert cache[2].shape == (9, 1) and cache[3] == 3


@pytest.mark.torch
def test_spatial_batchnorm_matches_torch_batchnorm2d_train_eval_and_gradients():
    torch = pytest.importorskip("torch")
    x, gamma, beta, dout = _image(2)
    bn = torch.nn.BatchNorm2d(4, eps=1e-5, momentum=0.2, dtype=torch.float64)
    with torch.no_grad():
        bn.weight.copy_(torch.from_numpy(gamma))
        bn.bias.copy_(torch.from_numpy(beta))
    bn_param = {"mode": "train", "momentum": 0.2}
    xt = torch.tensor(x, requires_grad=True)
    outt = bn(xt)
    outt.backward(torch.from_numpy(dout))
    out, cache = spatial_batchnorm_forward(x, gamma, beta, bn_param)
    np.testing.assert_allclose(out, outt.detach().numpy(), rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(bn_param["running_mean"], bn.running_mean.numpy(), rtol=1e-12)
    np.testing.assert_allclose(bn_param["running_var"], bn.running_var.numpy(), rtol=1e-12)
    for got, want in zip(spatial_batchnorm_backward(dout, cache), (xt.grad, bn.weight.grad, bn.bias.grad)):
        np.testing.assert_allclose(got, want.numpy(), rtol=1e-10, atol=1e-12)
    bn.eval()
    bn_param["mode"] = "eval"
    out, _ = spatial_batchnorm_forward(x, gamma, beta, bn_param)
    np.testing.assert_allclose(out, bn(torch.from_numpy(x)).detach().numpy(), rtol=1e-11, atol=1e-12)


@pytest.mark.torch
@pytest.mark.parametrize("G", [1, 2, 4])
def test_groupnorm_matches_torch_groupnorm(G):
    torch = pytest.importorskip("torch")
    x, gamma, beta, dout = _image(3)
    gn = torch.nn.GroupNorm(G, 4, eps=1e-3, dtype=torch.float64)
    with torch.no_grad():
        gn.weight.copy_(torch.from_numpy(gamma))
        gn.bias.copy_(torch.from_numpy(beta))
    xt = torch.tensor(x, requires_grad=True)
    outt = gn(xt)
    outt.backward(torch.from_numpy(dout))
    out, cache = groupnorm_forward(x, gamma, beta, G, eps=1e-3)
    np.testing.assert_allclose(out, outt.detach().numpy(), rtol=1e-11, atol=1e-12)
    for got, want in zip(groupnorm_backward(dout, cache), (xt.grad, gn.weight.grad, gn.bias.grad)):
        np.testing.assert_allclose(got, want.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_spatial_batchnorm_backward_matches_finite_differences(mode):
    x, gamma, beta, dout = _image(4, N=2, C=3, H=2, W=2)

    def forward(x, gamma, beta):
        return spatial_batchnorm_forward(x, gamma, beta, {"mode": mode, "running_mean": np.full(3, 0.5),
                                                          "running_var": np.full(3, 2.0)})

    fd_check(forward, spatial_batchnorm_backward, (x, gamma, beta), dout, [(0, 0), (1, 1), (2, 2)])


@pytest.mark.parametrize("G", [1, 3])
def test_groupnorm_backward_matches_finite_differences(G):
    x, gamma, beta, dout = _image(5, N=2, C=3, H=2, W=2)
    fd_check(lambda x, g, b: groupnorm_forward(x, g, b, G), groupnorm_backward, (x, gamma, beta), dout,
             [(0, 0), (1, 1), (2, 2)])


def test_spatial_norm_errors_name_the_argument():
    x, gamma, beta, _ = _image(6)
    with pytest.raises(ValueError, match=r"x .*\(N, C, H, W\)"):
        spatial_batchnorm_forward(x[0], gamma, beta, {})
    with pytest.raises(ValueError, match=r"gamma .*\(C,\)"):
        spatial_batchnorm_forward(x, gamma[:3], beta, {})
    with pytest.raises(ValueError, match="N \\* H \\* W >= 2"):
        spatial_batchnorm_forward(x[:1, :, :1, :1], gamma, beta, {"mode": "train"})
    with pytest.raises(ValueError, match=r"G must .* divides the C = 4"):
        groupnorm_forward(x, gamma, beta, 3)
    with pytest.raises(ValueError, match=r"beta .*\(C,\)"):
        groupnorm_forward(x, gamma, beta[:2], 2)
    _, cache = groupnorm_forward(x, gamma, beta, 2)
    with pytest.raises(ValueError, match=r"dout .*\(3, 4, 2, 3\)"):
        groupnorm_backward(np.zeros((3, 4, 3, 2)), cache)
    _, cache = spatial_batchnorm_forward(x, gamma, beta, {})
    with pytest.raises(ValueError, match=r"dout .*\(3, 4, 2, 3\)"):
        spatial_batchnorm_backward(np.zeros((3, 4, 3, 2)), cache)
