"""A class of six for lesson 16, graded in one batch as a new instructor would: what the gradebook,
the feedback pages (Markdown and HTML) and the class report say is what happened to each learner,
and nothing else. Screenshots of the pages go to the browser artifacts."""

from __future__ import annotations

import copy
import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from _browser import artifacts_dir, launch_chromium
from test_instructor import _bwrap_problem

from course.grader import exercises

pytestmark = [pytest.mark.notebooks, pytest.mark.xdist_group("instructor")]

REPO = Path(__file__).resolve().parents[1]
LESSON = "16_conv_rnn"
TIMEOUT = 60  # the README's advice for a class: the loop-based solutions need seconds on a busy machine
IDS = [ex.id for ex in exercises(LESSON)]  # the lesson's exercises, in the registry's order
LEARNERS = ["ada_solution", "ben_blank", "cai_half", "dee_flipped", "eve_loop", "fay_import"]


def _edit(nb, marker: str, old: str, new: str) -> None:
    cell = next(c for c in nb.cells if marker in c.source)
    assert old in cell.source, (marker, old)
    cell.source = cell.source.replace(old, new, 1)


def write_class(folder: Path) -> None:
    sol = nbformat.read(REPO / "solutions" / f"{LESSON}.ipynb", as_version=4)
    blank = nbformat.read(REPO / "notebooks" / f"{LESSON}.ipynb", as_version=4)
    half = copy.deepcopy(blank)
    for i, c in enumerate(half.cells):
        if "def conv2d_forward" in c.source or "def conv2d_backward" in c.source:
            c.source = sol.cells[i].source
    flipped, loop, imp = (copy.deepcopy(sol) for _ in range(3))
    _edit(flipped, "def conv2d_forward", "np.tensordot(window, w,", "np.tensordot(window, w[:, :, ::-1, ::-1],")
    _edit(loop, "def rnn_backward", '    """\n', '    """\n    while True:\n        pass\n')
    first = next(c for c in imp.cells if c.cell_type == "code")
    first.source += "\nimport torchvision_not_installed\n"
    for name, nb in zip(LEARNERS, (sol, blank, half, flipped, loop, imp)):
        nbformat.write(nb, folder / f"{name}.ipynb")


def _course(*args, timeout=900):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-m", "course", *map(str, args)], capture_output=True, text=True,
                          env=env, timeout=timeout)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    why = _bwrap_problem()
    if why != "ok":
        pytest.skip(f"bubblewrap cannot start a sandbox here: {why}")
    root = tmp_path_factory.mktemp("class16")
    (root / "submissions").mkdir()
    write_class(root / "submissions")
    out = root / "grades"
    proc = _course("grade", root / "submissions", "--out", out, "--lesson", LESSON, "--jobs", 2,
                   "--timeout", 300, "--cell-timeout", TIMEOUT, "--exercise-timeout", TIMEOUT, "--seed", 16,
                   "--solutions", REPO / "solutions", "--no-progress")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = _course("report", out)
    assert report.returncode == 0, report.stdout + report.stderr
    with open(out / "gradebook.csv", newline="") as fh:
        rows = {r["submission"]: r for r in csv.DictReader(fh)}
    md = {n: (out / "feedback" / f"{n}.md").read_text() for n in LEARNERS}
    page = {n: (out / "feedback" / f"{n}.html").read_text() for n in LEARNERS}
    return {"out": out, "rows": rows, "md": md, "html": page, "stdout": proc.stdout,
            "json": {s["submission"]: s for s in json.loads((out / "grades.json").read_text())["submissions"]},
            "report": (out / "class_report.html").read_text()}


def test_scores_and_gradebook_notes_say_what_happened(graded):
    rows = graded["rows"]
    n = len(IDS)  # one point per exercise of the lesson
    assert {n_: (float(r["total"]), r["status"]) for n_, r in rows.items()} == {
        "ada_solution": (n, "graded"), "ben_blank": (0, "graded"), "cai_half": (2, "graded"),
        "dee_flipped": (pytest.approx(n - 0.75), "graded"), "eve_loop": (n - 1, "graded"), "fay_import": (n, "graded")}
    notes = {n: r["notes"] for n, r in rows.items()}
    assert notes["ada_solution"] == "" and notes["dee_flipped"] == ""
    assert notes["ben_blank"] == "not attempted: every exercise still raises NotImplementedError"
    assert notes["cai_half"] == "not attempted: " + ", ".join(IDS[2:])  # all but the two convolutions
    assert notes["eve_loop"] == f"rnn.bptt: timed out after {TIMEOUT} s (an endless loop?)"
    assert notes["fay_import"] == ("cell 3 failed: learner output \"ModuleNotFoundError: No module named "
                                   "'torchvision_not_installed'\"; the cells after it ran anyway, but in Jupyter "
                                   "Run All stops at this cell")


