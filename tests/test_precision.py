"""Low precision against PyTorch: bfloat16/float16 casts, GradScaler's update rule, and the
round-trip report on hand-computed cases; mixed precision needs the loss scale."""

import numpy as np
import pytest

from course.precision import FORMATS, LossScaler, cast, mixed_precision_sgd, round_trip, to_bfloat16, update_scale


def _torch():
    return pytest.importorskip("torch", reason="PyTorch is the oracle for these tests")


def _values(seed=0, n=2000):
    rng = np.random.default_rng(seed)
    x = rng.choice([-1.0, 1.0], n) * 10.0 ** rng.uniform(-45, 39, n)
    special = [0.0, -0.0, np.nan, np.inf, -np.inf, 3.3895313e38, 3.39e38, 1e-40, 65504.0, 65520.0, 2.0**-24, 2.0**-25]
    with np.errstate(over="ignore"):
        return np.concatenate([x, special]).astype(np.float32)


@pytest.mark.torch
def test_bfloat16_rounding_matches_torch():
    torch = _torch()
    x = _values()
    expected = torch.tensor(x).to(torch.bfloat16).float().numpy()
    np.testing.assert_array_equal(to_bfloat16(x), expected)
    assert FORMATS["bfloat16"][0] == float(torch.finfo(torch.bfloat16).max)
    assert FORMATS["bfloat16"][1] == float(torch.finfo(torch.bfloat16).tiny)


@pytest.mark.torch
def test_float16_cast_matches_torch():
    torch = _torch()
    x = _values(1).astype(np.float64)
    expected = torch.tensor(x).to(torch.float16).double().numpy()
    np.testing.assert_array_equal(cast(x, "float16").astype(np.float64), expected)
    assert FORMATS["float16"][:3] == (65504.0, float(torch.finfo(torch.float16).tiny), 2.0**-24)


def test_round_trip_reports_what_was_lost():
    x = np.array([1e5, -7e4, 65504.0, 1e-9, 2e-8, 3e-8, 1e-6, 0.0, 1.0 + 2.0**-12, 3.0])
    r = round_trip(x, "float16")
    assert r["overflow"] == 2  # 1e5 and -7e4; 65504 is the largest float16
    assert r["underflow"] == 2  # 1e-9 and 2e-8 are below 2**-25: they round to 0 (0.0 itself does not count)
    assert r["subnormal"] == 2  # 3e-8 -> 2**-24 and 1e-6, both below 2**-14
    assert r["back"][8] == 1.0  # 1 + 2**-12 is a tie between 1 and 1 + 2**-10: rounds to even
    assert r["max_rel_error"] == pytest.approx(abs(2.0**-24 - 3e-8) / 3e-8)
    b = round_trip(x, "bfloat16")
    assert b["overflow"] == b["underflow"] == 0
    assert b["max_rel_error"] <= 2.0**-8
    assert round_trip(np.zeros(3))["max_rel_error"] == 0.0


@pytest.mark.torch
def test_update_scale_follows_gradscaler():
    torch = _torch()
    rng = np.random.default_rng(0)
    for growth_interval, growth, backoff in [(3, 2.0, 0.5), (1, 4.0, 0.25), (5, 2.0, 0.5)]:
        flags = rng.random(60) < 0.25
        scale, tracker = torch.tensor([1024.0]), torch.tensor([0], dtype=torch.int32)
        state = {}
        for f in flags:
            took = update_scale(state, bool(f), init_scale=1024.0, growth_factor=growth, backoff_factor=backoff,
                                growth_interval=growth_interval)
            torch._amp_update_scale_(scale, tracker, torch.tensor([float(f)]), growth, backoff, growth_interval)
            assert took == (not f)
            assert state["scale"] == scale.item() and state["growth_tracker"] == tracker.item()


def test_mixed_precision_needs_loss_scaling_when_gradients_underflow():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, 8))
    w_true = rng.standard_normal(8)
    y = X @ w_true
    factor = 1e-6  # a loss this small gives float16 gradients below 2**-24: they vanish
    plain, h_plain = mixed_precision_sgd(X, y, np.zeros(8), lr=2e5, steps=60, loss_factor=factor)
    scaled, h_scaled = mixed_precision_sgd(X, y, np.zeros(8), lr=2e5, steps=60, loss_factor=factor,
                                           scaler=LossScaler(init_scale=2.0**24, growth_interval=20))
    assert h_plain["zero_grads"][0] == 1.0 and np.all(plain == 0)
    assert h_scaled["zero_grads"][0] == 0.0
    assert h_scaled["loss"][-1] < 1e-3 * h_scaled["loss"][0]
    assert any(h_scaled["skipped"]) or h_scaled["scale"][-1] >= 2.0**24  # the scaler backs off or grows


def test_loss_scaler_unscale_finds_overflow():
    s = LossScaler(init_scale=8.0)
    assert s.unscale({"w": np.array([8.0, 16.0], dtype=np.float16)})
    np.testing.assert_array_equal(s.unscaled["w"], [1.0, 2.0])
    assert not s.unscale({"w": np.array([np.inf], dtype=np.float16)})
    assert s.update(True) is False and s.scale == 4.0
