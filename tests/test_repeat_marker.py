"""benchmarks/repeat_marker.py: reading each run's JUnit XML and naming what did not pass every time."""

from __future__ import annotations

import importlib.util
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("repeat_marker", REPO / "benchmarks" / "repeat_marker.py")
repeat_marker = importlib.util.module_from_spec(spec)
spec.loader.exec_module(repeat_marker)

JUNIT = """<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest">
<testcase classname="tests.test_a" name="test_ok" time="0.1"/>
<testcase classname="tests.test_a" name="test_bad" time="0.1"><failure message="AssertionError: 1 != 2">trace</failure></testcase>
<testcase classname="tests.test_a" name="test_bad" time="0.1"><error message="teardown broke">trace</error></testcase>
<testcase classname="tests.test_a" name="test_setup" time="0.1"><error message="fixture 'lab' failed&#10;more">trace</error></testcase>
<testcase classname="tests.test_a" name="test_skip" time="0"><skipped type="pytest.skip" message="no Chromium"/></testcase>
<testcase classname="tests.test_a" name="test_xfail" time="0"><skipped type="pytest.xfail" message="issue 14"/></testcase>
</testsuite></testsuites>"""


def test_outcomes_reads_each_kind_and_keeps_a_failure_over_its_teardown_error(tmp_path):
    junit = tmp_path / "run1.xml"
    junit.write_text(JUNIT)
    found = repeat_marker.outcomes(junit)
    assert found == {
        "tests.test_a::test_ok": ("passed", ""),
        "tests.test_a::test_bad": ("failed", "AssertionError: 1 != 2"),
        "tests.test_a::test_setup": ("error", "fixture 'lab' failed"),
        "tests.test_a::test_skip": ("skipped", "no Chromium"),
        "tests.test_a::test_xfail": ("xfailed", "issue 14"),
    }
    assert repeat_marker.outcomes(tmp_path / "missing.xml") == {}


def test_report_names_each_test_that_did_not_pass_every_time_with_its_outcome_per_run():
    passed, failed, skipped = ("passed", ""), ("failed", "boom"), ("skipped", "no Chromium")
    runs = [
        {"t::flaky": passed, "t::steady": passed, "t::skip": skipped, "t::gone": passed},
        {"t::flaky": failed, "t::steady": passed, "t::skip": skipped},
        {"t::flaky": passed, "t::steady": passed, "t::skip": skipped, "t::gone": passed},
    ]
    lines, ok = repeat_marker.report(runs, list_skips=False)
    text = "\n".join(lines)
    assert not ok
    assert "P F P  t::flaky\n      boom" in text
    assert "P - P  t::gone" in text  # absent from a run: not a pass
    assert "t::steady" not in text and "t::skip" not in text
    assert "1 tests skipped or xfailed in every run" in text
    assert "S S S  t::skip" in "\n".join(repeat_marker.report(runs, list_skips=True)[0])


def test_report_is_ok_only_when_every_test_had_one_passing_or_skipping_outcome():
    steady = [{"t::a": ("passed", ""), "t::s": ("skipped", "why")}] * 3
    assert repeat_marker.report(steady, list_skips=False) == (["  (1 tests skipped or xfailed in every run; --list-skips names them)"], True)
    always_failing = [{"t::a": ("failed", "boom")}] * 2
    lines, ok = repeat_marker.report(always_failing, list_skips=False)
    assert not ok and lines == ["  F F  t::a\n      boom"]