def test_no_page_blames_the_learner_for_the_lessons_own_cells(graded):
    for name in LEARNERS:
        for text in (graded["md"][name], graded["html"][name]):
            assert "not available while your notebook is graded" not in text, name
            assert "Withheld" not in text, name
        assert graded["json"][name]["expected_cell_errors"] >= 1  # counted, not reported
        if name != "fay_import":
            assert "cells that failed" not in graded["md"][name] and "cell 3" not in graded["html"][name]


def test_a_learners_failing_cell_comes_first_quoted_with_its_consequence(graded):
    md = graded["md"]["fay_import"]
    section = md.index("## Your cells that failed")
    assert section < md.index("## conv.conv2d_forward")
    assert "- cell 3 failed: learner output \"ModuleNotFoundError: No module named 'torchvision_not_installed'\"" in md
    assert "## Notes" not in md  # the cell's note is not repeated
    page = graded["html"]["fay_import"]
    assert page.index('data-cell="3"') < page.index('id="conv.conv2d_forward"')
    assert "No module named &#x27;torchvision_not_installed&#x27;" in page
    assert "Run All stops at this cell" in page


def test_each_page_says_the_learners_own_story(graded):
    md, page = graded["md"], graded["html"]
    assert md["ada_solution"].count("✔ passed") == len(IDS) and "## Notes" not in md["ada_solution"]
    assert md["ben_blank"].count("not attempted") >= 5
    assert "flipped_filter" in md["dee_flipped"] and 'data-name="flipped_filter"' in page["dee_flipped"]
    eve = md["eve_loop"]
    assert f"rnn.bptt: timed out after {TIMEOUT} s (an endless loop?)" in eve
    assert "cases 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12: not run (the exercise ran out of time)" in eve
    assert eve.count(": wrong") == 1  # only the case that ran and timed out
    for name in LEARNERS:  # the HTML page has the check report of each exercise
        assert page[name].count('class="course-check') == len(IDS), name


def test_class_report_counts_each_mistake_once_and_lists_copies_and_cells(graded):
    text = graded["report"]
    assert "raised Timeout" not in text and ">exception<" not in text
    who = text.split("Who made which mistake")[1]
    assert who.count("timed out (an endless loop?)") == 1 and "eve_loop" in who
    assert "flipped_filter" in who and "dee_flipped" in who
    copies, cells = text.split('<h2 id="copies">Flagged copies</h2>')[1].split('<h2 id="cells">Failing cells</h2>')
    assert "ada_solution" in copies  # the solution's functions are in five notebooks
    assert cells.count("<tr>") == 2 and "fay_import" in cells and "torchvision_not_installed" in cells


def test_pages_in_chromium(graded):
    pytest.importorskip("playwright", reason="Playwright's Python package is not installed (the test extra has it)")
    from playwright.sync_api import sync_playwright

    shots = artifacts_dir()
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 900})
            errors = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            for name in LEARNERS:
                page.goto((graded["out"] / "feedback" / f"{name}.html").as_uri())
                assert page.locator("h1").inner_text() == f"Feedback: {name}"
                page.screenshot(path=str(shots / f"feedback-16-{name}.png"), full_page=True)
            page.goto((graded["out"] / "feedback" / "dee_flipped.html").as_uri())
            page.locator("details summary").first.click()  # expected vs got, on one line per number
            page.screenshot(path=str(shots / "feedback-16-dee_flipped-details.png"), full_page=True)
            page.goto((graded["out"] / "class_report.html").as_uri())
            assert page.locator("#cells").is_visible() and page.locator("#copies").is_visible()
            page.screenshot(path=str(shots / "class-report-16.png"), full_page=True)
            assert errors == []
        finally:
            browser.close()
