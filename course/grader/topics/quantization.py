"""Affine int8 quantization (lesson 18): scale and zero point, quantize, dequantize, and the
straight-through estimator of fake quantization.

Cases put values outside the representable range (clamping), exactly half-way between two
levels (rounding half to even), ranges that do not contain 0, and, for the STE, values within
half a step of the edges of the range.
"""

from __future__ import annotations

import numpy as np

from ...quantization import dequantize, fake_quant_backward, fake_quant_forward, qparams, quantize
from ..cases import Case, randn
from ..registry import Variant, register
from ..run.runner import Backward
from ._numeric import as_floats

LESSON = "18_pruning_quantization"


def _qparams_cases(rng):
    lo, hi = -float(rng.uniform(0.5, 3.0)), float(rng.uniform(0.5, 3.0))
    return [
        Case((lo, hi), note=f"range [{lo:.3g}, {hi:.3g}], 8 bits"),
        Case((-0.37, 5.2 + float(rng.uniform(0, 1))), note="mostly positive range"),
        Case((0.5, 2.0 + float(rng.uniform(0, 1))), note="a range that does not contain 0"),
        Case((-4.0 - float(rng.uniform(0, 1)), -1.0), note="only negative values"),
        Case((lo, hi, -128, 127), note="signed int8: qmin = -128, qmax = 127"),
        Case((-1.3, 0.7, 0, 15), note="4 bits: 0 .. 15"),
    ]


def _qp(scale_of=None, zp_of=None, widen=True):
    def f(x_min, x_max, qmin=0, qmax=255):
        lo, hi = (min(x_min, 0.0), max(x_max, 0.0)) if widen else (float(x_min), float(x_max))
        scale = (hi - lo) / (qmax - qmin) if scale_of is None else scale_of(lo, hi, qmin, qmax)
        zp = int(np.clip(qmin - np.round(lo / scale), qmin, qmax)) if zp_of is None else zp_of(lo, scale, qmin, qmax)
        return scale, zp

    return f


register(
    "quantization.qparams",
    lesson=LESSON,
    title="Scale and zero point of affine quantization",
    reference=qparams,
    cases=_qparams_cases,
    outputs=("scale", "zero_point"),
    arg_names=("x_min", "x_max", "qmin", "qmax"),
    judge=as_floats,
    variants=(
        Variant("scale_from_max", _qp(scale_of=lambda lo, hi, qmin, qmax: max(-lo, hi) / (qmax - qmin)),
                "Your scale is max(|x|) / (qmax - qmin); affine quantization spreads the whole range over the "
                "levels: scale = (x_max - x_min) / (qmax - qmin)."),
        Variant("scale_from_max_half", _qp(scale_of=lambda lo, hi, qmin, qmax: max(-lo, hi) / ((qmax - qmin) / 2)),
                "Your scale is the symmetric one, max(|x|) / 127.5; affine quantization uses "
                "(x_max - x_min) / (qmax - qmin)."),
        Variant("zero_point_not_rounded", _qp(zp_of=lambda lo, s, qmin, qmax: qmin - lo / s),
                "Your zero point is not an integer: round it, zero_point = qmin - round(x_min / scale), so that "
                "0.0 is represented exactly by a code."),
        Variant("zero_point_truncated", _qp(zp_of=lambda lo, s, qmin, qmax: int(qmin - lo / s)),
                "You truncated the zero point with int(); round it to the nearest integer (np.round)."),
        Variant("zero_point_sign",
                _qp(zp_of=lambda lo, s, qmin, qmax: int(np.clip(qmin + np.round(lo / s), qmin, qmax))),
                "Your zero point has the wrong sign: it is the code of 0.0, qmin - round(x_min / scale) "
                "(x_min <= 0, so it is >= qmin)."),
        Variant("range_not_widened", _qp(widen=False),
                "You used [x_min, x_max] as it is; widen it to contain 0 first (x_min = min(x_min, 0), "
                "x_max = max(x_max, 0)), so that 0 stays exactly representable and the zero point lies in "
                "[qmin, qmax]."),
    ),
    hints=(
        "Widen the range to contain 0, then scale = (x_max - x_min) / (qmax - qmin) and "
        "zero_point = int(clip(qmin - round(x_min / scale), qmin, qmax)).",
        "The scale is at least float32's epsilon (np.finfo(np.float32).eps), for an all-zero range.",
    ),
)


def _codes_cases(rng):
    x = randn(rng, 5, 6, scale=1.5)
    x[0, :3] = [4.0, -3.5, 10.0]  # outside [-2, 2.5]: clamped
    scale, zp = qparams(-2.0, 2.5)
    halves = (np.array([0.5, 1.5, 2.5, -0.5, -1.5, 3.0]) + 0.0) * 0.1
    s8, z8 = qparams(-1.0, 1.0, -128, 127)
    return [
        Case((x, scale, zp), note="8 bits, some values outside the range"),
        Case((halves, 0.1, 7), note="values exactly half-way between two codes (round half to even)"),
        Case((randn(rng, 4, 3, scale=0.8), s8, z8, -128, 127), note="signed int8 [-128, 127]"),
        Case((randn(rng, 7), 0.25, 3, 0, 7), note="3 bits: 0 .. 7"),
    ]


def _q(rounding=np.round, clamp=True, sign=1, times=False):
    def f(x, scale, zero_point, qmin=0, qmax=255):
        q = rounding(x * scale if times else x / scale) + sign * zero_point
        return (np.clip(q, qmin, qmax) if clamp else q).astype(np.int64)

    return f


