"""course.grader.compare, .output_compare and .values: the compare phase reads data only and walks
the diagnosis table; outputs are compared item by item."""

from __future__ import annotations

import numpy as np
import pytest

from course.grader import get
from course.grader.cases import Case, cases
from course.grader.compare.core import compare, compare_case
from course.grader.compare.diagnoses import entries
from course.grader.compare.output_compare import compare_value, count_message
from course.grader.models.reference import run_reference
from course.grader.run.outcome import ErrorInfo, Outcome
from course.grader.run.runner import run
from course.grader.run.values import close, fmt_shape, index_text, num, preview


def _setup(exercise_id):
    ex = get(exercise_id)
    case_list = cases(ex, 0)
    return ex, case_list, run_reference(ex, case_list)


def test_the_reference_passes_every_case():
    ex, case_list, refs = _setup("layers.linear_forward")
    results = compare(ex, case_list, refs, refs)
    assert all(r.passed and not r.diagnoses for r in results)


def test_compare_runs_no_code(monkeypatch):
    """With the run phase's functions broken, compare still gives its verdicts (from data)."""
    ex, case_list, refs = _setup("layers.linear_backward")
    wrong = ex.variants[0]
    outs = [Outcome(outputs=r.extra["variants"][wrong.name]) for r in refs]
    from course.grader.run import protocols, runner  # (course.grader.run is also the run function)

    def boom(*a, **k):
        raise AssertionError("compare ran code")

    monkeypatch.setattr(runner, "run_case", boom)
    monkeypatch.setattr(protocols.Backward, "run", boom)
    results = compare(ex, case_list, outs, refs)
    assert not all(r.passed for r in results)
    assert any(d.name == wrong.name for r in results for d in r.diagnoses)


def test_a_reference_error_is_the_graders_bug():
    ex, case_list, refs = _setup("layers.relu_forward")
    bad = Outcome(error=ErrorInfo("exception", "ValueError", "boom"))
    with pytest.raises(RuntimeError, match="reference for layers.relu_forward failed"):
        compare_case(ex, 0, case_list[0], refs[0], bad)


def test_an_error_ends_the_case_with_its_diagnosis():
    ex, case_list, refs = _setup("layers.relu_forward")
    out = Outcome(error=ErrorInfo("exception", "IndexError", "index 3 is out of bounds", where="at step 2"))
    res = compare_case(ex, 0, case_list[0], out, refs[0])
    assert not res.passed and res.error is out.error
    assert [d.name for d in res.diagnoses] == ["exception"]
    assert res.diagnoses[0].message == "Your function raised IndexError at step 2: index 3 is out of bounds"


def test_variants_are_named_only_from_the_reference_data():
    ex, case_list, refs = _setup("layers.linear_backward")
    v = ex.variants[0]
    learner = [Outcome(outputs=r.extra["variants"][v.name]) for r in refs]
    stripped = [Outcome(outputs=r.outputs) for r in refs]  # no variants' outputs: nothing to name
    named = compare(ex, case_list, learner, refs)
    unnamed = compare(ex, case_list, learner, stripped)
    assert any(d.name == v.name for r in named for d in r.diagnoses)
    assert not any(d.name == v.name for r in unnamed for d in r.diagnoses)


def test_dicts_and_lists_are_compared_item_by_item():
    ex = get("network.two_layer_step")
    case = Case()
    out = entries("output")
    ok, diags = compare_value(ex, case, "grads", {"W": np.ones(2)}, {"W": np.ones(2)}, out)
    assert ok and not diags
    ok, diags = compare_value(ex, case, "grads", {"W": np.ones(2), "b": np.ones(1)}, {"W": np.ones(2)}, out)
    assert not ok and "missing the key(s) 'b'" in diags[0].message
    ok, diags = compare_value(ex, case, "grads", {"W": np.ones(2)}, {"W": 2 * np.ones(2)}, out)
    assert not ok and "Your grads['W'] is 2 times" in diags[0].message
    ok, diags = compare_value(ex, case, "batches", [np.ones(1), np.ones(1)], [np.ones(1)], out)
    assert not ok and diags[0].name == "count"


def test_count_message_says_what_to_return():
    ex = get("layers.linear_backward")
    assert "returned None" in count_message(ex, None)
    assert "returned 2 values but should return 3 values: (dx, dW, db)" in count_message(ex, (1, 2))


def test_a_float32_output_is_named_and_compared_at_its_own_tolerance():
    ex = get("layers.relu_forward")
    case_list = cases(ex, 0)
    outs = run(ex, lambda x: tuple(np.asarray(v, dtype=np.float32) for v in ex.reference(x)), case_list)
    res = compare(ex, case_list, outs, run_reference(ex, case_list))
    names = {d.name for r in res for d in r.diagnoses}
    assert names == {"dtype"}  # the values match at float32's tolerance: no "values" finding


def test_values_helpers():
    assert fmt_shape((3,)) == "(3,)" and fmt_shape((2, 3)) == "(2, 3)"
    assert num(0) == "0" and num(1234.5) == "1234" and num(1e-7) == "1.000e-07"
    assert index_text((4,)) == "[4]" and index_text((1, 2)) == "(1, 2)"
    assert close(np.array([1.0, np.nan]), np.array([1.0 + 1e-12, np.nan]))
    assert not close(np.array([1.0, np.nan]), np.array([np.nan, 1.0]))
    assert not close(np.ones(2), np.ones(3)) and not close("a", np.ones(1))
    text = preview(np.arange(20.0).reshape(5, 4 * 1 + 0))
    assert "shape (5, 4), first rows/columns" in text
    assert preview({"a": 1.0}) == "{'a': 1}"
