"""PReLU (course.layers.prelu): against torch.nn.PReLU (values and autograd) and finite differences."""

import numpy as np
import pytest

from course.grader.run.runner import fd_gradient
from course.layers import prelu_backward, prelu_forward


def _case(shared, seed=0, N=5, D=4):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, D))
    x[np.abs(x) < 0.05] = 0.3  # no entry near the kink
    alpha = np.array([0.25]) if shared else rng.uniform(-0.5, 0.5, D)
    return x, alpha, rng.standard_normal((N, D))


def test_hand_computed():
    x = np.array([[-2.0, 3.0], [0.5, -1.0]])
    out, _ = prelu_forward(x, np.array([0.1, 0.5]))
    np.testing.assert_array_equal(out, [[-0.2, 3.0], [0.5, -0.5]])
    dx, dalpha = prelu_backward(np.ones((2, 2)), prelu_forward(x, np.array([0.1, 0.5]))[1])
    np.testing.assert_array_equal(dx, [[0.1, 1.0], [1.0, 0.5]])
    np.testing.assert_array_equal(dalpha, [-2.0, -1.0])  # the sum of x over the negative entries
    _, dalpha_shared = prelu_backward(np.ones((2, 2)), prelu_forward(x, np.array([0.25]))[1])
    np.testing.assert_array_equal(dalpha_shared, [-3.0])


@pytest.mark.torch
@pytest.mark.parametrize("shared", [True, False])
def test_matches_torch_prelu(shared):
    torch = pytest.importorskip("torch")
    x, alpha, dout = _case(shared)
    layer = torch.nn.PReLU(num_parameters=alpha.size, dtype=torch.float64)
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(alpha))
    xt = torch.tensor(x, requires_grad=True)
    yt = layer(xt)
    yt.backward(torch.from_numpy(dout))
    out, cache = prelu_forward(x, alpha)
    dx, dalpha = prelu_backward(dout, cache)
    np.testing.assert_allclose(out, yt.detach().numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(dalpha, layer.weight.grad.numpy(), rtol=1e-12, atol=1e-14)
    assert dalpha.shape == alpha.shape


@pytest.mark.parametrize("shared", [True, False])
def test_backward_finite_differences(shared):
    x, alpha, dout = _case(shared, seed=3)
    dx, dalpha = prelu_backward(dout, prelu_forward(x, alpha)[1])

    def f():
        return float(np.sum(prelu_forward(x, alpha)[0] * dout))

    np.testing.assert_allclose(dx, fd_gradient(f, x), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(dalpha, fd_gradient(f, alpha), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize(
    "x, alpha, match",
    [(np.ones((2, 3)), np.ones(2), r"alpha must have shape \(D,\) = \(3,\)"),
     (np.ones(3), np.ones(3), r"x must have shape \(N, D\)"),
     (np.ones((2, 3)), np.ones((3, 1)), "alpha")],
)
def test_bad_shapes_name_the_argument(x, alpha, match):
    with pytest.raises(ValueError, match=match):
        prelu_forward(x, alpha)
