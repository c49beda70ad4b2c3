"""The HTML feedback page (course.instructor.pipeline.feedback_html) on hand-made grades: learner
text escaped everywhere, the learner's failing cells first, hidden sets show no learner text."""

from __future__ import annotations

from course.grader.compare.findings import CaseResult, Diagnosis
from course.grader.report import Result
from course.grader.run.outcome import ErrorInfo
from course.instructor.pipeline.attribution import CellFailure
from course.instructor.pipeline.feedback_html import feedback_html
from course.instructor.pipeline.records import ExerciseGrade, SetGrade, SubmissionGrade

EVIL = "<script>alert(1)</script>"


def _grade():
    g = SubmissionGrade(f"eve{EVIL}", "eve.ipynb", "03_backprop")
    g.cell_failures = [CellFailure(3, True, f'learner output "ValueError: {EVIL}"', consequence="the cells after it ran"),
                       CellFailure(9, False, 'learner output "NameError: x"')]
    g.notes = [g.cell_failures[0].sentence, f"layers.x: note {EVIL}"]
    wrong = CaseResult(0, "", False, [Diagnosis("exception", f"Your function raised ValueError: {EVIL}")],
                       error=ErrorInfo("exception", "ValueError", EVIL, f"Traceback {EVIL}"))
    e = ExerciseGrade("layers.x", "X", 1.0, 0.0, "error")
    e.sets = [SetGrade("tests", False, "visible", 1, 1, 0, Result("layers.x", "X", "03", 1.0, [wrong])),
              SetGrade("hidden tests 1", True, "after_due_date", 9, 1, 0, Result("layers.x", "X", "03", 1.0, [wrong]))]
    g.exercises = {"layers.x": e}
    return g


def test_learner_text_is_escaped_and_no_script_runs():
    page = feedback_html(_grade(), {"id": "b1"})
    assert "<script>" not in page and page.count("&lt;script&gt;") >= 5


def test_the_learners_cells_come_first_then_notes_then_exercises_then_the_lessons_cells():
    page = feedback_html(_grade(), {"id": "b1"})
    order = [page.index(s) for s in ('data-cell="3"', "<h2>Notes</h2>", 'id="layers.x"', 'data-cell="9"')]
    assert order == sorted(order)
    notes = page.split("<h2>Notes</h2>")[1].split("<h2")[0]
    assert "cell 3" not in notes and "layers.x: note" in notes  # the cell is not repeated under Notes


def test_hidden_sets_show_no_learner_text():
    page = feedback_html(_grade(), {"id": "b1"})
    hidden = page.split("hidden tests 1")[1]
    assert hidden.startswith(": 0 of 1 cases correct (details hidden)") and "Traceback" not in hidden
