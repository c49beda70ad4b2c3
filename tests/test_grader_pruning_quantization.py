"""Lesson 18's exercises: registered under their lesson, references pass, each realistic mistake is
named (the generic checks of every exercise are in test_grader_registry.py), and a few unregistered
mistakes get a useful message."""

import numpy as np
import pytest

from course.grader import check, exercises, get

LESSON = "18_pruning_quantization"
EXPECTED = {
    "pruning.magnitude_mask": {"by_value", "kept_fraction", "floor_count", "ties_pruned_together",
                               "ties_kept_together", "inverted"},
    "pruning.masked_update": {"regrown", "gradient_only", "weights_only", "inverted_mask"},
    "quantization.qparams": {"scale_from_max", "scale_from_max_half", "zero_point_not_rounded",
                             "zero_point_truncated", "zero_point_sign", "range_not_widened"},
    "quantization.quantize": {"no_clamp", "floor", "round_half_up", "zero_point_subtracted", "times_scale"},
    "quantization.dequantize": {"zero_point_added", "divide_scale", "scale_before_shift"},
    "quantization.fake_quant_backward": {"passes_outside_range", "zero_gradient", "range_without_half_step",
                                         "edges_excluded", "times_scale"},
}


@pytest.fixture(autouse=True)
def _progress_off(monkeypatch):
    monkeypatch.setenv("COURSE_PROGRESS_FILE", "off")
    monkeypatch.delenv("COURSE_CHECK_STRICT", raising=False)


def test_lesson_exercises_and_their_variants():
    found = {ex.id: {v.name for v in ex.variants if not v.knobs} for ex in exercises(LESSON)}
    assert found == EXPECTED


@pytest.mark.parametrize("exercise_id, variant", [(e, v) for e, vs in EXPECTED.items() for v in sorted(vs)])
def test_variant_is_caught_by_name_on_another_seed(exercise_id, variant):
    fn = next(v.fn for v in get(exercise_id).variants if v.name == variant)
    result = check(exercise_id, fn, seed=5, record=False)
    assert not result.passed and variant in result.diagnosis_names, str(result)


def test_flat_mask_is_a_shape_mistake():
    def flat(w, s):
        k = int(round(s * w.size))
        m = np.ones(w.size, dtype=bool)
        m[np.argsort(np.abs(w).reshape(-1), kind="stable")[:k]] = False
        return m

    result = check("pruning.magnitude_mask", flat, record=False)
    assert "shape" in result.diagnosis_names


def test_float_mask_is_accepted():
    result = check("pruning.magnitude_mask", lambda w, s: get("pruning.magnitude_mask").reference(w, s) * 1.0,
                   record=False)
    assert result.passed


def test_in_place_update_is_named():
    def in_place(w, g, mask, lr):
        w -= lr * g
        w *= mask
        return w

    assert "mutated" in check("pruning.masked_update", in_place, record=False).diagnosis_names


def test_ste_with_learner_forward_that_clamps_wrongly_still_grades_the_backward():
    from course.quantization import fake_quant_backward

    def forward(x, scale, zero_point, qmin=0, qmax=255):
        return np.round(x / scale) * scale, (x, scale, zero_point, qmin, qmax)  # no clamp, no zero point

    result = check("quantization.fake_quant_backward", fake_quant_backward, forward=forward, record=False)
    assert result.passed
