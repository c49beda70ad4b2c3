"""Low precision: float16 and bfloat16, what a round trip loses, and dynamic loss scaling.

- :func:`to_bfloat16`: round float32 values to bfloat16 (8 exponent bits like float32, 7 stored
  mantissa bits), round to nearest even; NumPy has no bfloat16, so the result is float32 holding
  bfloat16 values (exactly what ``torch.tensor(x).to(torch.bfloat16).float()`` gives).
- :func:`round_trip`: cast to float16 or bfloat16 and back, and report what was lost: entries that
  overflowed to inf, that underflowed to 0, that became subnormal, and the largest relative error.
- :func:`update_scale`: one step of dynamic loss scaling as a state machine (PyTorch's
  ``torch.amp.GradScaler`` rules); :class:`LossScaler` wraps it with scale / unscale.
- :func:`mixed_precision_sgd`: least squares trained with a float32 master copy, float16
  forward and backward, and a loss scaler.

Format facts (``finfo``): float16 max 65504, smallest normal 2**-14 ~ 6.1e-5, smallest
subnormal 2**-24 ~ 6e-8, 10 mantissa bits (relative rounding error <= 2**-11 ~ 4.9e-4);
bfloat16 max ~ 3.4e38, smallest normal ~ 1.2e-38, relative rounding error <= 2**-8 ~ 3.9e-3.
"""

from __future__ import annotations

import numpy as np

from .validation import choice, positive

__all__ = [
    "FORMATS", "to_bfloat16", "cast", "round_trip", "float16_round_trip", "update_scale", "LossScaler",
    "mixed_precision_sgd",
]

#: (max finite, smallest normal, smallest subnormal, unit roundoff) of each format.
FORMATS = {
    "float16": (65504.0, 2.0**-14, 2.0**-24, 2.0**-11),
    "bfloat16": ((2 - 2.0**-7) * 2.0**127, 2.0**-126, 2.0**-133, 2.0**-8),
    "float32": (float(np.finfo(np.float32).max), 2.0**-126, 2.0**-149, 2.0**-24),
}


