"""Arithmetic intensity and the roofline: FLOPs against PyTorch's FlopCounterMode, bytes by hand."""

import numpy as np
import pytest

from course.hardware import (
    elementwise_intensity,
    linear_intensity,
    measure_bandwidth,
    measure_matmul_rate,
    mlp_layers,
    ridge_point,
    roofline,
    update_traffic,
)


@pytest.mark.torch
@pytest.mark.parametrize("N, D, M", [(64, 784, 256), (1, 3, 5), (17, 9, 2)])
def test_linear_flops_match_torch_flop_counter(N, D, M):
    torch = pytest.importorskip("torch")
    from torch.utils.flop_counter import FlopCounterMode

    layer = torch.nn.Linear(D, M, bias=False)
    with FlopCounterMode(display=False) as counter:
        layer(torch.zeros(N, D))
    flops, _, _ = linear_intensity(N, D, M, bias=False)
    assert flops == counter.get_total_flops() == 2 * N * D * M


def test_linear_bytes_and_intensity_by_hand():
    flops, nbytes, intensity = linear_intensity(2, 3, 4, itemsize=4)
    assert flops == 2 * 2 * 3 * 4 + 2 * 4
    assert nbytes == 4 * (2 * 3 + 3 * 4 + 2 * 4 + 4)
    assert intensity == pytest.approx(flops / nbytes)
    # a large square product is compute-heavy: intensity ~ N / 6 for float32 (2N^3 / (12 N^2))
    assert linear_intensity(4096, 4096, 4096, bias=False)[2] == pytest.approx(4096 / 6)
    assert elementwise_intensity(1000, 1, 4)[2] == 1 / 8
    with pytest.raises(ValueError, match="N must be an int >= 1"):
        linear_intensity(0, 3, 4)


def test_roofline_and_mlp_layers():
    peak, bw = 1e12, 1e11
    assert ridge_point(peak, bw) == 10.0
    np.testing.assert_allclose(roofline([1.0, 10.0, 100.0], peak, bw), [1e11, 1e12, 1e12])
    layers = mlp_layers([64, 256, 10], batch=128)
    assert [name for name, *_ in layers] == ["linear 64->256", "relu 256", "linear 256->10"]
    relu = layers[1]
    assert relu[3] < ridge_point(peak, bw) < layers[0][3]  # ReLU memory-bound, the big linear compute-bound
    assert update_traffic(10, fused=False) == 2 * update_traffic(10, fused=True)


def test_measurements_are_positive_rates():
    assert 1e6 < measure_matmul_rate(n=64, repeat=2) < 1e16
    assert 1e6 < measure_bandwidth(megabytes=4, repeat=2) < 1e14
