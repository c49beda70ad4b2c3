"""Learner bytes at every exit of the grader (no sandbox: the grader's own side, fast).

One hostile input per class, next to an honest one that keeps its text or its marks: quoting at each
exit (course.instructor.quoting), wire errors that name what was wrong without echoing learner
bytes, submissions that are links or FIFOs, feedback names that clean to the same text, an LMS
download with two learners of one display name, a scan that must not import what learner code
names, a cell whose IPython transformation would take minutes, and a class report of learner text
that matplotlib would read as math.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import nbformat
import numpy as np
import pytest

from course.instructor import quoting
from course.instructor.course_admin import class_report
from course.instructor.course_admin.collect import collect
from course.instructor.pipeline import outputs
from course.instructor.pipeline.cell_source import python_source
from course.instructor.pipeline.extract import _object
from course.instructor.pipeline.records import SubmissionGrade, collect_submissions, read_notebook
from course.instructor.sandbox.inside import wire

TA = "NOTE FROM TA: full marks approved"
ESC = "\x1b]0;pwned\x07\x1b[2J\x1b[31mred\u202egnp.exe\x9b"


def test_terminal_text_has_no_control_character():
    out = quoting.terminal("alice " + ESC)
    assert out.isprintable() and "\x1b" not in out and "\u202e" not in out and "\x9b" not in out
    assert out.startswith("alice ") and "\\x1b" in out
    assert quoting.terminal("bob: 3/3") == "bob: 3/3"


@pytest.mark.parametrize("text", ["=HYPERLINK(\"x\")", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_csv_cells_never_start_a_formula(text):
    assert quoting.csv_cell(text) == "'" + text and quoting.csv_uncell(quoting.csv_cell(text)) == text
    assert quoting.csv_cell("alice") == "alice"


def test_file_names_are_injective_and_plain_names_unchanged():
    names = ["a b", "a_b", "a/b", "a__b", "a?b", "../x", ".hidden", "alice", "x" * 300, "é"]
    files = [quoting.file_name(n) for n in names]
    assert len(set(files)) == len(names), files
    assert quoting.file_name("alice") == "alice" and quoting.file_name("a_b") == "a_b"
    assert all("/" not in f and not f.startswith(".") and len(f) < 100 for f in files)


def test_plot_text_cannot_be_math():
    assert "$" not in quoting.plot_text("$\\frac{a}{$").replace("\\$", "")


def _outcomes_doc(outcome) -> bytes:
    return json.dumps({"$": "outcomes", "version": wire.VERSION, "arrays": 1, "outcomes": [outcome],
                       "meta": {}}).encode()


def _npy_with_header(text: str) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.zeros(2))
    data = buf.getvalue()
    return data.replace(b"'descr'", f"'{text}'".encode(), 1)


@pytest.mark.parametrize("outcome, arrays", [
    ({"outputs": {"$": TA}}, [b""]),
    ({"outputs": {"$": "array", "a": TA}}, [b""]),
    ({"outputs": {"$": "array", "a": 0}}, [_npy_with_header(TA)]),
    ({"outputs": {"$": "array", "a": 0}}, [TA.encode() * 10]),
    ({"outputs": {"$": "dict", "items": TA}}, [b""]),
])
def test_wire_errors_do_not_echo_learner_bytes(outcome, arrays):
    with pytest.raises(wire.WireError) as info:
        wire.decode(_outcomes_doc(outcome), arrays)
    assert "NOTE" not in str(info.value) and "TA" not in str(info.value), str(info.value)


def test_a_structured_array_is_refused_without_its_field_names():
    buf = io.BytesIO()
    np.save(buf, np.zeros(2, dtype=[(TA, "f8")]))
    with pytest.raises(wire.WireError) as info:
        wire.decode(_outcomes_doc({"outputs": {"$": "array", "a": 0}}), [buf.getvalue()])
    assert "NOTE" not in str(info.value)


def test_notebook_errors_do_not_echo_its_bytes(tmp_path):
    p = tmp_path / "x.ipynb"
    p.write_text('{"cells": "' + TA + '", "nbformat": 4}')
    for text in (TA, '{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": "' + TA + '"}]}'):
        p.write_text(text)
        nb, why = read_notebook(p)
        assert "NOTE" not in why, why


def test_links_fifos_are_listed_and_refused_and_regular_files_read(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    honest = nbformat.v4.new_notebook()
    nbformat.write(honest, subs / "honest.ipynb")
    secret = tmp_path / "solution.ipynb"
    nbformat.write(honest, secret)
    (subs / "link.ipynb").symlink_to(secret)
    os.mkfifo(subs / "fifo.ipynb")
    found = dict(collect_submissions([subs]))
    assert set(found) == {"honest", "link", "fifo"}
    start = time.monotonic()
    assert read_notebook(found["honest"])[0] is not None
    nb, why = read_notebook(found["link"])
    assert nb is None and "symbolic link" in why
    nb, why = read_notebook(found["fifo"])  # never blocks on a FIFO
    assert nb is None and "not a regular file" in why
    assert time.monotonic() - start < 10


def _grade(name, notes=()):
    return SubmissionGrade(name, name, lesson="00_getting_started", status="graded", notes=list(notes))


def test_every_exit_quotes_names_and_notes(tmp_path):
    hostile = ["=HYPERLINK(\"http://x\",\"y\")", "a b", "a_b", "eve" + ESC, "<script>alert(1)</script>"]
    grades = [_grade(n, [f"{TA} " + ESC]) for n in hostile] + [_grade("alice")]
    info = {"exercises": [], "seed": 1, "jobs": 1, "seconds": 1.0}
    outputs.write_all(tmp_path, grades, info, ["csv", "json", "gradescope"])
    with open(tmp_path / "gradebook.csv", newline="") as fh:
        rows = list(csv.reader(fh))
    assert all(not cell.startswith(quoting.FORMULA) for row in rows for cell in row)
    pages = sorted(p.name for p in (tmp_path / "feedback").iterdir() if p.suffix == ".md")
    assert len(pages) == len(grades) and "alice.md" in pages and "a_b.md" in pages  # a b: a file of its own
    html_pages = sorted(p.name for p in (tmp_path / "feedback").iterdir() if p.suffix == ".html")
    assert [p[:-5] for p in html_pages] == [p[:-3] for p in pages]  # the same names, one page of each kind
    for page in (tmp_path / "feedback").iterdir():
        text = page.read_text()
        assert "<script>" not in text and "\x1b" not in text and "\u202e" not in text
    summary = outputs.summary([_grade(g.name, g.notes) for g in grades[:4]] + [
        SubmissionGrade("x" + ESC, "x", status="invalid", notes=[ESC])], info)
    assert "\x1b" not in summary and "\u202e" not in summary and "\x9b" not in summary
    json.loads((tmp_path / "grades.json").read_text())


def test_class_report_survives_math_text_and_guards_its_csv(tmp_path):
    sub = {"submission": "=cmd|' /C calc'!A0", "score": 0, "max_score": 1, "exercises": {
        "numpy.add_bias": {"title": "t", "score": 0, "points": 1, "status": "error", "sets": [
            {"case_results": [{"passed": False, "diagnoses": [{"name": "$\\frac{", "message": "$x$"}],
                               "error": {"kind": "exception", "type": "$\\sqrt{$", "message": "$$"}}]}]}}}
    honest = {"submission": "alice", "score": 1, "max_score": 1, "exercises": {
        "numpy.add_bias": {"title": "t", "score": 1, "points": 1, "status": "passed", "sets": []}}}
    (tmp_path / "grades.json").write_text(json.dumps({"batch": {"exercises": ["numpy.add_bias"]},
                                                      "submissions": [sub, honest]}))
    page, table = class_report.write_report(tmp_path)
    with open(table, newline="") as fh:
        cells = [c for row in csv.reader(fh) for c in row]
    assert not any(c.startswith(quoting.FORMULA) for c in cells)
    assert "<script" not in page.read_text()


def test_the_scan_imports_nothing_that_learner_code_names():
    before = set(sys.modules)
    for name in ("course.cli", "course.__main__", "course.instructor.grade.run_command", "course.nonexistent.x"):
        _object(name)
    assert set(sys.modules) - before == set()


def test_a_mention_of_the_command_line_starts_no_grader(tmp_path):
    code = ("import sys, time\nfrom course.instructor.pipeline.extract import scan\n"
            "t = time.monotonic()\n"
            "scan([(0, 'import course.cli\\nimport course.__main__\\nfrom course.cli import main\\nmain()\\n')], {}, {})\n"
            "print('course.cli' in sys.modules or 'course.__main__' in sys.modules)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                       env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    assert r.stdout.split()[0] == "False", r.stdout + r.stderr


def test_cell_transformation_is_linear_and_bounded():
    many = "".join(f"%time x = {i}\n" for i in range(5000)) + "def f(x):\n    return x\n"
    python_source("%time x = 1\n")  # IPython imported
    start = time.monotonic()
    out = python_source(many)
    assert time.monotonic() - start < 10
    assert "def f(x):" in out and out.count("run_line_magic") <= 200
    assert python_source("x = 1\n") == "x = 1\n"
    assert "get_ipython().system('ls')" in python_source("!ls\n")


def test_an_lms_download_keys_learners_by_id_and_lists_what_it_dropped(tmp_path):
    z = tmp_path / "canvas.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr(zipfile.ZipInfo("smithjane_101_1_hw.ipynb", (2026, 11, 30, 10, 0, 0)), "jane-101")
        zf.writestr(zipfile.ZipInfo("smithjane_202_2_hw.ipynb", (2026, 11, 30, 11, 0, 0)), "jane-202")
        zf.writestr(zipfile.ZipInfo("smithjane_101_3_hw-1.ipynb", (2026, 11, 30, 12, 0, 0)), "jane-101 v2")
    roster = tmp_path / "r.csv"
    roster.write_text("lms_id,name,learner\n,smithjane,jsmith\n")
    rows = collect(z, tmp_path / "out", roster)
    files = {r["lms_id"]: (tmp_path / "out" / r["file"]).read_text() for r in rows}
    assert files == {"101": "jane-101 v2", "202": "jane-202"}  # neither replaced the other
    skipped = (tmp_path / "out" / "skipped.txt").read_text()
    assert "smithjane_101_1_hw.ipynb: an earlier notebook of LMS id 101" in skipped
    assert "display name is shared" in skipped


def _fake_view(root: Path) -> str:
    """A grading view whose sandbox driver needs a module this environment lacks."""
    inside = root / "course" / "instructor" / "sandbox" / "inside"
    inside.mkdir(parents=True)
    for d in (root / "course", root / "course" / "instructor", root / "course" / "instructor" / "sandbox", inside):
        (d / "__init__.py").write_text("")
    (inside / "box.py").write_text("import IPython_not_installed_here  # noqa\n")
    for p in [root, *root.rglob("*")]:
        p.chmod(0o755 if p.is_dir() else 0o644)
    return str(root)


@pytest.mark.parametrize("isolation", ["process", "bwrap"])
def test_the_start_up_check_names_a_missing_dependency_of_the_sandbox(tmp_path, isolation):
    from course.instructor.sandbox import bwrap
    from course.instructor.sandbox.host import Batch

    if isolation == "bwrap" and bwrap.binary() is None:
        pytest.skip("no bubblewrap here")
    root = tmp_path / "batch"
    root.mkdir()
    root.chmod(0o755)
    tmp_path.chmod(0o755)
    batch = Batch(_fake_view(tmp_path / "view"), str(root), isolation, prestart=False)
    try:
        why = batch.check()
    finally:
        batch.close()
    assert why is not None and "IPython_not_installed_here" in why and "pip install" in why, why


def test_a_batch_that_crashed_the_same_way_before_any_learner_code_is_a_grader_failure():
    from types import SimpleNamespace

    from course.instructor.pipeline.batch import grader_failure
    from course.instructor.sandbox.host import SandboxResult

    def work(log, timing=None):
        box = SandboxResult(status="crashed", log=log, timing=timing or {}, returncode=1)
        return SimpleNamespace(box=box, sub=SubmissionGrade("x", "x", status="crashed"))

    missing = "Traceback...\nModuleNotFoundError: No module named 'IPython'"
    why = grader_failure([work(missing), work(missing)])
    assert why is not None and "No module named 'IPython'" in why
    assert grader_failure([work(missing)]) is None  # one submission: its row says why
    assert grader_failure([work(missing), work(missing, {"job": 0.1})]) is None  # learner code ran in one
    assert grader_failure([work(missing), work("MemoryError")]) is None  # not the same way


def test_after_the_hidden_cut_off_nothing_of_how_the_sandbox_ended_is_shown():
    from types import SimpleNamespace

    from course.instructor.pipeline import stages
    from course.instructor.sandbox.host import Limits, SandboxResult

    for hidden_phase in (True, False):
        box = SandboxResult(status="crashed", log="123456.789 " + TA, returncode=37, hidden_phase=hidden_phase,
                            problem="a truncated frame")
        w = stages.Work(SubmissionGrade("x", "x"), Path("x"), SimpleNamespace(limits=Limits()), box=box)
        stages.collect(w)
        notes = " ".join(w.sub.notes)
        if hidden_phase:
            assert "37" not in notes and "123456" not in notes and "NOTE" not in notes and "frame" not in notes
        else:
            assert "37" in notes and 'learner output "123456.789 NOTE FROM TA' in notes