def to_bfloat16(x) -> np.ndarray:
    """``x`` rounded to bfloat16 (round to nearest, ties to even), as a float32 array.

    A float32 is 1 sign, 8 exponent and 23 mantissa bits; bfloat16 keeps the top 16 bits. Adding
    0x7FFF plus the lowest kept bit before cutting rounds to nearest even; values past the
    largest bfloat16 round to inf, NaN stays NaN.
    """
    with np.errstate(over="ignore"):
        x32 = np.asarray(x, dtype=np.float32)
    bits = x32.view(np.uint32).astype(np.uint64)
    rounded = ((bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000).astype(np.uint32)
    out = rounded.view(np.float32)
    return np.where(np.isnan(x32), np.float32(np.nan), out).astype(np.float32)


def cast(x, fmt: str) -> np.ndarray:
    """``x`` in the format ``fmt`` ("float16", "bfloat16" or "float32"), as an array of that
    format's values (float16, float32 holding bfloat16 values, float32)."""
    choice("fmt", fmt, tuple(FORMATS), fn="cast")
    with np.errstate(over="ignore"):
        if fmt == "bfloat16":
            return to_bfloat16(x)
        return np.asarray(x, dtype=np.float64).astype(fmt)


def round_trip(x, fmt: str = "float16") -> dict:
    """Cast ``x`` to ``fmt`` and back to float64, and report what was lost.

    - x: array of float64 (or float32) values; fmt: "float16" or "bfloat16" (or "float32").

    Returns a dict:

    - ``"back"``: the values after the round trip (float64, shape of x);
    - ``"overflow"``: how many finite entries became +-inf (|x| too large for the format);
    - ``"underflow"``: how many non-zero entries became exactly 0 (|x| below half the
      smallest subnormal);
    - ``"subnormal"``: how many entries came back as non-zero subnormals (precision lost:
      fewer mantissa bits are left);
    - ``"max_rel_error"``: the largest |back - x| / |x| over the entries that survived: x and
      back both non-zero and finite (0.0 when there are none); overflow and underflow are
      counted apart.
    """
    x = np.asarray(x, dtype=np.float64)
    _, smallest_normal, _, _ = FORMATS[fmt]
    back = cast(x, fmt).astype(np.float64)
    finite_in = np.isfinite(x)
    overflow = np.int64(np.sum(finite_in & np.isinf(back)))
    underflow = np.int64(np.sum((x != 0) & (back == 0)))
    subnormal = np.int64(np.sum((back != 0) & (np.abs(back) < smallest_normal)))
    ok = (x != 0) & (back != 0) & np.isfinite(back) & finite_in
    rel = float(np.max(np.abs(back[ok] - x[ok]) / np.abs(x[ok]))) if ok.any() else 0.0
    return {"back": back, "overflow": overflow, "underflow": underflow, "subnormal": subnormal,
            "max_rel_error": rel}


def update_scale(state, found_inf, *, init_scale=2.0**16, growth_factor=2.0, backoff_factor=0.5,
                 growth_interval=2000):
    """One step of dynamic loss scaling; returns whether the optimizer step should be taken.

    - state: a dict, ``{}`` before the first step; holds ``"scale"`` (starts at ``init_scale``)
      and ``"growth_tracker"`` (the number of overflow-free steps in a row since the last change).
    - found_inf: whether the (unscaled) gradients of this step hold an inf or NaN.

    The rules of ``torch.amp.GradScaler.update``:

    - overflow: skip the step, ``scale *= backoff_factor``, ``growth_tracker = 0``;
    - otherwise take the step and ``growth_tracker += 1``; when it reaches ``growth_interval``,
      ``scale *= growth_factor`` and ``growth_tracker = 0``.

    Returns ``True`` (take the step) or ``False`` (skip it).
    """
    positive("growth_interval", growth_interval, fn="update_scale")
    scale = state.setdefault("scale", float(init_scale))
    tracker = state.setdefault("growth_tracker", 0)
    if found_inf:
        state["scale"], state["growth_tracker"] = scale * backoff_factor, 0
        return False
    tracker += 1
    if tracker == growth_interval:
        state["scale"], tracker = scale * growth_factor, 0
    state["growth_tracker"] = tracker
    return True


class LossScaler:
    """Dynamic loss scaling around :func:`update_scale`: ``scale_loss``, ``unscale``, ``update``.

    Use::

        scaler = LossScaler(init_scale=2**16)
        loss = scaler.scale_loss(loss)               # (or scale dout before the backward)
        grads = backward(...)                        # float16 gradients of the scaled loss
        finite = scaler.unscale(grads)               # float32 gradients / scale, in a new dict
        if scaler.update(not finite):                # adjusts the scale; False: skip this step
            optimizer_step(master, grads)
    """

    def __init__(self, init_scale=2.0**16, growth_factor=2.0, backoff_factor=0.5, growth_interval=2000):
        self.hp = dict(init_scale=init_scale, growth_factor=growth_factor, backoff_factor=backoff_factor,
                       growth_interval=growth_interval)
        self.state = {"scale": float(init_scale), "growth_tracker": 0}
        self.unscaled = None

    @property
    def scale(self) -> float:
        return self.state["scale"]

    def scale_loss(self, loss):
        return loss * self.scale

    def unscale(self, grads: dict) -> bool:
        """Float32 copies of ``grads`` divided by the scale in :attr:`unscaled`; True if all finite."""
        self.unscaled = {k: np.asarray(g, dtype=np.float32) / np.float32(self.scale) for k, g in grads.items()}
        return all(bool(np.all(np.isfinite(g))) for g in self.unscaled.values())

    def update(self, found_inf: bool) -> bool:
        return update_scale(self.state, found_inf, **self.hp)


def mixed_precision_sgd(X, y, w0, lr, steps, scaler=None, loss_factor=1.0):
    """Least squares, L = loss_factor * mean(1/2 (X w - y)^2), trained in mixed precision.

    The master weights are float32; every step casts them to float16, runs the forward and the
    backward in float16 (the loss gradient scaled by ``scaler.scale`` when a scaler is given),
    unscales into float32 and updates the master copy (skipping steps whose gradients overflowed).

    Returns ``(w, history)``: the float32 master weights and a dict of per-step lists ``"loss"``
    (float32 loss), ``"scale"``, ``"skipped"`` and ``"zero_grads"`` (the share of float16
    gradient entries that were exactly 0, i.e. underflowed).
    """
    X16, y16 = np.asarray(X, np.float16), np.asarray(y, np.float16)
    w = np.asarray(w0, dtype=np.float32).copy()
    N = X16.shape[0]
    history = {"loss": [], "scale": [], "skipped": [], "zero_grads": []}
    for _ in range(steps):
        s = scaler.scale if scaler is not None else 1.0
        with np.errstate(over="ignore", invalid="ignore"):
            w16 = w.astype(np.float16)
            r = X16 @ w16 - y16  # float16 forward
            dr = (r * np.float16(loss_factor * s / N)).astype(np.float16)  # dL/dr of the scaled loss
            g16 = X16.T @ dr  # float16 backward
        history["zero_grads"].append(float(np.mean(g16 == 0)))
        history["scale"].append(s)
        g = g16.astype(np.float32) / np.float32(s)
        found_inf = not np.all(np.isfinite(g))
        take = scaler.update(found_inf) if scaler is not None else not found_inf
        history["skipped"].append(not take)
        if take:
            w -= np.float32(lr) * g
        r32 = X.astype(np.float32) @ w - np.asarray(y, np.float32)
        history["loss"].append(float(loss_factor * 0.5 * np.mean(r32 * r32)))
    return w, history


def float16_round_trip(x) -> dict:
    """:func:`round_trip` to float16 (the lesson's exercise): the keys ``back``, ``overflow``,
    ``underflow``, ``subnormal`` and ``max_rel_error``."""
    return round_trip(x, "float16")
