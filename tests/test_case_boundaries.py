"""The cases of each exercise family reach the boundaries of its semantics (issue 26): a bug that
moves a threshold, flips a convention at a kink, breaks a tie or drops the single-row case fails
some case, instead of passing because no case lies there.

One test per family; the exercises of a family are found in the registry, so a new exercise of
the family is held to the same boundaries.
"""

from __future__ import annotations

import numpy as np
import pytest

from course.grader import cases, exercises, get
from course.grader.run.protocols import Backward

SEEDS = (0, 1, 2)


def _arrays(case):
    found = [a for a in (*case.args, *case.kwargs.values()) if isinstance(a, np.ndarray)]
    found += [a for a in case.extra.values() if isinstance(a, np.ndarray)]
    return found


def _all_cases(exercise_id):
    ex = get(exercise_id)
    return [c for s in SEEDS for c in cases(ex, s)]


KINKED = [ex.id for ex in exercises() if ex.id.split(".")[1].split("_")[0] in ("relu", "leaky", "prelu")]


@pytest.mark.parametrize("exercise_id", KINKED)
def test_piecewise_functions_are_tried_exactly_at_their_kink(exercise_id):
    """x > 0 against x >= 0 only differs at 0: a case must hold exact zeros."""
    if "backward" not in exercise_id and not isinstance(get(exercise_id).protocol, Backward):
        pytest.skip("a forward is 0 at the kink either way")
    assert any((c.args[0] == 0).any() for c in _all_cases(exercise_id)), exercise_id


def test_float16_is_tried_either_side_of_its_rounding_thresholds_and_on_infinities():
    xs = np.concatenate([np.ravel(c.args[0]) for c in _all_cases("precision.fp16_round_trip")])
    finite = xs[np.isfinite(xs)]
    assert ((np.abs(finite) > 65504) & (np.abs(finite) < 65520)).any()  # rounds down to the largest value
    assert (np.abs(finite) >= 65520).any() and np.isinf(xs).any()  # rounds to inf; already inf
    tiny = 2.0**-25  # half the smallest subnormal: ties to 0, just above rounds up
    assert (np.abs(finite) == tiny).any() and ((np.abs(finite) > tiny) & (np.abs(finite) < 2 * tiny)).any()


@pytest.mark.parametrize("exercise_id", ["gradients.clip_grad_norm", "data_scale.clip_global_norm"])
def test_clipping_is_tried_above_and_below_its_threshold(exercise_id):
    notes = " ".join(c.note for c in _all_cases(exercise_id))
    assert "above max_norm" in notes and "below max_norm" in notes


def test_quantization_is_tried_on_ties_and_half_a_step_beyond_the_range():
    notes = [c.note for c in _all_cases("quantization.quantize")]
    assert any("half-way" in n for n in notes)
    x, scale, zp, *levels = _all_cases("quantization.fake_quant_backward")[0].args
    qmin, qmax = levels if levels else (0, 255)
    q = x / scale + zp
    beyond = ((q > qmax) & (q < qmax + 0.5)) | ((q < qmin) & (q > qmin - 0.5))
    assert beyond.any()  # inside by rounding, outside by the plain range test


def test_pruning_is_tried_on_ties_at_the_cut_and_at_both_ends():
    notes = " ".join(c.note for c in _all_cases("pruning.magnitude_mask"))
    assert "ties" in notes and "sparsity 0:" in notes and "sparsity 1:" in notes


@pytest.mark.parametrize("exercise_id", ["layers.softmax", "layers.log_softmax", "forward.cross_entropy_loss",
                                         "losses.softmax_cross_entropy"])
def test_softmax_family_is_tried_on_huge_scores_and_a_single_row(exercise_id):
    cs = _all_cases(exercise_id)
    assert any(np.max(np.abs(c.args[0])) >= 500 for c in cs)  # exp overflows without the max trick
    assert any(c.args[0].shape[0] == 1 for c in cs)


BATCHED = [ex.id for ex in exercises() if ex.id.startswith(("layers.", "normalization.layernorm", "rnn.", "init.prelu"))
           and ex.id.split(".")[1] not in ("softmax", "log_softmax")]


@pytest.mark.parametrize("exercise_id", BATCHED)
def test_batched_layers_are_tried_on_a_single_example(exercise_id):
    """N = 1 is where a sum over the wrong axis, or a squeeze, goes unnoticed with larger batches."""
    assert any(c.N == 1 for c in _all_cases(exercise_id)), exercise_id


def test_dropout_is_tried_where_nothing_is_dropped_and_in_eval_mode():
    cs = _all_cases("regularization.dropout_forward")
    assert any(c.args[1] == 0 for c in cs) and any(c.kwargs.get("train") is False for c in cs)
