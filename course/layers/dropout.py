"""Inverted dropout.

    *** p IS THE PROBABILITY OF DROPPING a unit, as in PyTorch (``nn.Dropout(p)``). ***

Some course material (and older papers) write dropout with the probability of KEEPING a unit;
``p = 0.2`` here means "drop 20%, keep 80%", which that material calls ``p = 0.8``.

Inverted dropout scales the kept units by 1 / (1 - p) during training, so the expected output
equals the input and evaluation needs no rescaling: in eval mode dropout is the identity.
"""

from __future__ import annotations

import numbers

from ..backend import namespace
from ..init import as_generator
from ..validation import check_same_shape, float_array

__all__ = ["dropout_forward", "dropout_backward"]


def dropout_forward(x, p, train=True, rng=None):
    """Inverted dropout forward pass. ``p`` is the DROP probability (PyTorch's convention).

    Inputs:
    - x: (N, ...) any shape.
    - p: probability of setting each unit to zero, 0 <= p <= 1 (p = 0 keeps all, p = 1 drops
      all). NOT the keep probability used by some course material.
    - train: True applies dropout; False (evaluation) returns x unchanged.
    - rng: a ``numpy.random.Generator`` or an integer seed; the same seed gives the same mask.
      The uniform numbers are drawn with NumPy (float64) and the mask is moved to x's backend.

    In training: u ~ U[0, 1) per unit, mask = (u >= p) / (1 - p), out = x * mask, so each unit
    is kept with probability 1 - p and E[out] = x. For p = 1 the mask is all zeros (no division
    by zero).

    Returns ``(out, cache)``:
    - out: like x.
    - cache: mask, like x, holding 0 or 1 / (1 - p); ``None`` when nothing was dropped
      (eval mode, or p = 0).
    """
    fn = "dropout_forward"
    x = float_array("x", x, fn=fn)
    if not isinstance(p, numbers.Real) or isinstance(p, bool) or not 0.0 <= p <= 1.0:
        raise ValueError(
            f"{fn}: p (the probability of DROPPING a unit) must be a number in [0, 1], got {p!r}"
        )
    if not isinstance(train, bool):
        raise TypeError(f"{fn}: train must be True or False, got {train!r}")
    if not train or p == 0:
        return x, None
    gen = as_generator(rng, fn=fn)
    xp = namespace(x)
    keep = gen.random(tuple(x.shape)) >= p  # NumPy bool array, True with probability 1 - p
    scale = 1.0 / (1.0 - p) if p < 1 else 0.0
    mask = xp.asarray(keep, dtype=x.dtype) * scale
    return x * mask, mask


def dropout_backward(dout, cache):
    """Inverted dropout backward pass: dx = dout * mask (dx = dout when nothing was dropped).

    - dout: like x; cache: the mask from :func:`dropout_forward` (or None).
    Returns dx like x.
    """
    fn = "dropout_backward"
    mask = cache
    if mask is None:
        return float_array("dout", dout, fn=fn)
    dout = float_array("dout", dout, fn=fn, like=mask)
    check_same_shape("dout", dout, "the forward's input x", mask, fn=fn)
    return dout * mask
