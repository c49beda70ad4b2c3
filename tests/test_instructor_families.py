"""One batch over the other lesson families (a backward lesson, an optimizer lesson, the capstone):
the solutions' pages blame nothing on the learner, a blank notebook says "not attempted", and a
learner's cell that fails before its ``def`` says which function it cost."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from test_instructor import _bwrap_problem

pytestmark = [pytest.mark.notebooks, pytest.mark.xdist_group("instructor")]

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    why = _bwrap_problem()
    if why != "ok":
        pytest.skip(f"bubblewrap cannot start a sandbox here: {why}")
    root = tmp_path_factory.mktemp("families")
    subs = root / "submissions"
    subs.mkdir()
    for lesson in ("03_backprop", "07_adaptive", "19_capstone"):
        nbformat.write(nbformat.read(REPO / "solutions" / f"{lesson}.ipynb", as_version=4), subs / f"sol_{lesson}.ipynb")
    nbformat.write(nbformat.read(REPO / "notebooks" / "07_adaptive.ipynb", as_version=4), subs / "blank_07.ipynb")
    broken = nbformat.read(REPO / "solutions" / "03_backprop.ipynb", as_version=4)
    cell = next(c for c in broken.cells if c.source.startswith("def relu_backward("))
    cell.source = "undefined_helper()\n" + cell.source
    nbformat.write(broken, subs / "broken_03.ipynb")
    out = root / "grades"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
           "COURSE_FAST": "1"}
    proc = subprocess.run([sys.executable, "-m", "course", "grade", subs, "--out", out, "--jobs", "2",
                           "--timeout", "600", "--cell-timeout", "300", "--exercise-timeout", "120", "--seed", "3",
                           "--solutions", REPO / "solutions", "--no-progress"],
                          capture_output=True, text=True, env=env, timeout=1500)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with open(out / "gradebook.csv", newline="") as fh:
        rows = {r["submission"]: r for r in csv.DictReader(fh)}
    pages = {n: ((out / "feedback" / f"{n}.md").read_text(), (out / "feedback" / f"{n}.html").read_text())
             for n in rows}
    doc = json.loads((out / "grades.json").read_text())
    return rows, pages, {s["submission"]: s for s in doc["submissions"]}


def test_solutions_score_full_marks_and_their_pages_blame_nothing_on_the_learner(graded):
    rows, pages, subs = graded
    for name in ("sol_03_backprop", "sol_07_adaptive", "sol_19_capstone"):
        assert float(rows[name]["total"]) == float(rows[name]["max"]) > 0, rows[name]
        assert rows[name]["notes"] == "", rows[name]
        assert subs[name]["cell_failures"] == [], subs[name]["cell_failures"]
        for text in pages[name]:
            assert "not available while your notebook is graded" not in text and "cells that failed" not in text


def test_a_blank_notebook_says_not_attempted(graded):
    rows, pages, _ = graded
    assert float(rows["blank_07"]["total"]) == 0
    assert rows["blank_07"]["notes"] == "not attempted: every exercise still raises NotImplementedError"


def test_a_cell_that_fails_before_its_def_says_which_function_it_cost(graded):
    rows, pages, subs = graded
    failure, *lesson = subs["broken_03"]["cell_failures"]
    assert lesson and all(not f["yours"] and f["error"] == 'learner output "NameError: name \'relu_backward\' is not '
                          'defined"' for f in lesson)  # the lesson's cells that use it, listed after
    assert failure["yours"] and failure["consequence"] == "`relu_backward`, defined in it, was not defined, so not graded"
    notes = rows["broken_03"]["notes"]
    assert notes.startswith(f"cell {failure['cell']} failed: learner output \"NameError: name 'undefined_helper' "
                            "is not defined\"; `relu_backward`, defined in it, was not defined, so not graded")
    assert "layers.relu_backward: no `relu_backward` defined after running the notebook" in notes
    md, page = pages["broken_03"]
    assert md.index("## Your cells that failed") < md.index("## layers.")
    assert page.index(f'data-cell="{failure["cell"]}"') < page.index('id="layers.')
