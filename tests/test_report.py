"""course.grader.report: the headline, the text and HTML views, and the one JSON form."""

from __future__ import annotations

import json

from course.grader import check
from course.grader.compare.findings import CaseResult, Diagnosis
from course.grader.report import Result, case_json, diagnosis_json, render_html, render_text, result_json
from course.grader.run.outcome import ErrorInfo
from course.layers import relu_forward


def _result():
    cases = [
        CaseResult(0, "N = 3", True),
        CaseResult(1, "N = 1", False, [Diagnosis("factor", "Your output is 2 times the expected one.")]),
        CaseResult(2, "large", False, [Diagnosis("factor", "Your output is 2 times the expected one."),
                                        Diagnosis("mutated", "changed x")]),
    ]
    return Result("demo.x", "Demo", "00_demo", 3.0, cases, ("a hint",), 0)


def test_score_status_and_distinct_diagnoses():
    r = _result()
    assert (r.n_passed, r.score, r.status, r.passed) == (1, 1.0, "failed", False)
    assert r.diagnosis_names == ["factor", "mutated"] and r.cases_with("factor") == [2, 3]
    assert r.headline.startswith("✘ FAILED  demo.x (Demo): 1 of 3 cases correct (1/3 points)")


def test_not_attempted_and_error_status():
    stub = ErrorInfo("not_attempted", "NotImplementedError", "")
    r = Result("demo.x", "Demo", "00_demo", 1.0, [CaseResult(0, "", False, error=stub)])
    assert r.status == "not_attempted" and "not attempted yet" in r.headline
    boom = ErrorInfo("exception", "ValueError", "boom")
    assert Result("d.x", "D", "00_d", 1.0, [CaseResult(0, "", False, error=boom)]).status == "error"


def test_json_is_one_form_for_everyone():
    r = _result()
    j = result_json(r, cases=True)
    assert r.to_dict(cases=True) == j and json.loads(json.dumps(j)) == j
    assert j["diagnoses"] == [{"name": "factor", "message": "Your output is 2 times the expected one."},
                              {"name": "mutated", "message": "changed x"}]
    assert j["cases"][1] == {"case": 2, "note": "N = 1", "passed": False, "diagnoses": [
        {"name": "factor", "message": "Your output is 2 times the expected one.", "fails": True}]}
    assert "cases" not in r.to_dict()
    err = CaseResult(0, "", False, error=ErrorInfo("exception", "ValueError", "boom", "tb"))
    assert case_json(err)["error"] == {"kind": "exception", "type": "ValueError", "message": "boom", "traceback": "tb"}
    assert diagnosis_json(Diagnosis("n", "m", fails=False), fails=True) == {"name": "n", "message": "m", "fails": False}


def test_text_and_html_show_the_headline_and_the_findings():
    r = _result()
    text, html = render_text(r), render_html(r)
    assert text.splitlines()[0] == r.headline
    assert "2 times the expected one" in text and "2 times the expected one" in html
    assert "<" in html and "demo.x" in html


def test_a_passing_check_renders_one_line():
    r = check("layers.relu_forward", relu_forward, record=False)
    assert r.passed and str(r).splitlines()[0].startswith("✔ PASSED")
