"""Gradient clipping (lesson 08): the gradients are changed in place, so the grader compares the
arrays after the call as well as the returned norm."""

from __future__ import annotations

from ...gradients import clip_grad_norm, clip_grad_value
from ..cases import Case, randn
from ..registry import Variant, register
from ..run.runner import Call

LESSON = "08_schedules"


def _grads(rng, scale=1.0):
    return [randn(rng, 3, 4, scale=scale), randn(rng, 4, scale=scale)]


def _norm_cases(rng):
    return [
        Case((_grads(rng, 2.0), 1.0), note="total norm above max_norm: clipped"),
        Case((_grads(rng, 0.1), 5.0), note="total norm below max_norm: unchanged"),
        Case(([randn(rng, 2, 3, scale=10.0)], 2.5), note="a single array"),
        Case((_grads(rng, 3.0), 1.0, float("inf")), note="norm_type = inf (largest entry)"),
    ]


def _per_array(grads, max_norm, norm_type=2.0):
    total = clip_grad_norm([g.copy() for g in grads], max_norm, norm_type)
    for g in grads:
        clip_grad_norm([g], max_norm, norm_type)
    return total


def _always(grads, max_norm, norm_type=2.0):
    total = clip_grad_norm([g.copy() for g in grads], max_norm, norm_type)
    for g in grads:
        g *= max_norm / (total + 1e-6)
    return total


def _not_in_place(grads, max_norm, norm_type=2.0):
    return clip_grad_norm([g.copy() for g in grads], max_norm, norm_type)


_NOT_IN_PLACE = (
    "Your gradients are unchanged after the call: clip them in place (g *= coef, or g[...] = ...); "
    "g = g * coef only makes a new local array."
)

register(
    "gradients.clip_grad_norm",
    lesson=LESSON,
    title="Clip gradients by their total norm",
    reference=clip_grad_norm,
    cases=_norm_cases,
    outputs=("total_norm", "grads"),
    arg_names=("grads", "max_norm", "norm_type"),
    protocol=Call(inplace=("grads",)),
    variants=(
        Variant("per_array_norm", _per_array,
                "You clipped each array by its own norm; clip_grad_norm uses one total norm over all "
                "arrays together, so the direction of the whole gradient is kept."),
        Variant("always_rescaled", _always,
                "You rescaled the gradients even though their norm was already below max_norm: only clip "
                "when total_norm > max_norm."),
        Variant("not_in_place", _not_in_place, _NOT_IN_PLACE),
    ),
    hints=(
        "total = sqrt(sum of g**2 over every entry of every array); if total > max_norm multiply every "
        "array in place by max_norm / (total + 1e-6). Return total.",
        "norm_type = inf: the total norm is the largest |entry|.",
    ),
)


def _value_cases(rng):
    return [
        Case((_grads(rng, 2.0), 1.0), note="clip_value 1"),
        Case((_grads(rng, 0.1), 5.0), note="nothing to clip"),
        Case(([randn(rng, 5, scale=3.0)], 0.5), note="a single array, clip_value 0.5"),
    ]


def _value_not_in_place(grads, clip_value):
    return None


register(
    "gradients.clip_grad_value",
    lesson=LESSON,
    title="Clip gradients entry by entry",
    reference=clip_grad_value,
    cases=_value_cases,
    outputs=(None, "grads"),
    arg_names=("grads", "clip_value"),
    protocol=Call(inplace=("grads",)),
    variants=(Variant("not_in_place", _value_not_in_place, _NOT_IN_PLACE),),
    hints=("np.clip(g, -clip_value, clip_value, out=g) or g[...] = np.clip(...) for each array.",),
)

