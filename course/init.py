"""Weight initialisers: Xavier/Glorot and He/Kaiming, uniform and normal.

Our weights have shape (D, M) = (fan_in, fan_out): ``out = x @ W + b``. (PyTorch's ``nn.Linear``
stores the transpose, (out, in), but fan_in is the input size in both.) The formulas follow
``torch.nn.init``:

- xavier_uniform:  U(-a, a) with a = sqrt(3) * std, std = gain * sqrt(2 / (fan_in + fan_out))
- xavier_normal:   N(0, std**2),                    std = gain * sqrt(2 / (fan_in + fan_out))
- kaiming_uniform: U(-a, a) with a = sqrt(3) * std, std = gain / sqrt(fan)
- kaiming_normal:  N(0, std**2),                    std = gain / sqrt(fan)

``fan`` is fan_in (keeps the forward activations' variance, the default) or fan_out (keeps the
backward gradients' variance); ``gain`` comes from :func:`calculate_gain`. A uniform U(-a, a) has
variance a**2 / 3, hence a = sqrt(3) * std.

Randomness: every function takes ``rng``, a ``numpy.random.Generator`` or an integer seed
(``None`` draws a fresh, unseeded Generator). The global NumPy random state is never used.
Values are drawn in float64 with NumPy and then converted to ``dtype`` on the current backend
(:func:`course.backend.current`), so a seed gives the same weights on NumPy and CuPy.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from .backend import current
from .validation import choice

__all__ = [
    "as_generator",
    "calculate_gain",
    "xavier_std",
    "kaiming_std",
    "xavier_uniform",
    "xavier_normal",
    "kaiming_uniform",
    "kaiming_normal",
]

_LINEAR_GAIN_ONE = (
    "linear",
    "identity",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "sigmoid",
)
_NONLINEARITIES = _LINEAR_GAIN_ONE + ("tanh", "relu", "leaky_relu", "selu")


def as_generator(rng, *, fn: str | None = None) -> np.random.Generator:
    """``rng`` as a ``numpy.random.Generator``.

    - a Generator is returned as is (drawing from it advances it);
    - an integer is a seed: ``np.random.default_rng(rng)``;
    - ``None`` gives a fresh unseeded Generator (not reproducible: pass a seed for that).

    Anything else (including the legacy ``np.random.RandomState``) is a TypeError.
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None:
        return np.random.default_rng()
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    where = f"{fn}: " if fn else ""
    raise TypeError(
        f"{where}rng must be a numpy.random.Generator or an integer seed, got {type(rng).__name__}"
        " (make one with np.random.default_rng(seed))"
    )


def calculate_gain(nonlinearity, param=None) -> float:
    """The recommended gain for an activation, as ``torch.nn.init.calculate_gain``.

    - linear, identity, conv*, sigmoid: 1
    - tanh: 5 / 3
    - relu: sqrt(2)
    - leaky_relu: sqrt(2 / (1 + negative_slope**2)), negative_slope = param (default 0.01)
    - selu: 3 / 4
    """
    fn = "calculate_gain"
    choice("nonlinearity", nonlinearity, _NONLINEARITIES, fn=fn)
    if nonlinearity in _LINEAR_GAIN_ONE:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3.0
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "selu":
        return 3.0 / 4.0
    # leaky_relu
    if param is None:
        slope = 0.01
    elif isinstance(param, numbers.Real) and not isinstance(param, bool):
        slope = float(param)
    else:
        raise ValueError(f"{fn}: param (the negative slope) must be a number, got {param!r}")
    return math.sqrt(2.0 / (1.0 + slope**2))


def _check_fans(fn, fan_in, fan_out):
    for name, value in (("fan_in", fan_in), ("fan_out", fan_out)):
        if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{fn}: {name} must be a positive integer, got {value!r}")


def _make(fn, fan_in, fan_out, std, distribution, rng, dtype):
    """Draw a (fan_in, fan_out) array with the given std, then move it to the current backend."""
    gen = as_generator(rng, fn=fn)
    shape = (int(fan_in), int(fan_out))
    if distribution == "uniform":
        bound = math.sqrt(3.0) * std
        w = gen.uniform(-bound, bound, size=shape)
    else:
        w = gen.normal(0.0, std, size=shape)
    xp = current()
    return xp.asarray(w, dtype=_dtype(xp, dtype, fn))


