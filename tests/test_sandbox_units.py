"""The sandbox's parts without a batch: the grading view, copy detection, the frames, the plan's
checks of instructor input, and what happens where bubblewrap cannot start."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import nbformat
import pytest

from course.grader import get, registry
from course.instructor import grade
from course.instructor.pipeline import copies, hidden, plan
from course.instructor.pipeline.records import ExerciseGrade, GradingError, SubmissionGrade
from course.instructor.sandbox import bwrap, view
from course.instructor.sandbox import host as sandbox
from course.instructor.sandbox.inside import channel

REPO = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------------------------------------
# the grading view


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return view.build(tmp_path_factory.mktemp("view"), registry.exercises()) / "course"


def test_the_view_holds_no_reference_and_no_topics(built):
    assert not (built / "grader" / "topics").exists()
    for gone in ("layers", "losses.py", "optim.py", "autograd.py", "gradcheck.py", "grader/compare/core.py",
                 "grader/registry.py", "instructor/grade.py", "instructor/pipeline/plan.py"):
        assert not (built / gone).exists(), gone
    assert "does nothing" in (built / "grader" / "__init__.py").read_text()
    data = (built / "data" / "batches.py").read_text()
    assert "def minibatches(*args, **kwargs):\n    raise RuntimeError" in data  # gradient_descent's reference
    assert (built / "notebook.py").is_file() and (built / "widgets").is_dir() and (built / "plots.py").is_file()
    spmd = (built / "parallel" / "spmd.py").read_text()  # the simulated world, without lesson 13's answers
    for name in ("ring_allreduce", "data_parallel_step"):  # they live in course.parallel.rank_programs
        assert f"def {name}(" not in spmd, name
    assert not (built / "parallel" / "rank_programs.py").exists()
    assert "def run_ranks(fn, per_rank_args" in spmd
    modules = view.modules()
    withheld = ("course.data.batches",)  # a kept module whose reference is replaced
    for ex in registry.exercises():
        assert ex.reference.__module__ not in modules or ex.reference.__module__ in withheld, ex.id


def test_a_reference_hidden_in_a_kept_module_stops_the_build(tmp_path, monkeypatch):
    from course import functions

    src = textwrap.dedent(inspect.getsource(functions._beale_grad)).replace("_beale_grad", "sneaky_reference")
    (tmp_path / "sneaky_topic.py").write_text("import numpy as np\nfrom course.functions import *  # noqa\n" + src)
    monkeypatch.syspath_prepend(str(tmp_path))
    import sneaky_topic

    fake = types.SimpleNamespace(id="fake.sneaky", reference=sneaky_topic.sneaky_reference)
    with pytest.raises(view.ViewError, match="sneaky_topic.sneaky_reference"):
        view.build(tmp_path / "v", [fake])


# ---------------------------------------------------------------------------------------------
# copy detection


def _shape(src):
    import ast

    return copies.shape_of(ast.parse(textwrap.dedent(src)).body[0])


def test_a_renamed_copy_of_the_reference_is_flagged():
    ex = get("gradcheck.numerical_gradient_array")
    src = textwrap.dedent(inspect.getsource(ex.reference))
    renamed = src.replace("grad", "g_out").replace("x", "arr").replace(ex.reference.__name__, "mine")
    ids = {ex.id: ex}
    b = types.SimpleNamespace(function="mine")
    got = copies.reference_copies({"mine": _shape(renamed)}, {ex.id: b}, ids)
    assert ex.id in got and "near copy" in got[ex.id]
    own = (
        "def mine(f, x, h=1e-5):\n"
        "    out = []\n"
        "    for i in range(x.size):\n"
        "        e = [0.0] * x.size\n"
        "        e[i] = h\n"
        "        out.append((f(x + e) - f(x - e)) / (2 * h))\n"
        "    return out\n"
    )
    assert copies.reference_copies({"mine": _shape(own)}, {ex.id: b}, ids) == {}


def test_classmates_with_the_same_function_are_flagged_and_short_ones_never():
    base = (
        "def f(A, B):\n    total = 0\n    for i in range(len(A)):\n        for j in range(len(B)):\n"
        "            d = A[i] - B[j]\n            total = total + (d * d).sum() * (i + 1) - j\n"
        "    if total < 0:\n        raise ValueError('negative')\n    return total / (len(A) * len(B))\n"
    )
    alice = _shape(base)
    bob = _shape(base.replace("total", "acc").replace("d = A", "diff = A").replace("(d * d)", "(diff * diff)"))
    carol = _shape("def f(A, B):\n    return ((A[:, None] - B[None]) ** 2).sum(-1).mean()\n")
    got = copies.classmate_copies({"alice": {"x.f": alice}, "bob": {"x.f": bob}, "carol": {"x.f": carol}})
    assert {k[0] for k in got} == {"alice", "bob"}
    assert got[("alice", "x.f")][0][0] == "bob" and got[("alice", "x.f")][0][1] > copies.THRESHOLD
    assert alice.size >= copies.MIN_TOKENS > carol.size


def test_on_copy_zero_scores_the_copied_exercises_zero():
    shape = _shape("def f(A, B):\n" + "    A = A + B * 2 - A / 3 + B ** 2\n" * 12 + "    return A\n")
    works = []
    for name in ("alice", "bob"):
        sub = SubmissionGrade(name, name)
        sub.exercises["x.f"] = ExerciseGrade("x.f", "f", 1.0, score=1.0, status="passed")
        works.append(types.SimpleNamespace(sub=sub, attempted_shapes={"x.f": shape}))
    grade.mark_copies(works, "flag")
    assert all(w.sub.exercises["x.f"].score == 1.0 and "near copy" in w.sub.copies[0] for w in works)
    for w in works:
        w.sub.copies = []
    grade.mark_copies(works, "zero")
    assert all(w.sub.exercises["x.f"].score == 0.0 for w in works)


# ---------------------------------------------------------------------------------------------
# frames


def _frame(kind, payload):
    return channel._HEAD.pack(channel.MAGIC, kind, len(payload)) + payload


def test_frames_stop_at_anything_malformed():
    good = _frame(b"J", json.dumps({"event": "ready"}).encode())
    f = channel.Frames(good + _frame(b"J", b"[1, 2]") + good)
    assert len(f.events) == 1 and "not a JSON object" in f.problem
    f = channel.Frames(good + channel._HEAD.pack(channel.MAGIC, b"J", 2**40))
    assert len(f.events) == 1 and f.problem == "a malformed frame"
    f = channel.Frames(good + _frame(b"A", b"\x93NUMPY"))
    assert "array without a result" in f.problem
    f = channel.Frames(b"garbage" * 3)
    assert f.events == [] and f.problem


def test_read_process_is_bounded_and_never_blocks():
    import time

    proc = subprocess.Popen([sys.executable, "-c", "import sys, time\nsys.stdout.buffer.write(b'x' * 3_000_000)\n"
                             "sys.stdout.flush()\ntime.sleep(30)"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    t0 = time.monotonic()
    out, err, why = channel.read_process(proc, time.monotonic() + 20, limit=1_000_000)
    proc.kill()
    proc.wait()
    proc.stdout.close()
    proc.stderr.close()
    assert why == "limit" and len(out) == 1_000_000 and time.monotonic() - t0 < 15


# ---------------------------------------------------------------------------------------------
# instructor input and the setup


def _lesson03_submission(tmp_path):
    nb = nbformat.v4.new_notebook(metadata={"course": {"lesson": "03_backprop"}})
    nb.cells = [nbformat.v4.new_code_cell("import numpy as np")]
    nbformat.write(nb, tmp_path / "sub.ipynb")
    return tmp_path / "sub.ipynb"


def _course_grade(*args):
    return subprocess.run([sys.executable, "-m", "course", "grade", *map(str, args), "--no-progress"],
                          capture_output=True, text=True, timeout=300, cwd=REPO,
                          env={**__import__("os").environ, "PYTHONPATH": str(REPO)})


def test_a_backward_hidden_case_without_dout_names_the_file_and_the_fix(tmp_path):
    (tmp_path / "h.json").write_text(json.dumps({"layers.relu_backward": {"cases": [{"args": [[[1.0, -2.0]]]}]}}))
    proc = _course_grade(_lesson03_submission(tmp_path), "--hidden", tmp_path / "h.json", "--out", tmp_path / "g",
                         "--solutions", REPO / "solutions")
    assert proc.returncode == 2, proc.stderr
    assert "h.json" in proc.stderr and "layers.relu_backward" in proc.stderr and "'dout'" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_hidden_cases_the_reference_cannot_run_name_the_case(tmp_path):
    ht = hidden.HiddenTests({"layers.relu_forward": {"seeds": [], "cases": [hidden._case({"args": []}, "x")],
                                                     "visibility": None}})
    with pytest.raises(plan.PlanError, match=r"hidden\.json: .*layers\.relu_forward.*case 1"):
        plan.make_plan("01_forward_pass", REPO / "solutions", 1, ht, "hidden.json")


@pytest.mark.parametrize("option", [["--jobs", "0"], ["--disk", "0"], ["--timeout", "-1"], ["--cell-timeout", "0"]])
def test_bad_options_exit_2_naming_the_option(tmp_path, option):
    proc = _course_grade(_lesson03_submission(tmp_path), "--out", tmp_path / "g", *option)
    assert proc.returncode == 2 and option[0] in proc.stderr, proc.stderr


def test_without_bubblewrap_grading_stops_with_the_cause_and_the_fix(tmp_path, monkeypatch):
    monkeypatch.setattr(bwrap, "binary", lambda: None)
    bwrap.problem.cache_clear()
    try:
        with pytest.raises(GradingError, match="no bwrap binary.*--isolation process"):
            grade.grade_batch([_lesson03_submission(tmp_path)], solutions=REPO / "solutions", progress=False)
    finally:
        bwrap.problem.cache_clear()


@pytest.mark.notebooks
def test_isolation_process_grades_with_a_warning_in_the_summary_and_every_row(tmp_path):
    from test_instructor import CORRECT, interleave, notebook, read_gradebook

    solutions = tmp_path / "solutions"
    solutions.mkdir()
    nbformat.write(notebook(interleave(CORRECT), lesson=None), solutions / "00_getting_started.ipynb")
    nbformat.write(notebook(interleave(CORRECT)), tmp_path / "alice.ipynb")
    proc = _course_grade(tmp_path / "alice.ipynb", "--out", tmp_path / "g", "--solutions", solutions,
                         "--isolation", "process", "--timeout", 60)
    assert proc.returncode == 0, proc.stderr
    assert "WARNING" in proc.stdout and "--isolation process" in proc.stdout
    row = read_gradebook(tmp_path / "g")["alice"]
    assert row["total"] == "3" and row["notes"].startswith("WARNING: graded without the OS sandbox")


def test_limits_are_hard():
    lim = sandbox.Limits(memory=100, processes=7, files=50).rlimits()
    assert lim["RLIMIT_AS"] == 100 * 2**20 and lim["RLIMIT_NPROC"] == 7 and lim["RLIMIT_NOFILE"] == 50
    assert lim["RLIMIT_CORE"] == 0 and lim["RLIMIT_FSIZE"] == sandbox.FILE_LIMIT


def test_the_command_line_has_every_namespace_and_a_capped_tmpfs():
    cmd = " ".join(bwrap.command("/v", "/j", disk_mb=64, stage="/s"))
    for flag in ("--unshare-user", "--unshare-pid", "--unshare-net", "--unshare-ipc", "--die-with-parent",
                 "--clearenv", "--disable-userns", "--new-session", f"--size {48 * 2**20} --tmpfs /tmp",
                 f"--size {16 * 2**20} --tmpfs /dev/shm --remount-ro /dev",  # --disk 64 in all
                 "--remount-ro /", f"--ro-bind /v {bwrap.VIEW}", f"--ro-bind /j {bwrap.JOB}"):
        assert flag in cmd, flag


def test_a_copy_of_the_reference_value_class_is_flagged():
    ex = get("autograd.value_mul")
    src = textwrap.dedent(inspect.getsource(ex.reference)).replace("other", "rhs").replace("out", "res")
    b = types.SimpleNamespace(function="Value")
    got = copies.reference_copies({"Value": _shape(src)}, {ex.id: b}, {ex.id: ex})
    assert ex.id in got and "course.autograd.Value" in got[ex.id]
