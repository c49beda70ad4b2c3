"""course.layers.gated against torch.nn.LSTMCell / GRUCell and finite differences."""

import numpy as np
import pytest
from _fd import fd_check

from course.gradcheck import numerical_gradient
from course.layers import gru_step_backward, gru_step_forward, lstm_step_backward, lstm_step_forward


def _lstm_args(rng, N=3, D=4, H=5, scale=0.5):
    return (rng.standard_normal((N, D)), rng.standard_normal((N, H)), rng.standard_normal((N, H)),
            rng.standard_normal((D, 4 * H)) * scale, rng.standard_normal((H, 4 * H)) * scale,
            rng.standard_normal(4 * H) * 0.3)


def _gru_args(rng, N=3, D=4, H=5, scale=0.5):
    return (rng.standard_normal((N, D)), rng.standard_normal((N, H)), rng.standard_normal((D, 3 * H)) * scale,
            rng.standard_normal((H, 3 * H)) * scale, rng.standard_normal(3 * H) * 0.3)


def _torch_cell(torch, cell, Wx, Wh, b):
    with torch.no_grad():
        cell.weight_ih.copy_(torch.from_numpy(Wx.T))
        cell.weight_hh.copy_(torch.from_numpy(Wh.T))
        cell.bias_ih.copy_(torch.from_numpy(b))
        cell.bias_hh.zero_()
    return cell


@pytest.mark.torch
def test_lstm_step_matches_torch_lstmcell_forward_and_backward():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x, h, c, Wx, Wh, b = _lstm_args(rng)
    cell = _torch_cell(torch, torch.nn.LSTMCell(4, 5, dtype=torch.float64), Wx, Wh, b)
    xt, ht, ct = (torch.tensor(a, requires_grad=True) for a in (x, h, c))
    h1, c1 = cell(xt, (ht, ct))
    dh, dc = rng.standard_normal((3, 5)), rng.standard_normal((3, 5))
    torch.autograd.backward((h1, c1), (torch.from_numpy(dh), torch.from_numpy(dc)))
    (next_h, next_c), cache = lstm_step_forward(x, h, c, Wx, Wh, b)
    np.testing.assert_allclose(next_h, h1.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(next_c, c1.detach().numpy(), rtol=1e-12, atol=1e-14)
    grads = lstm_step_backward((dh, dc), cache)
    expected = (xt.grad, ht.grad, ct.grad, cell.weight_ih.grad.T, cell.weight_hh.grad.T, cell.bias_ih.grad)
    for got, want in zip(grads, expected):
        np.testing.assert_allclose(got, want.numpy(), rtol=1e-11, atol=1e-13)


@pytest.mark.torch
def test_gru_step_matches_torch_grucell_forward_and_backward():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    x, h, Wx, Wh, b = _gru_args(rng)
    cell = _torch_cell(torch, torch.nn.GRUCell(4, 5, dtype=torch.float64), Wx, Wh, b)
    xt, ht = (torch.tensor(a, requires_grad=True) for a in (x, h))
    h1 = cell(xt, ht)
    dh = rng.standard_normal((3, 5))
    h1.backward(torch.from_numpy(dh))
    next_h, cache = gru_step_forward(x, h, Wx, Wh, b)
    np.testing.assert_allclose(next_h, h1.detach().numpy(), rtol=1e-12, atol=1e-14)
    expected = (xt.grad, ht.grad, cell.weight_ih.grad.T, cell.weight_hh.grad.T, cell.bias_ih.grad)
    for got, want in zip(gru_step_backward(dh, cache), expected):
        np.testing.assert_allclose(got, want.numpy(), rtol=1e-11, atol=1e-13)


def test_lstm_step_backward_matches_finite_differences():
    rng = np.random.default_rng(2)
    args = _lstm_args(rng, N=2, D=3, H=4)
    dh, dc = rng.standard_normal((2, 4)), rng.standard_normal((2, 4))
    _, cache = lstm_step_forward(*args)
    grads = lstm_step_backward((dh, dc), cache)

    def value(_):  # numerical_gradient perturbs the argument in place
        (h1, c1), _ = lstm_step_forward(*args)
        return float(np.sum(h1 * dh) + np.sum(c1 * dc))

    for got, arg in zip(grads, args):
        np.testing.assert_allclose(got, numerical_gradient(value, arg, h=1e-6), rtol=1e-5, atol=1e-7)


def test_lstm_cell_state_path_alone():
    """With dnext_h = 0 only the cell-state path carries gradient: dprev_c = dnext_c * f exactly."""
    rng = np.random.default_rng(3)
    _, cache = lstm_step_forward(*_lstm_args(rng))
    dc = rng.standard_normal((3, 5))
    grads = lstm_step_backward((np.zeros((3, 5)), dc), cache)
    np.testing.assert_allclose(grads[2], dc * cache[6], rtol=1e-15)


def test_gru_step_backward_matches_finite_differences():
    rng = np.random.default_rng(4)
    args = _gru_args(rng, N=2, D=3, H=4)
    fd_check(gru_step_forward, gru_step_backward, args, rng.standard_normal((2, 4)), [(i, i) for i in range(5)])


def test_gates_saturate_without_overflow():
    rng = np.random.default_rng(5)
    x, h, c, Wx, Wh, b = _lstm_args(rng)
    with np.errstate(over="raise", invalid="raise"):
        (next_h, next_c), _ = lstm_step_forward(x * 1e4, h, c, Wx, Wh, b)
        gru_h, _ = gru_step_forward(x * 1e4, h, Wx[:, :15], Wh[:, :15], b[:15])
    assert np.all(np.isfinite(next_h)) and np.all(np.abs(next_h) <= 1) and np.all(np.isfinite(gru_h))


def test_gated_errors_name_the_argument():
    rng = np.random.default_rng(6)
    x, h, c, Wx, Wh, b = _lstm_args(rng)
    with pytest.raises(ValueError, match=r"Wx .*\(D, 4H\)"):
        lstm_step_forward(x, h, c, Wx[:, :15], Wh, b)
    with pytest.raises(ValueError, match=r"prev_c .*\(N, H\)"):
        lstm_step_forward(x, h, c[:, :4], Wx, Wh, b)
    with pytest.raises(ValueError, match=r"Wh .*\(H, 3H\)"):
        gru_step_forward(x, h, Wx[:, :15], Wh, b[:15])
    with pytest.raises(ValueError, match=r"b .*\(3H,\)"):
        gru_step_forward(x, h, Wx[:, :15], Wh[:, :15], b)
    _, cache = lstm_step_forward(x, h, c, Wx, Wh, b)
    with pytest.raises(TypeError, match=r"dnext .*\(dnext_h, dnext_c\)"):
        lstm_step_backward(np.zeros((3, 5)), cache)
    with pytest.raises(ValueError, match=r"dnext_c .*\(3, 5\)"):
        lstm_step_backward((np.zeros((3, 5)), np.zeros((3, 4))), cache)