register(
    "quantization.quantize",
    lesson=LESSON,
    title="Quantize: floats to integer codes",
    reference=quantize,
    cases=_codes_cases,
    outputs=("q",),
    arg_names=("x", "scale", "zero_point", "qmin", "qmax"),
    judge=as_floats,
    variants=(
        Variant("no_clamp", _q(clamp=False),
                "Your codes go outside [qmin, qmax] for values outside the range: clamp them, np.clip(q, qmin, qmax)."),
        Variant("floor", _q(rounding=np.floor),
                "You rounded down (floor, or int()); round to the nearest code, np.round."),
        Variant("round_half_up", _q(rounding=lambda v: np.floor(v + 0.5)),
                "You rounded halves up (floor(v + 0.5)); np.round rounds halves to even, as PyTorch does."),
        Variant("zero_point_subtracted", _q(sign=-1),
                "You subtracted the zero point; quantize adds it (q = round(x / scale) + zero_point) and "
                "dequantize subtracts it."),
        Variant("times_scale", _q(times=True),
                "You multiplied by the scale; quantize divides by it (x / scale), dequantize multiplies."),
    ),
    hints=("q = np.clip(np.round(x / scale) + zero_point, qmin, qmax).astype(np.int64)",),
)


def _deq_cases(rng):
    return [
        Case((rng.integers(0, 256, size=(4, 5)), 0.02, 128), note="8-bit codes, zero point 128"),
        Case((rng.integers(-128, 128, size=9), 0.005, -3), note="signed codes, negative zero point"),
        Case((np.array([0, 7, 255]), 0.1, 0), note="zero point 0"),
    ]


register(
    "quantization.dequantize",
    lesson=LESSON,
    title="Dequantize: integer codes back to floats",
    reference=dequantize,
    cases=_deq_cases,
    outputs=("x",),
    arg_names=("q", "scale", "zero_point"),
    variants=(
        Variant("zero_point_added", lambda q, s, z: (q + z) * float(s),
                "You added the zero point; dequantize subtracts it: x = (q - zero_point) * scale."),
        Variant("divide_scale", lambda q, s, z: (q - z) / float(s),
                "You divided by the scale; dequantize multiplies: x = (q - zero_point) * scale."),
        Variant("scale_before_shift", lambda q, s, z: q * float(s) - z,
                "You subtracted the zero point after scaling; it is a number of codes: (q - zero_point) * scale."),
    ),
    hints=("x = (q.astype(float) - zero_point) * scale",),
)


def _ste_cases(rng):
    scale, zp = 0.1, 40  # codes 0 .. 255 cover [-4.0, 21.5]
    edges = np.array([-4.04, -4.06, 21.54, 21.46, 21.56, -3.96])  # within half a step of the edges
    x = np.concatenate([randn(rng, 6, scale=6.0) + 8.0, edges])
    return [
        Case((x, scale, zp), note="values on both sides of the range, some within half a step of its edges",
             fd=False, extra={"dout": randn(rng, x.size)}),
        Case((randn(rng, 4, 5, scale=2.0), 0.05, 10, 0, 63), note="6 bits, a narrow range: many values clamped",
             fd=False, extra={"dout": randn(rng, 4, 5)}),
        Case((randn(rng, 3, 4, scale=0.3), 0.02, 128), note="everything inside the range",
             fd=False, extra={"dout": randn(rng, 3, 4)}),
    ]


def _ste(region):
    def backward(dout, cache):
        x, scale, zp, qmin, qmax = cache
        return dout * region(x, scale, zp, qmin, qmax)

    return backward


register(
    "quantization.fake_quant_backward",
    lesson=LESSON,
    title="The straight-through estimator (fake quantization backward)",
    reference=fake_quant_backward,
    cases=_ste_cases,
    outputs=("dx",),
    protocol=Backward(fake_quant_forward, wrt=(0,)),
    variants=(
        Variant("passes_outside_range", lambda dout, cache: dout * 1.0,
                "You passed the gradient everywhere, also where the forward clamped: there the output does "
                "not change with x, so the gradient is 0. Pass it only where qmin <= round(x / scale) + "
                "zero_point <= qmax."),
        Variant("zero_gradient", lambda dout, cache: dout * 0.0,
                "Your gradient is 0 everywhere. round() has derivative 0 almost everywhere, which is exactly why "
                "the STE pretends it is the identity: pass dout through where the value was not clamped."),
        Variant("range_without_half_step",
                _ste(lambda x, s, z, lo, hi: (x >= (lo - z) * s) & (x <= (hi - z) * s)),
                "You tested x against the range [(qmin - zp) * scale, (qmax - zp) * scale]; values up to half a "
                "step beyond it still round to a valid code and keep their gradient. Test the code before "
                "clamping: q = round(x / scale) + zero_point, inside = (q >= qmin) & (q <= qmax)."),
        Variant("edges_excluded",
                _ste(lambda x, s, z, lo, hi: (np.round(x / s) + z > lo) & (np.round(x / s) + z < hi)),
                "You left out the values whose code is exactly qmin or qmax: those are representable (not "
                "clamped) and keep their gradient; test q >= qmin and q <= qmax."),
        Variant("times_scale",
                _ste(lambda x, s, z, lo, hi: s * ((np.round(x / s) + z >= lo) & (np.round(x / s) + z <= hi))),
                "Your gradient is `scale` times too small: the slopes of quantize (1 / scale) and dequantize "
                "(scale) cancel, so the STE passes dout unchanged inside the range."),
    ),
    hints=(
        "x, scale, zero_point, qmin, qmax = cache; q = np.round(x / scale) + zero_point; "
        "dx = dout * ((q >= qmin) & (q <= qmax))",
    ),
)
