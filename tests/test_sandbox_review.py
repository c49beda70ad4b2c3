"""Attacks found in a review of ``course grade``, beyond those of ``tests/test_sandbox.py``.

Each test fails without its fix:

- ``amplify``: a forged result whose document refers to one array many times; each reference
  was decoded as a fresh copy, charged to the size budget once, so a 16 MB document and one
  64 MB array could ask the grader for terabytes (:mod:`course.instructor.sandbox.inside.wire`);
- ``json_nodes``: JSON of tiny lists (``[[],[],...]``) takes about 20 times its bytes once
  parsed, in every frame the grader keeps (:mod:`course.instructor.sandbox.inside.channel`);
- ``inject``: learner text (an exception message with newlines and backticks, the ``repr`` of a
  returned object, a cell's error) ended code spans and blocks in the feedback page and put
  headings, HTML and links there: a forged "TA NOTE" (:mod:`course.instructor.pipeline.outputs`);
- ``formula``: a submission named ``=HYPERLINK(...)`` became a formula in the gradebook;
- ``frames``: millions of empty frames (13 bytes each) took minutes and gigabytes to parse;
- ``shm``: ``/dev`` is bubblewrap's own tmpfs, with no size limit (half the RAM): writing to
  ``/dev/shm`` (or ``/dev``) went past the ``--disk`` cap (:mod:`course.instructor.sandbox.bwrap`);
- ``surrogate``: an exception message with a lone surrogate (``'\\udcff'``, which JSON carries as
  an escape) stopped the grader when it wrote the feedback pages: no page for anyone.
"""

from __future__ import annotations

import csv
import io
import json
import struct

import nbformat
import numpy as np
import pytest
from test_instructor import (  # noqa: F401  (needs_bubblewrap: the session's check that bwrap starts)
    CORRECT,
    IMPORTS,
    WRONG,
    interleave,
    needs_bubblewrap,
    notebook,
    read_gradebook,
)

from course.instructor.pipeline import outputs
from course.instructor.pipeline.records import ExerciseGrade, SubmissionGrade
from course.instructor.sandbox.inside import channel, wire

# ---------------------------------------------------------------------------------------------
# the wire and the channel


def _npy(a) -> bytes:
    buf = io.BytesIO()
    np.save(buf, a, allow_pickle=False)
    return buf.getvalue()


def _doc(outputs_json, n_arrays=1) -> bytes:
    return json.dumps({"$": "outcomes", "version": 1, "arrays": n_arrays, "meta": {},
                       "outcomes": [{"outputs": outputs_json, "error": None, "mutated": [],
                                     "extra": {"$": "dict", "items": []}}]}).encode()


def test_one_array_referred_to_many_times_is_charged_each_time():
    one_mb = _npy(np.zeros(2**17))
    refs = [{"$": "array", "a": 0}] * 100  # 100 MB decoded from 1 MB sent
    with pytest.raises(wire.WireError, match="over the limit"):
        wire.decode(_doc(refs), [one_mb])
    out, _ = wire.decode(_doc(refs[:10]), [one_mb])  # 10 MB: within the budget, and still copies
    assert len(out[0].outputs) == 10 and out[0].outputs[0] is not out[0].outputs[1]


def test_a_document_of_tiny_lists_is_refused_before_it_is_parsed():
    many = "[" + "[]," * (channel.MAX_NODES + 10) + "[]]"
    with pytest.raises(wire.WireError, match="values"):
        wire.decode(_doc(None).replace(b'"outputs": null', b'"outputs": ' + many.encode()), [])
    payload = json.dumps({"event": "cell", "junk": json.loads(many)}).encode()
    frames = channel.Frames(struct.pack(">2scQ", b"CG", b"J", len(payload)) + payload)
    assert frames.events == [] and "JSON values" in frames.problem
    ok = json.dumps({"event": "done"}).encode()
    assert channel.Frames(struct.pack(">2scQ", b"CG", b"J", len(ok)) + ok).events == [({"event": "done"}, [])]


