"""Initialisers: gains from PyTorch's table, sample statistics against the stated formulas,
reproducible randomness that never touches NumPy's global state."""

import math

import numpy as np
import pytest

from course import init

FAN_IN, FAN_OUT = 400, 300  # 120_000 samples: the sample std is within ~0.2% of the true one


def sample_std_ok(w, std, rel=0.02):
    """Mean within 5 standard errors of 0 and sample std within 2% of ``std``."""
    n = w.size
    assert abs(float(np.mean(w))) < 5 * std / math.sqrt(n)
    assert float(np.std(w)) == pytest.approx(std, rel=rel)


@pytest.mark.parametrize(
    "nonlinearity, param, expected",
    [
        ("linear", None, 1.0),
        ("identity", None, 1.0),
        ("conv2d", None, 1.0),
        ("sigmoid", None, 1.0),
        ("tanh", None, 5.0 / 3.0),
        ("relu", None, math.sqrt(2.0)),
        ("leaky_relu", None, math.sqrt(2.0 / (1 + 0.01**2))),
        ("leaky_relu", 0.2, math.sqrt(2.0 / (1 + 0.2**2))),
        ("leaky_relu", 0, math.sqrt(2.0)),
        ("selu", None, 0.75),
    ],
)
def test_calculate_gain_table(nonlinearity, param, expected):
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(expected, rel=1e-15)


def test_calculate_gain_matches_torch():
    torch = pytest.importorskip("torch")
    for nl, param in [("linear", None), ("sigmoid", None), ("tanh", None), ("relu", None),
                      ("leaky_relu", None), ("leaky_relu", 0.3), ("selu", None)]:
        assert init.calculate_gain(nl, param) == pytest.approx(
            torch.nn.init.calculate_gain(nl, param), rel=1e-12
        )


def test_calculate_gain_bad_input():
    with pytest.raises(ValueError, match="nonlinearity must be one of"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="param"):
        init.calculate_gain("leaky_relu", "0.1")
    with pytest.raises(ValueError, match="param"):
        init.calculate_gain("leaky_relu", True)


@pytest.mark.parametrize("gain", [1.0, 5.0 / 3.0])
def test_xavier_statistics(gain):
    std = gain * math.sqrt(2.0 / (FAN_IN + FAN_OUT))
    w = init.xavier_normal(FAN_IN, FAN_OUT, gain=gain, rng=0)
    assert w.shape == (FAN_IN, FAN_OUT) and w.dtype == np.float64
    sample_std_ok(w, std)
    u = init.xavier_uniform(FAN_IN, FAN_OUT, gain=gain, rng=1)
    bound = gain * math.sqrt(6.0 / (FAN_IN + FAN_OUT))
    assert float(np.max(np.abs(u))) <= bound
    assert float(np.max(np.abs(u))) > 0.99 * bound  # the whole interval is used
    sample_std_ok(u, std)


@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
@pytest.mark.parametrize(
    "nonlinearity, a", [("relu", 0.0), ("leaky_relu", 0.1), ("tanh", 0.0), ("linear", 0.0)]
)
def test_kaiming_statistics(mode, nonlinearity, a):
    fan = FAN_IN if mode == "fan_in" else FAN_OUT
    std = init.calculate_gain(nonlinearity, a) / math.sqrt(fan)
    w = init.kaiming_normal(FAN_IN, FAN_OUT, a=a, nonlinearity=nonlinearity, mode=mode, rng=2)
    assert w.shape == (FAN_IN, FAN_OUT)
    sample_std_ok(w, std)
    u = init.kaiming_uniform(FAN_IN, FAN_OUT, a=a, nonlinearity=nonlinearity, mode=mode, rng=3)
    bound = math.sqrt(3.0) * std
    assert float(np.max(np.abs(u))) <= bound
    assert float(np.max(np.abs(u))) > 0.99 * bound
    sample_std_ok(u, std)


def test_he_relu_default_is_sqrt_2_over_fan_in():
    w = init.kaiming_normal(FAN_IN, FAN_OUT, rng=4)
    sample_std_ok(w, math.sqrt(2.0 / FAN_IN))


def test_pytorch_linear_default_bound():
    # nn.Linear's default: kaiming_uniform with a = sqrt(5) -> U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    u = init.kaiming_uniform(FAN_IN, FAN_OUT, a=math.sqrt(5), nonlinearity="leaky_relu", rng=5)
    bound = 1.0 / math.sqrt(FAN_IN)
    assert float(np.max(np.abs(u))) <= bound * (1 + 1e-12)
    assert float(np.max(np.abs(u))) > 0.99 * bound


