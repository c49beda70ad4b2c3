"""course.layers.conv against torch.nn.functional.conv2d and finite differences."""

import numpy as np
import pytest
from _fd import fd_check

from course.layers import conv2d_backward, conv2d_backward_naive, conv2d_forward, conv2d_forward_naive
from course.layers.conv import col2im, conv_output_size, im2col

SHAPES = [  # N, C, H, W, F, HH, WW, stride, pad
    (2, 3, 7, 6, 4, 3, 3, 1, 1),
    (1, 2, 8, 7, 3, 3, 2, 2, 0),
    (2, 1, 5, 5, 2, 2, 2, 3, 2),  # stride 3: the last padded row and column are never read
    (3, 2, 4, 4, 1, 4, 4, 1, 0),  # the filter covers the whole image: (N, F, 1, 1)
]


def _inputs(rng, N, C, H, W, F, HH, WW):
    return rng.standard_normal((N, C, H, W)), rng.standard_normal((F, C, HH, WW)), rng.standard_normal(F)


@pytest.mark.torch
@pytest.mark.parametrize("shape", SHAPES)
def test_conv2d_matches_torch_forward_and_backward(shape):
    torch = pytest.importorskip("torch")
    *dims, stride, pad = shape
    rng = np.random.default_rng(sum(shape))
    x, w, b = _inputs(rng, *dims)
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    ot = torch.nn.functional.conv2d(xt, wt, bt, stride=stride, padding=pad)
    dout = rng.standard_normal(tuple(ot.shape))
    ot.backward(torch.from_numpy(dout))
    for forward, backward in ((conv2d_forward, conv2d_backward), (conv2d_forward_naive, conv2d_backward_naive)):
        out, cache = forward(x, w, b, stride, pad)
        np.testing.assert_allclose(out, ot.detach().numpy(), rtol=1e-12, atol=1e-12)
        for got, t in zip(backward(dout, cache), (xt, wt, bt)):
            np.testing.assert_allclose(got, t.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("shape", SHAPES[:3])
def test_conv2d_backward_matches_finite_differences(shape):
    *dims, stride, pad = shape
    rng = np.random.default_rng(7)
    x, w, b = _inputs(rng, *dims)
    out, _ = conv2d_forward(x, w, b, stride, pad)
    fd_check(conv2d_forward, conv2d_backward, (x, w, b, stride, pad), rng.standard_normal(out.shape),
             [(0, 0), (1, 1), (2, 2)])


def test_hand_computed_convolution():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    w = np.array([[[[1.0, 0.0], [0.0, -1.0]]]])  # x[i, j] - x[i + 1, j + 1] = -5 everywhere
    out, _ = conv2d_forward(x, w, np.array([0.5]), stride=2)
    np.testing.assert_array_equal(out, np.full((1, 1, 2, 2), -4.5))
    assert conv_output_size(32, 5, 1, 2) == 32 and conv_output_size(7, 3, 2, 0) == 3


def test_col2im_is_the_adjoint_of_im2col():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 6, 5))
    cols = im2col(x, 3, 2, 2, 1)
    c = rng.standard_normal(cols.shape)
    assert np.isclose(np.sum(cols * c), np.sum(x * col2im(c, x.shape, 3, 2, 2, 1)))


def test_conv2d_errors_name_the_argument_and_shapes():
    x, w, b = np.zeros((2, 3, 5, 5)), np.zeros((4, 2, 3, 3)), np.zeros(4)
    with pytest.raises(ValueError, match=r"w .*\(F, C, HH, WW\).*\(2, 3, 5, 5\)"):
        conv2d_forward(x, w, b)
    with pytest.raises(ValueError, match=r"b .*\(F,\)"):
        conv2d_forward(x, np.zeros((4, 3, 3, 3)), np.zeros(3))
    with pytest.raises(ValueError, match="x must have 4 dimensions|x .*\\(N, C, H, W\\)"):
        conv2d_forward(np.zeros((3, 5, 5)), w, b)
    with pytest.raises(ValueError, match="stride"):
        conv2d_forward(x, np.zeros((4, 3, 3, 3)), b, stride=0)
    with pytest.raises(ValueError, match="larger than the padded image"):
        conv2d_forward(x, np.zeros((4, 3, 7, 7)), b)
    _, cache = conv2d_forward(x, np.zeros((4, 3, 3, 3)), b)
    with pytest.raises(ValueError, match=r"dout .*\(2, 4, 3, 3\)"):
        conv2d_backward(np.zeros((2, 4, 5, 5)), cache)
