"""course.layers.pool against torch.nn.functional.max_pool2d and finite differences."""

import numpy as np
import pytest
from _fd import fd_check

from course.layers import max_pool_backward, max_pool_forward


@pytest.mark.torch
@pytest.mark.parametrize("size, stride", [(2, 2), (3, 1), (3, 2), (2, 3)])
def test_max_pool_matches_torch(size, stride):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(size * 10 + stride)
    x = rng.standard_normal((2, 3, 7, 6))
    xt = torch.tensor(x, requires_grad=True)
    ot = torch.nn.functional.max_pool2d(xt, size, stride)
    dout = rng.standard_normal(tuple(ot.shape))
    ot.backward(torch.from_numpy(dout))
    out, cache = max_pool_forward(x, size, stride)
    np.testing.assert_array_equal(out, ot.detach().numpy())
    np.testing.assert_allclose(max_pool_backward(dout, cache), xt.grad.numpy(), rtol=1e-14, atol=1e-14)


@pytest.mark.torch
def test_ties_send_the_gradient_to_one_entry_as_torch_does():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = rng.integers(0, 2, (2, 2, 6, 6)).astype(float)  # many ties
    xt = torch.tensor(x, requires_grad=True)
    ot = torch.nn.functional.max_pool2d(xt, 2, 2)
    dout = np.ones(tuple(ot.shape))
    ot.backward(torch.from_numpy(dout))
    dx = max_pool_backward(dout, max_pool_forward(x, 2, 2)[1])
    np.testing.assert_array_equal(dx, xt.grad.numpy())
    assert dx.sum() == dout.sum()  # one entry per window


def test_max_pool_backward_matches_finite_differences():
    rng = np.random.default_rng(1)
    x = rng.permutation(2 * 2 * 6 * 6).reshape(2, 2, 6, 6) / 10.0  # distinct values: no ties
    for size, stride in [(2, 2), (3, 1)]:
        out, _ = max_pool_forward(x, size, stride)
        fd_check(lambda x, size=size, stride=stride: max_pool_forward(x, size, stride), lambda d, c: (max_pool_backward(d, c),),
                 (x,), rng.standard_normal(out.shape), [(0, 0)])


def test_max_pool_errors():
    with pytest.raises(ValueError, match="x .*\\(N, C, H, W\\)"):
        max_pool_forward(np.zeros((3, 4, 4)))
    with pytest.raises(ValueError, match="window size 5"):
        max_pool_forward(np.zeros((1, 1, 4, 4)), 5)
    _, cache = max_pool_forward(np.zeros((1, 1, 4, 4)))
    with pytest.raises(ValueError, match=r"dout .*\(1, 1, 2, 2\)"):
        max_pool_backward(np.zeros((1, 1, 4, 4)), cache)
