"""course.layers.rnn against torch.nn.RNN and finite differences."""

import numpy as np
import pytest
from _fd import fd_check

from course.layers import rnn_backward, rnn_forward, rnn_step_backward, rnn_step_forward


def _weights(rng, D, H, scale=0.5):
    return rng.standard_normal((D, H)) * scale, rng.standard_normal((H, H)) * scale, rng.standard_normal(H) * 0.1


@pytest.mark.torch
def test_rnn_matches_torch_rnn_forward_and_bptt():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    N, T, D, H = 3, 6, 4, 5
    x, h0 = rng.standard_normal((N, T, D)), rng.standard_normal((N, H))
    Wx, Wh, b = _weights(rng, D, H)
    rnn = torch.nn.RNN(D, H, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(torch.from_numpy(Wx.T))
        rnn.weight_hh_l0.copy_(torch.from_numpy(Wh.T))
        rnn.bias_ih_l0.copy_(torch.from_numpy(b))
        rnn.bias_hh_l0.zero_()
    xt, h0t = torch.tensor(x, requires_grad=True), torch.tensor(h0[None], requires_grad=True)
    ht, _ = rnn(xt, h0t)
    dh = rng.standard_normal((N, T, H))
    ht.backward(torch.from_numpy(dh))
    h, cache = rnn_forward(x, h0, Wx, Wh, b)
    np.testing.assert_allclose(h, ht.detach().numpy(), rtol=1e-12, atol=1e-14)
    dx, dh0, dWx, dWh, db = rnn_backward(dh, cache)
    expected = (xt.grad, h0t.grad[0], rnn.weight_ih_l0.grad.T, rnn.weight_hh_l0.grad.T, rnn.bias_ih_l0.grad)
    for got, want in zip((dx, dh0, dWx, dWh, db), expected):
        np.testing.assert_allclose(got, want.numpy(), rtol=1e-12, atol=1e-13)


def test_rnn_step_backward_matches_finite_differences():
    rng = np.random.default_rng(1)
    x, h = rng.standard_normal((3, 4)), rng.standard_normal((3, 5))
    Wx, Wh, b = _weights(rng, 4, 5)
    fd_check(rnn_step_forward, rnn_step_backward, (x, h, Wx, Wh, b), rng.standard_normal((3, 5)),
             [(i, i) for i in range(5)])


def test_bptt_matches_finite_differences():
    rng = np.random.default_rng(2)
    x, h0 = rng.standard_normal((2, 5, 3)), rng.standard_normal((2, 4))
    Wx, Wh, b = _weights(rng, 3, 4)
    fd_check(rnn_forward, rnn_backward, (x, h0, Wx, Wh, b), rng.standard_normal((2, 5, 4)),
             [(i, i) for i in range(5)])


def test_loss_at_the_last_step_only_still_reaches_the_first_input():
    rng = np.random.default_rng(3)
    x, h0 = rng.standard_normal((1, 4, 2)), np.zeros((1, 3))
    Wx, Wh, b = _weights(rng, 2, 3, scale=1.0)
    h, cache = rnn_forward(x, h0, Wx, Wh, b)
    dh = np.zeros_like(h)
    dh[:, -1] = 1.0
    dx = rnn_backward(dh, cache)[0]
    assert np.all(np.abs(dx[:, 0]) > 0)


def test_rnn_errors():
    rng = np.random.default_rng(4)
    Wx, Wh, b = _weights(rng, 3, 4)
    with pytest.raises(ValueError, match=r"Wx .*\(D, H\)"):
        rnn_step_forward(np.zeros((2, 5)), np.zeros((2, 4)), Wx, Wh, b)
    with pytest.raises(ValueError, match=r"prev_h .*\(N, H\)"):
        rnn_step_forward(np.zeros((2, 3)), np.zeros((3, 4)), Wx, Wh, b)
    with pytest.raises(ValueError, match=r"x .*\(N, T, D\)"):
        rnn_forward(np.zeros((2, 3)), np.zeros((2, 4)), Wx, Wh, b)
    _, cache = rnn_forward(np.zeros((2, 5, 3)), np.zeros((2, 4)), Wx, Wh, b)
    with pytest.raises(ValueError, match=r"dh .*\(2, 5, 4\)"):
        rnn_backward(np.zeros((2, 4, 4)), cache)
