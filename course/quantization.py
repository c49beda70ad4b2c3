"""Affine (asymmetric) integer quantization, fake quantization and the straight-through estimator.

A real number x is stored as an integer q in [qmin, qmax] (int8 as PyTorch's ``quint8``: [0, 255])
with two quantization parameters, a float *scale* and an integer *zero point*:

    q = clamp(round(x / scale) + zero_point, qmin, qmax)        quantize
    x ~ (q - zero_point) * scale                                dequantize

The parameters come from the range [x_min, x_max] seen in the data, widened to contain 0 (so
that 0 is represented exactly, which zero padding and ReLU need), as PyTorch's ``MinMaxObserver``
computes them:

    scale      = (x_max - x_min) / (qmax - qmin)
    zero_point = clamp(qmin - round(x_min / scale), qmin, qmax)

Rounding is half to even (``np.round``, like ``torch.round`` and C's ``nearbyint``).

*Fake quantization* (quantize, then dequantize, in float) simulates the rounding error in the
forward pass of quantization-aware training. Its true derivative is 0 almost everywhere, so the
backward pass uses the *straight-through estimator* (STE): the gradient passes unchanged where
the value was inside the representable range and is 0 where it was clamped, as in
``torch.fake_quantize_per_tensor_affine``.
"""

from __future__ import annotations

import numbers

import numpy as np

from .validation import float_array

__all__ = [
    "qparams",
    "quantize",
    "dequantize",
    "fake_quant_forward",
    "fake_quant_backward",
    "qrange",
    "quantize_params",
]

#: Smallest scale (PyTorch's observers use float32's machine epsilon), so that an all-zero
#: tensor still gets a usable scale.
EPS = float(np.finfo(np.float32).eps)


def qrange(num_bits=8):
    """``(qmin, qmax)`` for unsigned affine quantization with ``num_bits`` bits: (0, 2**b - 1)."""
    if isinstance(num_bits, bool) or not isinstance(num_bits, numbers.Integral) or not 1 <= num_bits <= 16:
        raise ValueError(f"qrange: num_bits must be an integer in [1, 16], got {num_bits!r}")
    return 0, 2 ** int(num_bits) - 1


def _levels(qmin, qmax, fn):
    for name, v in (("qmin", qmin), ("qmax", qmax)):
        if isinstance(v, bool) or not isinstance(v, numbers.Integral):
            raise TypeError(f"{fn}: {name} must be an integer, got {type(v).__name__} {v!r}")
    if qmin >= qmax:
        raise ValueError(f"{fn}: qmin must be smaller than qmax, got qmin={qmin}, qmax={qmax}")
    return int(qmin), int(qmax)


def _scale_zp(scale, zero_point, fn):
    if isinstance(scale, bool) or not isinstance(scale, numbers.Real) or not scale > 0:
        raise ValueError(f"{fn}: scale must be a number > 0, got {scale!r}")
    if isinstance(zero_point, bool) or not isinstance(zero_point, numbers.Integral):
        raise TypeError(f"{fn}: zero_point must be an integer, got {type(zero_point).__name__} {zero_point!r}")
    return float(scale), int(zero_point)


def qparams(x_min, x_max, qmin=0, qmax=255):
    """Scale and zero point for values in [x_min, x_max], as PyTorch's ``MinMaxObserver``.

    - x_min, x_max: the observed range (numbers, x_min <= x_max); it is widened to contain 0.
    - qmin, qmax: the integer range (default 0 .. 255, 8 bits unsigned).

    Returns ``(scale, zero_point)``: a float > 0 (at least :data:`EPS`) and a Python int in
    [qmin, qmax], with scale = (max(x_max, 0) - min(x_min, 0)) / (qmax - qmin) and
    zero_point = clamp(qmin - round(min(x_min, 0) / scale), qmin, qmax).
    """
    fn = "qparams"
    qmin, qmax = _levels(qmin, qmax, fn)
    lo, hi = float(x_min), float(x_max)
    if not (np.isfinite(lo) and np.isfinite(hi)) or lo > hi:
        raise ValueError(f"{fn}: need finite x_min <= x_max, got x_min={x_min!r}, x_max={x_max!r}")
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    scale = max((hi - lo) / (qmax - qmin), EPS)
    zero_point = int(np.clip(qmin - np.round(lo / scale), qmin, qmax))
    return scale, zero_point


