"""Whose failing cell is it (course.instructor.pipeline.attribution): on data, without a sandbox."""

from __future__ import annotations

from pathlib import Path

import nbformat

from course.instructor.pipeline import attribution
from course.instructor.pipeline.stages import quote

REPO = Path(__file__).resolve().parents[1]
SOLUTION = nbformat.read(REPO / "solutions" / "16_conv_rnn.ipynb", as_version=4)
LEARNER = nbformat.read(REPO / "notebooks" / "16_conv_rnn.ipynb", as_version=4)


def _code(nb):
    return [(i, c.source) for i, c in enumerate(nb.cells) if c.cell_type == "code"]


def test_the_course_cells_are_the_ones_the_build_copies_unchanged():
    course = attribution.course_cells(SOLUTION)
    learner = _code(LEARNER)
    ours = [i for i, src in learner if attribution.normalise(src) in course]
    stubs = [i for i, src in learner if "NotImplementedError" in src]
    assert ours and stubs and not set(ours) & set(stubs)
    assert all(attribution.normalise(src) in course for i, src in learner if i not in stubs)
    assert attribution.normalise("x = 1  \n\n") == "x = 1"


def test_withheld_in_a_course_cell_is_expected_and_the_learners_cells_come_first():
    course = attribution.course_cells(SOLUTION)
    cells = _code(LEARNER)
    demos = [i for i, src in cells if "ref." in src and attribution.normalise(src) in course]
    demo, other = demos[0], demos[1]
    first = cells[0][0]
    edited = [(i, src + "\nimport missing_pkg\n" if i == first else src) for i, src in cells]
    errors = {demo: "Withheld: course.layers.conv2d_forward " + attribution.WITHHELD + " (...)",
              other: "ValueError: shapes do not match",
              first: "ModuleNotFoundError: No module named 'missing_pkg'"}
    fails, expected = attribution.failures(edited, errors, course, quote)
    assert expected == 1
    assert [(f.cell, f.yours) for f in fails] == [(first + 1, True), (other + 1, False)]
    assert fails[0].error == 'learner output "ModuleNotFoundError: No module named \'missing_pkg\'"'
    # the same withheld text in a learner's own cell is the learner's error
    mine = [(demo, "y = ref.conv2d_forward(x)")]
    fails, expected = attribution.failures(mine, {demo: errors[demo]}, course, quote)
    assert expected == 0 and fails[0].yours


def test_consequences_say_what_the_failure_meant_for_the_grade():
    f = attribution.CellFailure(5, True, 'learner output "NameError: nope"')
    src = "def conv2d_forward(x):\n    return x\nnope\ndef helper():\n    pass\n"
    assert attribution.consequence(f, src, {"conv2d_forward": False}, 60) == (
        "`conv2d_forward`, defined in it, was not defined, so not graded")
    assert "were graded; in Jupyter, Run All stops at this cell" in attribution.consequence(
        f, src, {"conv2d_forward": True}, 60)
    assert attribution.consequence(f, "import x", {}, 60) == (
        "the cells after it ran anyway, but in Jupyter Run All stops at this cell")
    t = attribution.CellFailure(8, False, 'learner output "Timeout: ran longer than 10 s"', timed_out=True)
    assert attribution.consequence(t, "run()", {}, 10) == "interrupted after 10 s; the cells after it ran"
    t.consequence = "interrupted after 10 s; the cells after it ran"
    assert t.sentence.startswith("cell 8 (the lesson's, running your functions) timed out: learner output")
    assert attribution.as_notes([f, t]) == [f.sentence]


def test_a_course_cell_that_misses_a_name_an_expected_failure_left_undefined_is_expected():
    course = frozenset({"ref_grads = ref.loss_grads(x)", "print(ref_grads)", "print(y)"})
    cells = [(1, "ref_grads = ref.loss_grads(x)"), (2, "print(ref_grads)"), (3, "print(y)")]
    errors = {1: "Withheld: course.x.loss_grads " + attribution.WITHHELD, 2: "NameError: name 'ref_grads' is not defined",
              3: "NameError: name 'y' is not defined"}
    fails, expected = attribution.failures(cells, errors, course, quote)
    assert expected == 2 and [(f.cell, f.yours) for f in fails] == [(4, False)]


def test_a_forward_that_needs_a_withheld_reference_is_no_remark_on_the_learner():
    """Lesson 03's sigmoid_forward is the course's and calls the reference: graded, the backward is
    checked with the reference forward's cache, and that is the grader's doing."""
    from course.grader.compare.case_checks import diag_forward_backward
    from course.grader.compare.findings import Context
    from course.grader.run.outcome import Outcome

    def remark(note):
        ctx = Context(None, None, Outcome(extra={"forward_note": note}), Outcome())
        return diag_forward_backward(ctx)

    assert remark("raised Withheld: course.layers.sigmoid " + attribution.WITHHELD) is None
    d = remark("raised ValueError: shapes")
    assert d.name == "forward_backward" and not d.fails
    assert d.message == "Your forward raised ValueError: shapes, so your backward was checked with the reference forward's cache."
