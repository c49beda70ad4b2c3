"""Affine quantization against PyTorch's quantization utilities, and hand-computed cases."""

import numpy as np
import pytest

from course.quantization import (
    EPS,
    dequantize,
    fake_quant_backward,
    fake_quant_forward,
    qparams,
    qrange,
    quantize,
    quantize_params,
)


def test_hand_computed_parameters_and_codes():
    scale, zp = qparams(-1.0, 3.0)  # 4 / 255, zero point 0 - round(-63.75) = 64
    assert scale == pytest.approx(4.0 / 255) and zp == 64 and isinstance(zp, int)
    q = quantize(np.array([-1.0, 0.0, 3.0, 10.0, -5.0]), scale, zp)
    np.testing.assert_array_equal(q, [0, 64, 255, 255, 0])
    assert q.dtype == np.int64
    np.testing.assert_allclose(dequantize(q, scale, zp), [-64 * scale, 0.0, 191 * scale, 191 * scale, -64 * scale])


def test_range_is_widened_to_contain_zero_and_zero_is_exact():
    scale, zp = qparams(0.5, 2.0)
    assert zp == 0 and scale == pytest.approx(2.0 / 255)
    scale, zp = qparams(-4.0, -1.0)
    assert zp == 255
    assert dequantize(quantize(np.zeros(3), scale, zp), scale, zp).tolist() == [0.0, 0.0, 0.0]
    assert qparams(0.0, 0.0) == (EPS, 0)


def test_rounding_is_half_to_even():
    q = quantize(np.array([0.5, 1.5, 2.5, -0.5]), 1.0, 10)
    np.testing.assert_array_equal(q, [10, 12, 12, 10])


@pytest.mark.torch
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("qmin, qmax", [(0, 255), (-128, 127), (0, 15)])
def test_qparams_match_torch_minmax_observer(seed, qmin, qmax):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(200) * rng.uniform(0.1, 5) + rng.uniform(-2, 2)).astype(np.float32)
    dtype = torch.qint8 if qmin < 0 else torch.quint8
    obs = torch.ao.quantization.MinMaxObserver(dtype=dtype, quant_min=qmin, quant_max=qmax)
    obs(torch.from_numpy(x))
    t_scale, t_zp = obs.calculate_qparams()
    scale, zp = qparams(float(x.min()), float(x.max()), qmin, qmax)
    assert scale == pytest.approx(float(t_scale), rel=1e-6)
    assert zp == int(t_zp)


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore:torch.quantize_per_tensor:UserWarning")
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_quantize_dequantize_match_torch_quantize_per_tensor(seed):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((20, 30)) * 2.0).astype(np.float32)
    scale, zp = qparams(-3.0, 2.5)  # part of x falls outside: clamping is tested too
    t = torch.quantize_per_tensor(torch.from_numpy(x), scale, zp, torch.quint8)
    q = quantize(x.astype(np.float64), scale, zp)
    np.testing.assert_array_equal(q, t.int_repr().numpy().astype(np.int64))
    np.testing.assert_allclose(dequantize(q, scale, zp), t.dequantize().numpy(), rtol=1e-6, atol=1e-7)


@pytest.mark.torch
@pytest.mark.parametrize("qmin, qmax, zp", [(0, 255, 100), (-128, 127, 3), (0, 7, 2)])
def test_fake_quant_forward_and_ste_backward_match_torch(qmin, qmax, zp):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(qmax)
    x = (rng.standard_normal(500) * 3.0).astype(np.float32)
    dout = rng.standard_normal(500).astype(np.float32)
    scale = 0.05 if qmax > 7 else 0.4
    xt = torch.from_numpy(x).requires_grad_(True)
    yt = torch.fake_quantize_per_tensor_affine(xt, scale, zp, qmin, qmax)
    yt.backward(torch.from_numpy(dout))
    out, cache = fake_quant_forward(x.astype(np.float64), scale, zp, qmin, qmax)
    np.testing.assert_allclose(out, yt.detach().numpy(), rtol=1e-6, atol=1e-6)
    dx = fake_quant_backward(dout.astype(np.float64), cache)
    np.testing.assert_array_equal(dx, xt.grad.numpy().astype(np.float64))
    assert 0 < np.count_nonzero(dx) < dx.size  # both regions are exercised


def test_ste_passes_values_that_round_into_range():
    # with scale 1 and zero point 0 on [0, 3], 3.4 rounds to 3 (inside), 3.6 to 4 (clamped)
    out, cache = fake_quant_forward(np.array([-0.6, -0.4, 1.2, 3.4, 3.6]), 1.0, 0, 0, 3)
    np.testing.assert_array_equal(out, [0.0, 0.0, 1.0, 3.0, 3.0])
    np.testing.assert_array_equal(fake_quant_backward(np.ones(5), cache), [0, 1, 1, 1, 0])


def test_quantize_params_error_shrinks_with_bits():
    rng = np.random.default_rng(0)
    params = {"W1": rng.standard_normal((30, 20)), "b1": np.zeros(20)}
    errors = [np.abs(quantize_params(params, b)["W1"] - params["W1"]).max() for b in (2, 4, 8)]
    assert errors[0] > errors[1] > errors[2]
    scale = (params["W1"].max() - params["W1"].min()) / 255
    assert errors[2] <= scale / 2 + 1e-12
    assert quantize_params(params, 8)["b1"] is params["b1"]
    assert qrange(4) == (0, 15)


def test_errors_name_the_argument():
    with pytest.raises(ValueError, match="scale"):
        quantize(np.ones(2), 0.0, 0)
    with pytest.raises(TypeError, match="zero_point"):
        quantize(np.ones(2), 0.1, 1.5)
    with pytest.raises(TypeError, match="q must hold integer"):
        dequantize(np.ones(2), 0.1, 0)
    with pytest.raises(ValueError, match="x_min <= x_max"):
        qparams(2.0, 1.0)
    with pytest.raises(ValueError, match="dout"):
        fake_quant_backward(np.ones(3), (np.ones(2), 1.0, 0, 0, 255))
