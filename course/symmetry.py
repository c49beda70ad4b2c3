"""Why initial weights must differ: counting the distinct hidden units of a layer.

A hidden unit j of a two-layer network x -> relu(x @ W1 + b1) @ W2 + b2 is described by its
incoming weights W1[:, j], its bias b1[j] and its outgoing weights W2[j, :]. Two units with the
same three compute the same function of every input and receive the same gradients, so gradient
descent keeps them the same forever: a layer started from a constant has ONE distinct unit, however
wide it is. :func:`distinct_hidden_units` counts the distinct units, the measure of that symmetry;
applied to the gradients (dW1, db1, dW2) it counts the distinct gradients the units receive.
"""

from __future__ import annotations

import numpy as np

from .validation import check_ndim, check_shape, float_array, non_negative

__all__ = ["distinct_hidden_units"]


def distinct_hidden_units(W1, b1, W2, atol=1e-8) -> int:
    """The number of distinct hidden units of a layer.

    Inputs: W1 (D, H) the incoming weights (column j feeds unit j), b1 (H,), W2 (H, M) the outgoing
    weights (row j leaves unit j); atol >= 0: two units are the same when every one of their
    D + 1 + M numbers differs by at most atol (a difference of rounding, not of learning).

    The units are taken in order; each joins the first earlier group whose first unit it equals
    (within atol), or starts a new group. Returns the number of groups, an int from 1 to H.
    """
    fn = "distinct_hidden_units"
    W1, b1, W2 = (np.asarray(float_array(n, a, fn=fn)) for n, a in zip(("W1", "b1", "W2"), (W1, b1, W2)))
    check_ndim("W1", W1, 2, "(D, H)", fn=fn)
    H = W1.shape[1]
    check_shape("b1", b1, (H,), "(H,)", fn=fn, why=f"(one bias per hidden unit: H from W1 {W1.shape})")
    check_ndim("W2", W2, 2, "(H, M)", fn=fn)
    check_shape("W2", W2, (H, None), "(H, M)", fn=fn, why=f"(one row per hidden unit: H from W1 {W1.shape})")
    non_negative("atol", atol, fn=fn)
    units = np.concatenate([W1.T, b1[:, None], W2], axis=1)  # (H, D + 1 + M): one row per unit
    firsts: list[int] = []
    for j in range(H):
        if not any(np.max(np.abs(units[j] - units[k])) <= atol for k in firsts):
            firsts.append(j)
    return len(firsts)
