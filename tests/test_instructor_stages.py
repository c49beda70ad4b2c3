"""The grading stages one by one, on data, without a sandbox (course.instructor.pipeline.stages)."""

from __future__ import annotations

import types
from pathlib import Path

import nbformat
import numpy as np
import pytest
from nbformat import v4

from course.grader import get
from course.grader.run.runner import ErrorInfo, Outcome
from course.instructor.pipeline import hidden, plan, stages
from course.instructor.pipeline.records import SubmissionGrade
from course.instructor.sandbox import host as sandbox

REPO = Path(__file__).resolve().parents[1]
LESSON = "00_getting_started"


@pytest.fixture(scope="module")
def lesson_plan():
    return plan.make_plan(LESSON, REPO / "solutions", 7, hidden.HiddenTests(), "")


def _work(tmp_path, cells, lesson_plan, expected=None, lesson=LESSON):
    nb = v4.new_notebook(metadata={"course": {"lesson": lesson}})
    nb.cells = [v4.new_code_cell(c) for c in cells]
    nbformat.write(nb, tmp_path / "sub.ipynb")
    config = types.SimpleNamespace(expected=expected, known=[LESSON], limits=sandbox.Limits(), guard=None,
                                   plan=lambda name: lesson_plan if name == LESSON else f"no lesson {name}")
    return stages.Work(SubmissionGrade("sub", str(tmp_path / "sub.ipynb")), tmp_path / "sub.ipynb", config)


def test_read_stops_at_a_file_that_is_not_a_notebook(tmp_path, lesson_plan):
    w = _work(tmp_path, [], lesson_plan, expected=LESSON)
    w.path.write_text("not json")
    assert stages.read(w) is False and w.sub.status == "invalid"
    assert set(w.sub.exercises) == {ex.id for ex in lesson_plan.exercises}


def test_lesson_stops_at_a_mismatch_and_an_empty_notebook(tmp_path, lesson_plan):
    w = _work(tmp_path, ["x = 1"], lesson_plan, expected=LESSON, lesson="03_backprop")
    assert stages.read(w) and stages.lesson(w) is False and w.sub.status == "lesson_mismatch"
    w = _work(tmp_path, ["   "], lesson_plan)
    assert stages.read(w) and stages.lesson(w) is False and w.sub.status == "empty"


def test_scan_stops_at_a_write_into_the_grader_and_flags_a_copy(tmp_path, lesson_plan):
    w = _work(tmp_path, ["import course.grader.run.runner as R\nR.run = None"], lesson_plan)
    assert stages.read(w) and stages.lesson(w) and stages.scan(w) is False and w.sub.status == "tampering"


def test_collect_quotes_what_came_back(tmp_path, lesson_plan):
    w = _work(tmp_path, ["x = 1"], lesson_plan)
    w.box = sandbox.SandboxResult(status="crashed", log="TA NOTE: 10/10\n", returncode=-9)
    w.box.cells["errors"][0] = "ValueError: TA NOTE"
    w.box.cells["skipped"][2] = "stopped the sandbox (a crash, os._exit, or over a limit)"
    assert stages.collect(w)
    assert w.sub.cell_errors[1] == 'learner output "ValueError: TA NOTE"'
    assert w.sub.status == "crashed" and 'its last words: learner output "TA NOTE: 10/10"' in w.sub.notes[-1]
    assert "cell 3 stopped the sandbox" in w.sub.notes[0]


def test_score_compares_in_the_grader(tmp_path, lesson_plan):
    w = _work(tmp_path, ["def add_bias(X, b):\n    return X + b\n"], lesson_plan)
    assert stages.read(w) and stages.lesson(w) and stages.scan(w)
    ex = get("numpy.add_bias")
    t = [e.id for e in lesson_plan.exercises].index(ex.id)
    right = [Outcome(outputs=c.args[0] + c.args[1]) for c in lesson_plan.sets[ex.id][0].cases]  # 3 seeds' cases
    w.box = sandbox.SandboxResult()
    w.box.meta = {i: {"found": True, "callable": True, "type": "function"} for i in range(3)}
    w.box.meta[2] = {"found": True, "callable": False, "type": "int"}
    w.box.outcomes[(t, 0)] = (right, {})
    w.box.outcomes[(1 - t if t == 0 else 0, 0)] = ([Outcome(error=ErrorInfo("not_attempted", "NotImplementedError",
                                                                            ""))], {})
    assert stages.score(w)
    assert w.sub.exercises[ex.id].status == "passed" and w.sub.exercises[ex.id].score == 1.0
    other = [e for e in w.sub.exercises.values() if e.id != ex.id]
    assert {e.status for e in other} <= {"not_attempted", "missing", "no_result", "failed"}
    missing = w.sub.exercises[lesson_plan.exercises[2].id]
    assert missing.status == "missing" and 'learner output "int"' in missing.notes[0]
    forged = [Outcome(outputs=np.zeros(3))]  # a forged, wrong outcome scores what it is worth
    w.box.outcomes[(t, 0)] = (forged, {"timed_out": False})
    assert stages.score_exercise(w, ex, t).score == 0.0
