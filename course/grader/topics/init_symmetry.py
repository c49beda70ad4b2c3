"""Why initial weights must differ (lesson 09): counting the distinct hidden units of a layer."""

from __future__ import annotations

import numpy as np

from ...symmetry import distinct_hidden_units
from ..cases import Case, randn, sizes
from ..registry import Variant, register
from ..run.lesson_protocols import WholeNumber

LESSON = "09_initialization"


def _layer(rng, D, groups, M, noise=0.0):
    """A layer whose hidden units come in ``groups`` (a list of group sizes), shuffled; the copies of
    a unit differ by ``noise`` (rounding) at most."""
    units = []
    for k in groups:
        u = randn(rng, D + 1 + M)
        units += [u + noise * rng.uniform(-1, 1, u.size) for _ in range(k)]
    units = np.array(units)[rng.permutation(sum(groups))]
    return units[:, :D].T.copy(), units[:, D].copy(), units[:, D + 1:].copy()


def _cases(rng):
    D, M = sizes(rng, 2, 2, 5)
    same_in = _layer(rng, D, [1, 1, 1], M)
    W1, b1, W2 = same_in
    W1[:, 1], b1[1] = W1[:, 0], b1[0]  # units 0 and 1 share their inputs and bias, not their outputs
    W1[:, 2], W2[2] = W1[:, 0], W2[0]  # units 0 and 2 share all but the bias
    return [
        Case(_layer(rng, D, [2, 3, 1], M), note=f"H = 6 units in 3 groups (2, 3, 1), D = {D}, M = {M}"),
        Case(_layer(rng, D, [5], M, noise=1e-12), note="5 copies of one unit, differing by rounding (1e-12)"),
        Case(_layer(rng, D, [1, 1, 1, 1], M, noise=0.0), note="4 different units"),
        Case((W1, b1, W2), note="same inputs but different outputs or biases: 3 distinct units"),
        Case(_layer(rng, D, [2, 2], M, noise=1e-5), {"atol": 1e-3}, note="2 pairs differing by 1e-5, atol = 1e-3"),
        Case(_layer(rng, D, [1, 2], M, noise=1e-5), {"atol": 0.0}, note="atol = 0: only exact copies are the same"),
    ]


def _groups(units, atol):
    firsts = []
    for j in range(len(units)):
        if not any(np.max(np.abs(units[j] - units[k])) <= atol for k in firsts):
            firsts.append(j)
    return len(firsts)


def _units(W1, b1, W2):
    return np.concatenate([W1.T, b1[:, None], W2], axis=1)


register(
    "init.distinct_hidden_units",
    lesson=LESSON,
    title="Symmetry: count the distinct hidden units",
    reference=distinct_hidden_units,
    cases=_cases,
    outputs=("count",),
    arg_names=("W1", "b1", "W2"),
    protocol=WholeNumber(),
    variants=(
        Variant("rows_of_W1", lambda W1, b1, W2, atol=1e-8: _groups(W1, atol),
                "You compared the rows of W1; W1 is (D, H), so a row belongs to an input feature. Hidden unit j "
                "is the column W1[:, j] (with b1[j] and the row W2[j, :])."),
        Variant("incoming_weights_only", lambda W1, b1, W2, atol=1e-8: _groups(W1.T, atol),
                "You compared only the incoming weights W1[:, j]; two units with the same inputs but a different "
                "bias b1[j] or different outgoing weights W2[j, :] compute different things and get different "
                "gradients. Compare all three."),
        Variant("no_bias", lambda W1, b1, W2, atol=1e-8: _groups(np.concatenate([W1.T, W2], axis=1), atol),
                "You left out the bias: units with the same weights but a different b1[j] are different units."),
        Variant("exact_equality", lambda W1, b1, W2, atol=1e-8: _groups(_units(W1, b1, W2), 0.0),
                "You compared units exactly (==, np.unique); copies of a unit drift apart by rounding (1e-16 "
                "relative), so compare within atol: np.max(np.abs(u - v)) <= atol."),
        Variant("counts_duplicates", lambda W1, b1, W2, atol=1e-8: W1.shape[1] - _groups(_units(W1, b1, W2), atol),
                "You counted the units that copy an earlier one; the function returns the number of distinct "
                "units (groups), H minus that."),
    ),
    hints=(
        "Unit j is the column W1[:, j], the bias b1[j] and the row W2[j, :]: stack them into one row per unit, "
        "np.concatenate([W1.T, b1[:, None], W2], axis=1), (H, D + 1 + M).",
        "Walk the units in order; a unit is new when it differs by more than atol (max of the absolute "
        "differences) from the first unit of every group so far.",
    ),
)
