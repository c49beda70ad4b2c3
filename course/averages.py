"""Averages of a 1-D series: the exponential moving average behind momentum, RMSprop and Adam,
and the simple moving average to compare it with.

Both take a series x of shape (T,) and return a series of the same shape (T,), entry t being
the average of the values up to and including x[t], so they plot directly against x.
"""

from __future__ import annotations

from .backend import namespace
from .validation import check_ndim, float_array, in_range

__all__ = ["ema", "moving_average"]


def ema(x, beta, bias_correction=False):
    """Exponential moving average of a series.

        v_0 = 0
        v_t = beta * v_{t-1} + (1 - beta) * x_t            t = 1 .. T
        with bias_correction:  v_t / (1 - beta**t)

    Starting at 0 drags the first averages towards 0 (v_1 = (1 - beta) x_1); dividing by
    1 - beta**t, the sum of the weights, removes that bias (the corrected v_1 is x_1).
    Roughly, v_t averages the last 1 / (1 - beta) values.

    - x: (T,) series (x[0] is x_1); beta in [0, 1).

    Returns the averaged series (T,): entry t - 1 is v_t.
    """
    fn = "ema"
    x = float_array("x", x, fn=fn)
    check_ndim("x", x, 1, "(T,)", fn=fn)
    in_range("beta", beta, 0.0, 1.0, fn=fn)
    xp = namespace(x)
    if x.shape[0] == 0:
        return xp.asarray(x, copy=True)
    out = []
    v = 0.0
    for t in range(1, x.shape[0] + 1):
        v = beta * v + (1 - beta) * x[t - 1]
        out.append(v / (1 - beta**t) if bias_correction else v)
    return xp.stack(out)


def moving_average(x, window):
    """Simple (trailing) moving average: the mean of the last ``window`` values.

        out[t] = mean(x[max(0, t - window + 1) : t + 1])

    The first window - 1 entries average the fewer values available so far, so the output
    has the same length as x.

    - x: (T,) series; window: int >= 1.

    Returns (T,).
    """
    fn = "moving_average"
    x = float_array("x", x, fn=fn)
    check_ndim("x", x, 1, "(T,)", fn=fn)
    if isinstance(window, bool) or not isinstance(window, int) or window < 1:
        raise ValueError(f"{fn}: window must be an int >= 1, got {window!r}")
    xp = namespace(x)
    T = x.shape[0]
    if T == 0:
        return xp.asarray(x, copy=True)
    return xp.stack([xp.mean(x[max(0, t - window + 1) : t + 1]) for t in range(T)])
