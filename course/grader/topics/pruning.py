"""Magnitude pruning (lesson 18): the mask, and the update that keeps pruned weights at zero.

The cases have ties at the cut (weights that share a magnitude), a sparsity whose count k needs
rounding, negative weights larger in magnitude than the positive ones, and, for the update,
weights that are not yet zero where the mask prunes them.
"""

from __future__ import annotations

import numpy as np

from ...pruning import magnitude_mask, masked_update
from ..cases import Case, randn, sizes
from ..registry import Variant, register
from ._numeric import as_floats

LESSON = "18_pruning_quantization"


def _mask_cases(rng):
    D, M = sizes(rng, 2, 3, 7)
    # magnitudes 0.1 (x3), 0.3 (x5), 0.7 (x6), 1.2 (x6) with random signs and places: pruning
    # k = 10 of 20 cuts through the six entries of magnitude 0.7
    magnitudes = np.repeat([0.1, 0.3, 0.7, 1.2], [3, 5, 6, 6]) * float(rng.uniform(0.5, 2.0))
    tied = (rng.permutation(magnitudes) * rng.choice([-1.0, 1.0], 20)).reshape(4, 5)
    skewed = np.abs(randn(rng, 12)) + 0.1
    skewed[::3] *= -4.0  # the largest magnitudes are negative
    return [
        Case((randn(rng, D, M), 0.5), note=f"W ({D}, {M}), sparsity 0.5"),
        Case((skewed, 0.6), note="large negative weights"),
        Case((tied, 0.5), note="weights that share a magnitude at the cut (ties)"),
        Case((randn(rng, 10), 0.37), note="10 weights, sparsity 0.37: k = round(3.7) = 4"),
        Case((randn(rng, 3, 4), 0.0), note="sparsity 0: nothing pruned"),
        Case((randn(rng, 2, 3), 1.0), note="sparsity 1: everything pruned"),
    ]


def _prune_where(order_key, count=lambda s, n: int(round(s * n))):
    def mask(w, sparsity):
        w = np.asarray(w)
        k = count(sparsity, w.size)
        out = np.ones(w.size, dtype=bool)
        out[np.argsort(order_key(w).reshape(-1), kind="stable")[:k]] = False
        return out.reshape(w.shape)

    return mask


def _threshold(strict):
    def mask(w, sparsity):
        w = np.asarray(w)
        k = int(round(sparsity * w.size))
        if k == 0:
            return np.ones(w.shape, dtype=bool)
        cut = np.sort(np.abs(w).reshape(-1))[k - 1]
        return np.abs(w) > cut if strict else np.abs(w) >= cut

    return mask


register(
    "pruning.magnitude_mask",
    lesson=LESSON,
    title="A magnitude-pruning mask",
    reference=magnitude_mask,
    cases=_mask_cases,
    outputs=("mask",),
    arg_names=("w", "sparsity"),
    judge=as_floats,
    variants=(
        Variant("by_value", _prune_where(lambda w: w),
                "You pruned the smallest *values*, so large negative weights went first: rank the weights "
                "by their magnitude, np.abs(w)."),
        Variant("kept_fraction", lambda w, s: _prune_where(np.abs)(w, 1.0 - s),
                "You kept the fraction `sparsity` instead of pruning it: sparsity is the fraction of weights "
                "set to zero (sparsity 0.9 keeps 10%)."),
        Variant("floor_count", _prune_where(np.abs, lambda s, n: int(s * n)),
                "You pruned int(sparsity * n) weights; the count is round(sparsity * n), as in "
                "torch.nn.utils.prune (int() truncates 3.7 to 3)."),
        Variant("ties_pruned_together", _threshold(True),
                "With ties at the cut you pruned every weight whose |w| equals the threshold, so more than "
                "k = round(sparsity * n) went: prune exactly k entries (np.argsort(np.abs(w), kind='stable'), "
                "the first k in flat order)."),
        Variant("ties_kept_together", _threshold(False),
                "With ties at the cut you kept every weight whose |w| equals the threshold (|w| >= cut), so "
                "fewer than k = round(sparsity * n) were pruned: prune exactly k entries by rank."),
        Variant("inverted", lambda w, s: ~magnitude_mask(w, s),
                "Your mask is inverted: True must mean *kept* (mask multiplies the weights), False pruned."),
    ),
    hints=(
        "k = round(sparsity * w.size); order = np.argsort(np.abs(w).reshape(-1), kind='stable'); "
        "a flat mask of True with mask[order[:k]] = False, reshaped like w.",
        "Ranking (argsort) prunes exactly k weights even when several share the same magnitude; "
        "a threshold on |w| does not.",
    ),
)


def _update_cases(rng):
    D, M = sizes(rng, 2, 3, 6)
    w = randn(rng, D, M)
    mask = magnitude_mask(w, 0.5)
    w2 = randn(rng, 8)
    mask2 = magnitude_mask(w2, 0.75)
    w3 = randn(rng, 4, 3)
    mask3 = magnitude_mask(w3, 0.4)
    return [
        Case((w, randn(rng, D, M), mask, 0.1), note="the first step after pruning: w not yet zeroed"),
        Case((w2 * mask2, randn(rng, 8), mask2, 0.5), note="already pruned weights, sparsity 0.75"),
        Case((w3, randn(rng, 4, 3, scale=3.0), mask3, 0.05), note="large gradients, sparsity 0.4"),
    ]


register(
    "pruning.masked_update",
    lesson=LESSON,
    title="An SGD step that keeps pruned weights at zero",
    reference=masked_update,
    cases=_update_cases,
    outputs=("w_new",),
    arg_names=("w", "g", "mask", "lr"),
    variants=(
        Variant("regrown", lambda w, g, mask, lr: w - lr * g,
                "You did not apply the mask at all: the gradient makes the pruned weights grow back. "
                "Multiply by the mask: (w - lr * g) * mask."),
        Variant("gradient_only", lambda w, g, mask, lr: w - lr * g * mask,
                "You masked the gradient but not the weights: weights pruned by this mask but not yet zero "
                "keep their values. Mask the result: (w - lr * g) * mask."),
        Variant("weights_only", lambda w, g, mask, lr: w * mask - lr * g,
                "You masked the weights before the step but not the step itself: the gradient re-grows the "
                "pruned weights. Mask after the step: (w - lr * g) * mask."),
        Variant("inverted_mask", lambda w, g, mask, lr: (w - lr * g) * ~np.asarray(mask, dtype=bool),
                "You kept the pruned weights and zeroed the others: the mask is True for weights that stay."),
    ),
    hints=(
        "w_new = (w - lr * g) * mask: the step, then the mask, so a pruned weight is 0 after every step.",
        "Return a new array; do not change w in place.",
    ),
)
