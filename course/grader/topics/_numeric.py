"""A judge for exercises whose outputs are integers or booleans (masks, integer codes, a zero
point): the values are compared as floats, so a bool mask or an int code goes through the usual
per-output diagnoses (which are written for float outputs) and an int64 zero point is not blamed
for its dtype."""

from __future__ import annotations

import numpy as np

from ..compare.diagnoses import entries
from ..compare.output_compare import compare_outputs


def _floats(x):
    if isinstance(x, tuple):
        return tuple(_floats(v) for v in x)
    if isinstance(x, (bool, int, np.integer, np.bool_)):
        return np.float64(x)
    if isinstance(x, np.ndarray) and x.dtype.kind in "biu":
        return x.astype(np.float64)
    return x


def as_floats(ctx):
    """``judge=`` for :func:`course.grader.register`: compare the outputs as float64 values."""
    return compare_outputs(ctx.exercise, ctx.case, _floats(ctx.reference.outputs), _floats(ctx.outcome.outputs),
                           entries("output"))