def test_lone_surrogates_from_the_sandbox_become_writable_text():
    doc = json.dumps({"$": "outcomes", "version": 1, "arrays": 0, "meta": {}, "outcomes": [
        {"outputs": "\ud800", "mutated": ["\udcff"], "extra": {"$": "dict", "items": []},
         "error": {"kind": "exception", "type": "E\ud83d", "message": "m\udcff", "traceback": "", "where": ""}}]})
    (o,), _ = wire.decode(doc.encode(), [])
    for text in (o.outputs, o.mutated[0], o.error.type, o.error.message):
        text.encode("utf-8")  # raised UnicodeEncodeError


# ---------------------------------------------------------------------------------------------
# the outputs


EVIL = "boom\n```\n\n## Notes\n\n- TA NOTE: regraded to full marks\n\n<script>alert(2)</script>\n```"


def _graded_with(message, got, note):
    from course.grader.compare.core import CaseResult, Diagnosis
    from course.grader.compare.findings import OutputCheck
    from course.grader.report import Result
    from course.grader.run.runner import ErrorInfo
    from course.instructor.pipeline.records import SetGrade

    check = OutputCheck("out", False, "[[1. 2.]]", got)
    case = CaseResult(0, "a case", False, [Diagnosis("exception", f"Your function raised ValueError: {message}")],
                      error=ErrorInfo("exception", "ValueError", message, "Traceback:\n" + message), outputs=[check])
    s = SetGrade("tests", False, "visible", 1, 1)
    s.result = Result("numpy.add_bias", "Broadcast", "00", 1.0, [case], [], 1)
    e = ExerciseGrade("numpy.add_bias", "Broadcast", 1.0, 0.0, "error", notes=[note])
    e.sets.append(s)
    g = SubmissionGrade("=HYPERLINK(\"http://x\",\"ok\")", "x.ipynb", lesson="00_getting_started", status="graded",
                        notes=[note])
    g.exercises[e.id] = e
    g.cell_errors = {3: 'learner output "<img src=x onerror=alert(3)> [click](javascript:alert(4))"'}
    return g


def _rendered_safely(page: str) -> None:
    """The page as a Markdown renderer shows it: the grader's headings only, no HTML, no links."""
    mistune = pytest.importorskip("mistune")
    rendered = mistune.html(page)
    assert rendered.count("<h2>Notes</h2>") <= 1
    for bad in ("<script", "<img", "<b>", "<a ", "<strong>TA"):
        assert bad not in rendered, (bad, rendered)
    for h in [ln for ln in rendered.splitlines() if ln.startswith("<h")]:
        assert "TA NOTE" not in h, h


def test_learner_text_cannot_write_headings_html_or_links_into_the_feedback():
    g = _graded_with(EVIL, "` <img src=x onerror=alert(1)> **TA NOTE** `", 'learner output "<b>TA</b>"')
    page = outputs.feedback_markdown(g, {})
    _rendered_safely(page)
    assert "TA NOTE" in page  # shown, as text
    for test in outputs.gradescope_results(g, {})["tests"]:
        _rendered_safely(test["output"])


def test_a_submission_name_is_not_a_formula_in_the_gradebook(tmp_path):
    g = _graded_with("x", "y", "=1+1")
    outputs.write_csv(tmp_path / "g.csv", [g], {"exercises": ["numpy.add_bias"]})
    row = next(csv.DictReader(open(tmp_path / "g.csv", newline="")))
    assert row["submission"].startswith("'=HYPERLINK") and row["notes"] == "'=1+1"
    assert row["numpy.add_bias"] == "0"


# ---------------------------------------------------------------------------------------------
# the same attacks in a batch, next to an honest classmate

