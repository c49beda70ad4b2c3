"""Low precision (lesson 14): a float16 round trip that reports what was lost, and a dynamic loss
scaler graded as a trajectory (its scale and its skip decisions, step after step)."""

from __future__ import annotations

import numpy as np

from ...precision import float16_round_trip, round_trip, update_scale
from ..cases import Case
from ..registry import Variant, register
from ..run.lesson_protocols import ScalerTrajectory

LESSON = "14_hardware"


# ---------------------------------------------------------------------------------------------
# float16 round trip


def _values(rng, n, low, high):
    return rng.choice([-1.0, 1.0], n) * 10.0 ** rng.uniform(low, high, n)


def _fp16_cases(rng):
    return [
        Case((_values(rng, 8, -3, 3),), note="ordinary values (1e-3 to 1e3)"),
        Case((np.concatenate([_values(rng, 4, -1, 2), [7e4, -1e5, 65504.0, 65520.0]]),),
             note="large values: 65504 is float16's largest, 65520 rounds to inf"),
        Case((np.concatenate([_values(rng, 3, -1, 1), [1e-9, -2e-8, 3e-8, 1e-6, 3e-5, 0.0]]),),
             note="tiny values: some underflow to 0, some become subnormal; an exact 0"),
        Case((np.concatenate([_values(rng, 5, -10, 6), [0.0, -0.0]]).reshape(7, 1),),
             note="a mix from 1e-10 to 1e6, shape (7, 1)"),
    ]


def _swapped(x):
    out = float16_round_trip(x)
    out["overflow"], out["underflow"] = out["underflow"], out["overflow"]
    return out


def _small_as_underflow(x):
    out = float16_round_trip(x)
    out["underflow"] = np.sum((np.asarray(x) != 0) & (np.abs(np.asarray(x)) < 2.0**-14))
    return out


def _zeros_counted(x):
    out = float16_round_trip(x)
    out["underflow"] = np.sum(out["back"] == 0)
    return out


def _rel_everywhere(x):
    out = float16_round_trip(x)
    x = np.asarray(x, dtype=np.float64)
    nz = (x != 0) & np.isfinite(x)
    with np.errstate(all="ignore"):
        out["max_rel_error"] = float(np.max(np.abs(out["back"][nz] - x[nz]) / np.abs(x[nz]))) if nz.any() else 0.0
    return out


def _float32_instead(x):
    return round_trip(x, "float32")


def _bfloat16_instead(x):
    return round_trip(x, "bfloat16")


register(
    "precision.fp16_round_trip",
    lesson=LESSON,
    title="A float16 round trip that reports what was lost",
    reference=float16_round_trip,
    cases=_fp16_cases,
    outputs=("report",),
    arg_names=("x",),
    variants=(
        Variant("overflow_underflow_swapped", _swapped,
                "You swapped overflow and underflow: overflow is a finite value too LARGE for float16 "
                "(|x| > 65504) that became inf; underflow is a non-zero value too SMALL that became 0."),
        Variant("subnormal_counted_as_underflow", _small_as_underflow,
                "You counted every |x| below the smallest normal (6.1e-5) as underflow; many of those survive "
                "as subnormals. Underflow means the value came back exactly 0 while x was not 0."),
        Variant("zeros_counted_as_underflow", _zeros_counted,
                "You counted entries that were 0 to begin with: only non-zero x that came back as 0 underflowed."),
        Variant("rel_error_over_overflowed", _rel_everywhere,
                "Your max_rel_error includes entries that overflowed or underflowed; take it over the entries that "
                "survived, x and back non-zero and finite (overflow and underflow are counted apart)."),
        Variant("float32_instead", _float32_instead,
                "Your values were rounded to float32 (nearly nothing is lost): cast with x.astype(np.float16)."),
        Variant("bfloat16_instead", _bfloat16_instead,
                "Your values were rounded like bfloat16 (8 mantissa bits): cast with x.astype(np.float16)."),
    ),
    hints=(
        "back = x.astype(np.float16).astype(np.float64) (wrap it in np.errstate(over='ignore')).",
        "overflow: np.isfinite(x) & np.isinf(back); underflow: (x != 0) & (back == 0); "
        "subnormal: (back != 0) & (np.abs(back) < 2**-14).",
        "max_rel_error: max of |back - x| / |x| where x != 0, back != 0 and back is finite; 0.0 if there is "
        "no such entry.",
    ),
)


