"""The residual block (course.layers.residual): against PyTorch autograd and finite differences."""

import numpy as np
import pytest

from course.grader.run.runner import fd_gradient
from course.layers import residual_backward, residual_forward


def _block(seed=0, N=4, D=3, H=5):
    rng = np.random.default_rng(seed)
    args = (rng.standard_normal((N, D)), rng.standard_normal((D, H)), rng.standard_normal(H),
            rng.standard_normal((H, D)), rng.standard_normal(D))
    return args, rng.standard_normal((N, D))


def test_forward_is_x_plus_F():
    (x, W1, b1, W2, b2), _ = _block()
    out, _ = residual_forward(x, W1, b1, W2, b2)
    np.testing.assert_allclose(out, x + np.maximum(x @ W1 + b1, 0) @ W2 + b2, rtol=1e-14)
    out0, _ = residual_forward(x, W1, b1, 0 * W2, 0 * b2)
    np.testing.assert_array_equal(out0, x)  # F = 0: the identity


def test_identity_path_carries_the_gradient():
    (x, W1, b1, W2, b2), dout = _block()
    dx, *_ = residual_backward(dout, residual_forward(x, W1, b1, 0 * W2, b2)[1])
    np.testing.assert_array_equal(dx, dout)  # F's gradient is 0, the skip passes dout unchanged


def test_backward_finite_differences():
    args, dout = _block(seed=2)
    grads = residual_backward(dout, residual_forward(*args)[1])

    def f():
        return float(np.sum(residual_forward(*args)[0] * dout))

    for g, a in zip(grads, args):
        assert g.shape == a.shape
        np.testing.assert_allclose(g, fd_gradient(f, a), rtol=1e-5, atol=1e-7)


@pytest.mark.torch
def test_matches_torch_autograd():
    torch = pytest.importorskip("torch")
    args, dout = _block(seed=4)
    ts = [torch.tensor(a, requires_grad=True) for a in args]
    x, W1, b1, W2, b2 = ts
    y = x + torch.relu(x @ W1 + b1) @ W2 + b2
    y.backward(torch.from_numpy(dout))
    out, cache = residual_forward(*args)
    np.testing.assert_allclose(out, y.detach().numpy(), rtol=1e-12)
    for mine, t in zip(residual_backward(dout, cache), ts):
        np.testing.assert_allclose(mine, t.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_width_mismatch_is_explained():
    (x, W1, b1, W2, b2), _ = _block()
    with pytest.raises(ValueError, match="W2"):
        residual_forward(x, W1, b1, np.ones((5, 4)), np.ones(4))