def quantize(x, scale, zero_point, qmin=0, qmax=255):
    """``q = clamp(round(x / scale) + zero_point, qmin, qmax)``, element-wise.

    - x: float array, any shape; scale > 0; zero_point: int; qmin < qmax: ints.
    Returns ``q``: int64 array like x (the integer codes; int64 so that any range fits).
    """
    fn = "quantize"
    x = float_array("x", x, fn=fn)
    scale, zero_point = _scale_zp(scale, zero_point, fn)
    qmin, qmax = _levels(qmin, qmax, fn)
    return np.clip(np.round(x / scale) + zero_point, qmin, qmax).astype(np.int64)


def dequantize(q, scale, zero_point):
    """``x = (q - zero_point) * scale``: float64 array like the integer codes q."""
    fn = "dequantize"
    q = np.asarray(q)
    if q.dtype.kind not in "iu":
        raise TypeError(f"{fn}: q must hold integer codes (e.g. int64 from quantize), got dtype {q.dtype}")
    scale, zero_point = _scale_zp(scale, zero_point, fn)
    return (q.astype(np.float64) - zero_point) * scale


def fake_quant_forward(x, scale, zero_point, qmin=0, qmax=255):
    """Fake quantization: quantize, then dequantize, staying in float.

    Returns ``(out, cache)``:
    - out: like x, ``(clamp(round(x / scale) + zero_point, qmin, qmax) - zero_point) * scale``;
    - cache: ``(x, scale, zero_point, qmin, qmax)``, the inputs, for the backward pass.
    """
    fn = "fake_quant_forward"
    x = float_array("x", x, fn=fn)
    scale, zero_point = _scale_zp(scale, zero_point, fn)
    qmin, qmax = _levels(qmin, qmax, fn)
    q = np.clip(np.round(x / scale) + zero_point, qmin, qmax)
    out = (q - zero_point) * scale
    return out.astype(x.dtype, copy=False), (x, scale, zero_point, qmin, qmax)


def fake_quant_backward(dout, cache):
    """The straight-through estimator: ``dx = dout`` where the forward did not clamp, else 0.

    - dout: like x; cache: ``(x, scale, zero_point, qmin, qmax)`` from :func:`fake_quant_forward`.

    Rounding is treated as the identity (its slope 1 / scale cancels dequantize's slope scale);
    clamping as a constant. A value counts as inside where round(x / scale) + zero_point lies in
    [qmin, qmax], before clamping, as in ``torch.fake_quantize_per_tensor_affine``: so x up to
    half a step beyond the edge of the range still gets its gradient.

    Returns dx like x.
    """
    fn = "fake_quant_backward"
    x, scale, zero_point, qmin, qmax = cache
    dout = float_array("dout", dout, fn=fn, like=x)
    if dout.shape != x.shape:
        raise ValueError(f"{fn}: dout must have the shape of the forward's input x {x.shape}, got {dout.shape}")
    q = np.round(x / scale) + zero_point
    return dout * ((q >= qmin) & (q <= qmax))


def quantize_params(params, num_bits=8, names=None) -> dict:
    """Post-training quantization of weights: each ``params[name]`` (default: keys starting
    with "W") replaced by its fake-quantized copy with its own per-tensor min/max range and
    ``num_bits`` bits. Returns a new dict (the other entries are shared, not copied)."""
    qmin, qmax = qrange(num_bits)
    names = [k for k in params if k.startswith("W")] if names is None else list(names)
    out = dict(params)
    for k in names:
        w = params[k]
        scale, zp = qparams(float(np.min(w)), float(np.max(w)), qmin, qmax)
        out[k] = fake_quant_forward(w, scale, zp, qmin, qmax)[0]
    return out