def _dtype(xp, dtype, fn):
    name = np.dtype(dtype).name if not isinstance(dtype, str) else dtype
    if name not in ("float32", "float64"):
        raise ValueError(f"{fn}: dtype must be float32 or float64, got {dtype!r}")
    return getattr(xp, name)


def xavier_std(fan_in, fan_out, gain=1.0) -> float:
    """The standard deviation of Xavier/Glorot weights: gain * sqrt(2 / (fan_in + fan_out)).

    The compromise between keeping the variance of the activations (forward, 1 / fan_in) and of
    the gradients (backward, 1 / fan_out): the harmonic mean of the two variances.
    """
    _check_fans("xavier_std", fan_in, fan_out)
    return float(gain) * math.sqrt(2.0 / (fan_in + fan_out))


def kaiming_std(fan_in, fan_out, gain=2**0.5, mode="fan_in") -> float:
    """The standard deviation of He/Kaiming weights: gain / sqrt(fan).

    - fan: fan_in (mode="fan_in": the forward activations keep their variance) or fan_out
      (mode="fan_out": the backward gradients do).
    - gain: sqrt(2) for ReLU (the default: ReLU zeroes half of its inputs, halving the second
      moment), :func:`calculate_gain` for the others.
    """
    fn = "kaiming_std"
    _check_fans(fn, fan_in, fan_out)
    choice("mode", mode, ("fan_in", "fan_out"), fn=fn)
    return float(gain) / math.sqrt(fan_in if mode == "fan_in" else fan_out)


def xavier_uniform(fan_in, fan_out, gain=1.0, rng=None, dtype="float64"):
    """Xavier/Glorot uniform: W ~ U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)).

    Returns W of shape (fan_in, fan_out) = (D, M); its std is gain * sqrt(2 / (fan_in + fan_out)).
    """
    fn = "xavier_uniform"
    _check_fans(fn, fan_in, fan_out)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    return _make(fn, fan_in, fan_out, std, "uniform", rng, dtype)


def xavier_normal(fan_in, fan_out, gain=1.0, rng=None, dtype="float64"):
    """Xavier/Glorot normal: W ~ N(0, std**2) with std = gain * sqrt(2 / (fan_in + fan_out)).

    Returns W of shape (fan_in, fan_out) = (D, M).
    """
    fn = "xavier_normal"
    _check_fans(fn, fan_in, fan_out)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    return _make(fn, fan_in, fan_out, std, "normal", rng, dtype)


def _kaiming_std(fn, fan_in, fan_out, a, nonlinearity, mode):
    _check_fans(fn, fan_in, fan_out)
    choice("mode", mode, ("fan_in", "fan_out"), fn=fn)
    fan = fan_in if mode == "fan_in" else fan_out
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform(
    fan_in, fan_out, a=0.0, nonlinearity="relu", mode="fan_in", rng=None, dtype="float64"
):
    """He/Kaiming uniform: W ~ U(-bound, bound) with bound = gain * sqrt(3 / fan).

    - fan: fan_in (mode="fan_in", the default) or fan_out (mode="fan_out").
    - gain = calculate_gain(nonlinearity, a); ``a`` is the negative slope, used only for
      "leaky_relu". The ReLU default gives bound = sqrt(6 / fan_in).

    Returns W of shape (fan_in, fan_out) = (D, M). (``nonlinearity="leaky_relu", a=sqrt(5)``
    reproduces PyTorch's default ``nn.Linear`` weights: U(-1/sqrt(fan_in), 1/sqrt(fan_in)).)
    """
    std = _kaiming_std("kaiming_uniform", fan_in, fan_out, a, nonlinearity, mode)
    return _make("kaiming_uniform", fan_in, fan_out, std, "uniform", rng, dtype)


def kaiming_normal(
    fan_in, fan_out, a=0.0, nonlinearity="relu", mode="fan_in", rng=None, dtype="float64"
):
    """He/Kaiming normal: W ~ N(0, std**2) with std = gain / sqrt(fan).

    - fan: fan_in (mode="fan_in", the default) or fan_out (mode="fan_out").
    - gain = calculate_gain(nonlinearity, a); the ReLU default gives std = sqrt(2 / fan_in).

    Returns W of shape (fan_in, fan_out) = (D, M).
    """
    std = _kaiming_std("kaiming_normal", fan_in, fan_out, a, nonlinearity, mode)
    return _make("kaiming_normal", fan_in, fan_out, std, "normal", rng, dtype)