def test_statistics_match_torch_initialisers():
    torch = pytest.importorskip("torch")
    g = torch.Generator().manual_seed(0)
    # torch stores Linear weights as (out, in); fan_in is still the input size
    cases = [
        (init.xavier_normal(FAN_IN, FAN_OUT, rng=0),
         torch.nn.init.xavier_normal_(torch.empty(FAN_OUT, FAN_IN, dtype=torch.float64), generator=g)),
        (init.xavier_uniform(FAN_IN, FAN_OUT, rng=0),
         torch.nn.init.xavier_uniform_(torch.empty(FAN_OUT, FAN_IN, dtype=torch.float64), generator=g)),
        (init.kaiming_normal(FAN_IN, FAN_OUT, rng=0),
         torch.nn.init.kaiming_normal_(torch.empty(FAN_OUT, FAN_IN, dtype=torch.float64),
                                       nonlinearity="relu", generator=g)),
        (init.kaiming_uniform(FAN_IN, FAN_OUT, mode="fan_out", rng=0),
         torch.nn.init.kaiming_uniform_(torch.empty(FAN_OUT, FAN_IN, dtype=torch.float64),
                                        mode="fan_out", nonlinearity="relu", generator=g)),
    ]
    for ours, theirs in cases:
        assert float(np.std(ours)) == pytest.approx(float(theirs.std()), rel=0.02)
        assert float(np.max(np.abs(ours))) == pytest.approx(float(theirs.abs().max()), rel=0.2)


def test_seed_and_generator_reproducible():
    a = init.kaiming_normal(20, 30, rng=7)
    b = init.kaiming_normal(20, 30, rng=7)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, init.kaiming_normal(20, 30, rng=8))
    gen = np.random.default_rng(7)
    first = init.kaiming_normal(20, 30, rng=gen)
    np.testing.assert_array_equal(first, a)  # a Generator seeded with 7 draws the same numbers
    second = init.kaiming_normal(20, 30, rng=gen)  # ... and advances
    assert not np.array_equal(first, second)


def test_global_random_state_untouched():
    np.random.seed(123)
    state = np.random.get_state()[1].copy()
    init.xavier_uniform(10, 10, rng=0)
    init.kaiming_normal(10, 10, rng=None)  # a fresh Generator, not the global state
    np.testing.assert_array_equal(np.random.get_state()[1], state)


def test_float32_dtype():
    w = init.xavier_normal(30, 40, rng=0, dtype="float32")
    assert w.dtype == np.float32
    np.testing.assert_allclose(w, init.xavier_normal(30, 40, rng=0), rtol=1e-6)
    assert init.kaiming_uniform(3, 4, rng=0, dtype=np.float32).dtype == np.float32


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: init.xavier_normal(0, 3, rng=0), ValueError, "fan_in must be a positive integer"),
        (lambda: init.xavier_uniform(3, 2.5, rng=0), ValueError, "fan_out must be a positive"),
        (lambda: init.kaiming_normal(3, 3, mode="fan_avg", rng=0), ValueError, "mode must be"),
        (lambda: init.kaiming_normal(3, 3, nonlinearity="gelu", rng=0), ValueError, "nonlinearity"),
        (lambda: init.kaiming_normal(3, 3, rng=np.random.RandomState(0)), TypeError, "Generator"),
        (lambda: init.kaiming_normal(3, 3, rng=True), TypeError, "rng must be"),
        (lambda: init.xavier_normal(3, 3, rng=0, dtype="int64"), ValueError, "dtype"),
    ],
)
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


@pytest.mark.parametrize("fan_in, fan_out", [(400, 300), (30, 700)])
def test_std_formulas_match_the_initialisers(fan_in, fan_out):
    sample_std_ok(init.kaiming_normal(fan_in, fan_out, rng=0), init.kaiming_std(fan_in, fan_out))
    sample_std_ok(init.kaiming_normal(fan_in, fan_out, mode="fan_out", rng=1),
                  init.kaiming_std(fan_in, fan_out, mode="fan_out"))
    sample_std_ok(init.xavier_uniform(fan_in, fan_out, rng=2), init.xavier_std(fan_in, fan_out))
    assert init.kaiming_std(fan_in, fan_out) == pytest.approx(math.sqrt(2.0 / fan_in), rel=1e-15)
    assert init.xavier_std(fan_in, fan_out, gain=5 / 3) == pytest.approx(5 / 3 * math.sqrt(2 / (fan_in + fan_out)))


@pytest.mark.torch
@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
def test_std_formulas_match_torch_initialisers(mode):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    W = torch.empty(300, 400, dtype=torch.float64)  # torch's layout (out, in): fan_in 400, fan_out 300
    torch.nn.init.kaiming_normal_(W, mode=mode, nonlinearity="relu")
    assert float(W.std()) == pytest.approx(init.kaiming_std(400, 300, mode=mode), rel=0.02)
    torch.nn.init.kaiming_uniform_(W, mode=mode, nonlinearity="tanh")
    assert float(W.std()) == pytest.approx(init.kaiming_std(400, 300, gain=5 / 3, mode=mode), rel=0.02)
    torch.nn.init.xavier_normal_(W, gain=2.0)
    assert float(W.std()) == pytest.approx(init.xavier_std(400, 300, gain=2.0), rel=0.02)


def test_std_formulas_bad_input():
    with pytest.raises(ValueError, match="fan_in"):
        init.kaiming_std(0, 3)
    with pytest.raises(ValueError, match="mode"):
        init.kaiming_std(3, 3, mode="fan_avg")