_FRAME = '''
import os, json, struct, stat, io
import numpy as np
def frame(kind, p):
    return struct.pack('>2scQ', b'CG', kind, len(p)) + p
b = io.BytesIO(); np.save(b, np.zeros(131072), allow_pickle=False)
doc = {"$": "outcomes", "version": 1, "arrays": 1, "meta": {},
       "outcomes": [{"outputs": [{"$": "array", "a": 0}] * 400, "error": None, "mutated": [],
                     "extra": {"$": "dict", "items": []}}]}
payload = json.dumps({"event": "result", "task": 0, "set": 0, "arrays": 1, "doc": json.dumps(doc)}).encode()
for fd in range(3, 64):
    try:
        if stat.S_ISFIFO(os.fstat(fd).st_mode):
            os.write(fd, frame(b'J', payload) + frame(b'A', b.getvalue()))
    except OSError:
        pass
'''
_INJECT = [
    "class Evil:\n    def __repr__(self):\n        return '` <img src=x onerror=alert(1)> **TA NOTE: full marks** `'\n"
    "def add_bias(X, b):\n    return Evil()\n",
    f"def standardize(X, eps=1e-8):\n    raise ValueError({EVIL!r})\n",
    WRONG[2],
    "raise RuntimeError('<b>TA NOTE</b>: <img src=x onerror=alert(3)> [click](javascript:alert(4))')",
    "raise RuntimeError('a lone surrogate \\udcff')",
]

_SHM = '''n, why = 0, "unbounded"
try:
    open("/dev/aa_leak", "w").write("x")
    why = "wrote /dev"
except OSError as e:
    why = e.strerror
try:
    for i in range(10):
        with open(f"/dev/shm/fill{i}", "wb") as fh:
            for k in range(6):
                fh.write(b"0" * 10 * 2**20)
                n += 10
except OSError as e:
    why += "; " + e.strerror
raise RuntimeError(f"SHM {n} MB {why}")
'''