# ---------------------------------------------------------------------------------------------
# dynamic loss scaling


def _flags(rng, n, p, first_overflows=0):
    f = rng.random(n) < p
    f[:first_overflows] = True
    return [bool(v) for v in f]


def _scaler_cases(rng):
    return [
        Case(kwargs=dict(init_scale=2.0**16, growth_factor=2.0, backoff_factor=0.5, growth_interval=3),
             note="growth_interval 3, overflows now and then", extra={"overflows": _flags(rng, 20, 0.2)}),
        Case(kwargs=dict(init_scale=2.0**24, growth_factor=2.0, backoff_factor=0.5, growth_interval=4),
             note="a scale too large at first: overflows in a row", extra={"overflows": _flags(rng, 20, 0.15, 4)}),
        Case(kwargs=dict(init_scale=1024.0, growth_factor=4.0, backoff_factor=0.25, growth_interval=2),
             note="growth_factor 4, backoff_factor 0.25", extra={"overflows": _flags(rng, 16, 0.3)}),
        Case(kwargs=dict(init_scale=8.0, growth_factor=2.0, backoff_factor=0.5, growth_interval=1),
             note="growth_interval 1: grow after every good step", extra={"overflows": _flags(rng, 10, 0.3)}),
    ]


def _never_skips(state, found_inf, **hp):
    update_scale(state, found_inf, **hp)
    return True


def _no_backoff(state, found_inf, *, backoff_factor=0.5, **hp):
    return update_scale(state, found_inf, backoff_factor=1.0, **hp)


def _tracker_kept(state, found_inf, *, init_scale=2.0**16, growth_factor=2.0, backoff_factor=0.5,
                  growth_interval=2000):
    state.setdefault("scale", float(init_scale))
    state.setdefault("growth_tracker", 0)
    if found_inf:
        state["scale"] *= backoff_factor
        return False
    state["growth_tracker"] += 1
    if state["growth_tracker"] >= growth_interval:
        state["scale"] *= growth_factor
        state["growth_tracker"] = 0
    return True


def _grows_late(state, found_inf, *, growth_interval=2000, **hp):
    return update_scale(state, found_inf, growth_interval=growth_interval + 1, **hp)


def _grows_early(state, found_inf, *, growth_interval=2000, **hp):
    if growth_interval > 1:
        return update_scale(state, found_inf, growth_interval=growth_interval - 1, **hp)
    return update_scale(state, found_inf, growth_interval=growth_interval, **hp)


register(
    "precision.loss_scaler",
    lesson=LESSON,
    title="Dynamic loss scaling (a state machine)",
    reference=update_scale,
    cases=_scaler_cases,
    outputs=("scale", "step_taken"),
    protocol=ScalerTrajectory(),
    variants=(
        Variant("no_skip_on_overflow", _never_skips,
                "You took the optimizer step even when the gradients overflowed: return False when found_inf, "
                "so that inf or NaN never reaches the weights."),
        Variant("no_backoff", _no_backoff,
                "After an overflow the scale must shrink (scale *= backoff_factor), or the next step overflows too."),
        Variant("tracker_not_reset_on_overflow", _tracker_kept,
                "Your scale grows too early: an overflow must reset growth_tracker to 0, so that the scale only "
                "grows after growth_interval overflow-free steps IN A ROW."),
        Variant("grows_one_step_late", _grows_late,
                "Your scale grows one step late: count this step first (growth_tracker += 1), then grow when the "
                "count equals growth_interval."),
        Variant("grows_one_step_early", _grows_early,
                "Your scale grows one step early: grow when growth_tracker, counted after this step, reaches "
                "growth_interval."),
    ),
    hints=(
        "First call: state['scale'] = init_scale, state['growth_tracker'] = 0.",
        "found_inf: scale *= backoff_factor, growth_tracker = 0, return False.",
        "Otherwise growth_tracker += 1; if it equals growth_interval: scale *= growth_factor and growth_tracker = 0. "
        "Return True.",
    ),
)