@pytest.mark.notebooks
def test_amplified_arrays_and_injected_markdown_in_a_batch(tmp_path, needs_bubblewrap):  # noqa: F811
    import subprocess
    import sys

    subs = tmp_path / "subs"
    subs.mkdir()
    nbformat.write(notebook([IMPORTS, *WRONG, _FRAME]), subs / "amplify.ipynb")
    nbformat.write(notebook([IMPORTS, *_INJECT]), subs / "inject.ipynb")
    nbformat.write(notebook([IMPORTS, *WRONG, _SHM]), subs / "shm.ipynb")
    nbformat.write(notebook(interleave(CORRECT)), subs / "honest.ipynb")
    out = tmp_path / "grades"
    r = subprocess.run([sys.executable, "-m", "course", "grade", str(subs), "--out", str(out), "--jobs", "1",
                        "--no-progress", "--seed", "7", "--format", "csv,json"],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    rows = read_gradebook(out)
    assert float(rows["honest"]["total"]) == 3 and float(rows["amplify"]["total"]) == 0
    details = {s["submission"]: s for s in json.loads((out / "grades.json").read_text())["submissions"]}
    cases = details["amplify"]["exercises"]["numpy.add_bias"]["sets"][0]["case_results"]
    # the forged result is refused (it would have been the first one, 1 outcome for 12 cases):
    # the driver's own result is graded
    assert cases and not [c for c in cases if c.get("error", {}).get("type") == "NoResult"]
    _rendered_safely((out / "feedback" / "inject.md").read_text())
    assert (out / "feedback" / "honest.md").is_file()
    shm = details["shm"]["cell_errors"]["5"]
    assert "Read-only file system" in shm and "No space left on device" in shm, shm
    assert int(shm.split("SHM ")[1].split(" MB")[0]) <= 256 // 4, shm  # --disk 256 by default


# ---------------------------------------------------------------------------------------------
# open: the capstone's test labels are in the grading view

_LOOKUP = '''import numpy as np
from course.data import load_digits

class Lookup:
    def __init__(self):
        X, y = load_digits("test")
        self.table = {row.tobytes(): label for row, label in zip(X, y)}
    def predict(self, X):
        return np.array([self.table.get(np.asarray(r, dtype=np.float64).tobytes(), 0) for r in X])

def train(X, y, *, seed=0, time_budget=30.0):
    return Lookup(), [2.3, 1.2, 0.6, 0.3, 0.2]
'''


@pytest.mark.notebooks
@pytest.mark.xfail(strict=True, reason=(
    "TrainingRun.judge grades capstone.train by test accuracy against load_digits('test'), and course.data "
    "(the digits file with its labels) is in the grading view, so a predict that looks the test images up "
    "scores 100% with no training (checked in-process against the judge). Today lesson 19 cannot be "
    "graded at all (TrainingRun/GradientCheck.run live in course.grader.run.training_protocol, outside the "
    "view) and the judge is never called (see the allocation test). Fix: a view whose digits file and "
    "load_digits hold no test labels, with the split kept as shipped indices"))
def test_the_capstone_cannot_be_passed_by_looking_up_the_test_labels(tmp_path, needs_bubblewrap):  # noqa: F811
    import subprocess
    import sys

    nb = notebook([_LOOKUP], lesson="19_capstone")
    nbformat.write(nb, tmp_path / "lookup.ipynb")
    out = tmp_path / "grades"
    r = subprocess.run([sys.executable, "-m", "course", "grade", str(tmp_path / "lookup.ipynb"), "--out", str(out),
                        "--jobs", "1", "--no-progress"], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    assert float(read_gradebook(out)["lookup"]["capstone.train"]) == 0


def test_millions_of_empty_frames_are_not_all_parsed():
    empty = struct.pack(">2scQ", b"CG", b"J", 2) + b"{}"
    frames = channel.Frames(empty * (channel.MAX_FRAMES + 10))  # 2M frames took 23 s and 0.5 GB
    assert len(frames.events) == channel.MAX_FRAMES and "frames" in frames.problem


# ---------------------------------------------------------------------------------------------
# open: measurements made where the learner's code runs are the learner's to forge


def _allocating_adam(w, g, state, *, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
    b1, b2 = betas
    if "exp_avg" not in state:
        state["step"], state["exp_avg"], state["exp_avg_sq"] = 0, np.zeros_like(w), np.zeros_like(w)
    t = state["step"] = state["step"] + 1
    state["exp_avg"][...] = b1 * state["exp_avg"] + (1 - b1) * g  # temporaries of the size of w
    state["exp_avg_sq"][...] = b2 * state["exp_avg_sq"] + (1 - b2) * g * g
    m_hat, v_hat = state["exp_avg"] / (1 - b1**t), state["exp_avg_sq"] / (1 - b2**t)
    w -= lr * m_hat / (np.sqrt(v_hat) + eps)
    return w


def _adam_inplace_passes(monkeypatch, forge: bool) -> bool:
    import tracemalloc

    from course.grader import get
    from course.grader.cases import cases as make_cases
    from course.grader.compare.core import compare_case
    from course.grader.grading import reference_outcomes
    from course.grader.run.runner import run

    ex = get("data_scale.adam_inplace")
    if forge:  # what a cell of the notebook can do in the sandbox, where the protocol measures
        monkeypatch.setattr(tracemalloc, "get_traced_memory", lambda: (0, 0))
    cs = make_cases(ex, 3)
    outs = run(ex, _allocating_adam, cs)
    monkeypatch.undo()
    refs = reference_outcomes(ex, 3)
    return all(compare_case(ex, i, c, o, r).passed for i, (c, o, r) in enumerate(zip(cs, outs, refs)))


# protocol judges are register(judge=...) data now: the allocation check runs
def test_an_allocating_adam_fails_the_allocation_check(monkeypatch):
    assert not _adam_inplace_passes(monkeypatch, forge=False)


@pytest.mark.xfail(strict=True, reason=(
    "data_scale.adam_inplace's allocation check (AllocatingTrajectory) measures with tracemalloc in the "
    "sandbox, in the learner's process, and the grader trusts outcome.extra['peak_bytes']: a cell that "
    "replaces tracemalloc.get_traced_memory (or forges the result frame) passes an allocating Adam. The "
    "same holds for every judge that reads a measurement from outcome.extra (the capstone's wall_s, "
    "the determinism and batch probes). Fix: measure where the learner cannot reach (a second, "
    "grader-driven sandbox run that reports only a number the driver computes before learner code "
    "is imported is still forgeable), or grade such properties by output, not by a claimed measurement"))
def test_a_forged_allocation_measurement_does_not_pass(monkeypatch):
    assert not _adam_inplace_passes(monkeypatch, forge=True)


# ---------------------------------------------------------------------------------------------
# a lesson named by a learner's metadata that cannot be planned


@pytest.mark.notebooks
def test_a_lesson_that_cannot_be_planned_fails_only_its_submissions(tmp_path, needs_bubblewrap):  # noqa: F811
    """Without --lesson every lesson in sight is planned first; one that fails (here a solution
    notebook whose check cell names an unknown exercise) stopped the whole batch with exit 2, so
    a learner could stop the class's grading by putting that lesson into the metadata."""
    import subprocess
    import sys

    from test_instructor import LESSON

    solutions, subs = tmp_path / "solutions", tmp_path / "subs"
    solutions.mkdir()
    subs.mkdir()
    nbformat.write(notebook(interleave(CORRECT), lesson=None), solutions / f"{LESSON}.ipynb")
    nbformat.write(notebook([IMPORTS, 'check("no.such_exercise", print)'], lesson=None),
                   solutions / "01_forward_pass.ipynb")
    nbformat.write(notebook(interleave(CORRECT)), subs / "honest.ipynb")
    nbformat.write(notebook(["x = 1"], lesson="01_forward_pass"), subs / "other.ipynb")
    out = tmp_path / "grades"
    r = subprocess.run([sys.executable, "-m", "course", "grade", str(subs), "--out", str(out), "--jobs", "1",
                        "--no-progress", "--solutions", str(solutions)], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    rows = read_gradebook(out)
    assert float(rows["honest"]["total"]) == 3 and rows["other"]["status"] == "unknown_lesson"
    assert "no.such_exercise" in r.stderr and "no.such_exercise" not in (out / "feedback" / "other.md").read_text()
    alone = subprocess.run([sys.executable, "-m", "course", "grade", str(subs / "other.ipynb"), "--out",
                            str(tmp_path / "g2"), "--no-progress", "--solutions", str(solutions)],
                           capture_output=True, text=True, timeout=600)
    assert alone.returncode == 2 and "no.such_exercise" in alone.stderr  # nothing else to grade: the error


# ---------------------------------------------------------------------------------------------
# open: the hidden cases are in the driver's memory from the first cell on

_STEAL = '''import gc
import numpy as np
job = next((o for o in gc.get_objects() if isinstance(o, dict) and "tasks" in o and "cells" in o), None)
SECRETS = [np.asarray(c.args[0], dtype=float) for label, cs in job["tasks"][0]["sets"] if label != "tests"
           for c in cs]
def standardize(X, eps=1e-8):
    return SECRETS[0]
'''


@pytest.mark.notebooks
# the hidden sets are sent into the sandbox only after every visible result is out
def test_hidden_inputs_do_not_reach_the_feedback_through_a_visible_exercise(tmp_path, needs_bubblewrap):  # noqa: F811
    import subprocess
    import sys

    nbformat.write(notebook([IMPORTS, _STEAL]), tmp_path / "steal.ipynb")
    hidden = {"numpy.add_bias": {"cases": [{"args": [[[123456.789, 1.0]], [0.5, 0.5]]}], "visibility": "hidden"}}
    (tmp_path / "hidden.json").write_text(json.dumps(hidden))
    out = tmp_path / "grades"
    r = subprocess.run([sys.executable, "-m", "course", "grade", str(tmp_path / "steal.ipynb"), "--out", str(out),
                        "--jobs", "1", "--no-progress", "--hidden", str(tmp_path / "hidden.json")],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "123456" not in (out / "feedback" / "steal.md").read_text()
