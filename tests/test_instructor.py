"""``course grade`` end to end, in real sandboxes (marked ``notebooks``: slow-ish).

A small fixture lesson (``00_getting_started``'s three exercises, without the lesson's timing
cells) lives in a tmp ``solutions/`` folder; the submissions are generated with nbformat. All
adversarial submissions are graded in ONE batch (``--jobs 2``), then each row is checked. One
submission per bullet of the issue:

Must not raise a grade
  - ``edited_checks``: check cells deleted, and one edited to check a correct lambda instead.
  - ``redefined_check``: ``def check(...)`` that prints PASSED.
  - ``patched_grader``: ``course.grader.run.runner.run = ...`` using the reference (graded 0, "modifies the grader").
  - ``patched_grader_exec``: the same patch hidden in ``exec`` (there is no reference in the sandbox).
  - ``patched_numpy``: ``np.allclose = lambda *a, **k: True`` and friends.
  - ``imports_reference``: ``from course.grader.topics.numpy_basics import add_bias``.
  - ``hard_coded``: returns the expected arrays of the notebook's own seed-0 cases.
  - ``exits``: ``sys.exit()`` in a cell, SystemExit / KeyboardInterrupt raised by the functions.
  - ``fake_output``: prints and displays a fake "✔ PASSED" report.
  - ``writes_files`` (its own batch): tries to overwrite the solution notebook, the gradebook, the package.

Must not stop or hang the batch
  - ``endless``: ``while True: pass`` in a cell, an endless loop in a function.
  - ``memory_bomb``: allocations far over ``--memory``.
  - ``deep_recursion``: recursion past a raised recursion limit (kills the sandbox, restarted without that cell).
  - ``huge_output``: megabytes printed, a file written past the size limit.
  - ``corrupt.ipynb`` (not JSON), ``essay.ipynb`` (text), ``not_a_notebook.ipynb`` (JSON, not a
    notebook), ``empty.ipynb`` (no cells), ``other_lesson`` (lesson 03_backprop's metadata).

Plus the two honest ones: ``correct`` (3/3) and ``stub`` (0, "not attempted"). The real lessons:
every solution notebook grades 100% and every learner notebook 0 with "not attempted".
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest
from nbformat import v4

from course.grader import cases, exercises, get

pytestmark = [pytest.mark.notebooks, pytest.mark.xdist_group("instructor")]  # module fixtures: one worker


def _bwrap_problem():
    from course.instructor.sandbox import bwrap

    return subprocess.run([sys.executable, "-m", "course.instructor.sandbox.bwrap"], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
                          ).stdout.strip() if bwrap.binary() else "no bwrap binary"


@pytest.fixture(scope="session", autouse=True)
def needs_bubblewrap():
    why = _bwrap_problem()
    if why != "ok":
        pytest.skip(f"bubblewrap cannot start a sandbox here: {why}")

LESSON = "00_getting_started"
IDS = ["numpy.add_bias", "numpy.standardize", "numpy.pairwise_sq_dists"]
REPO = Path(__file__).resolve().parents[1]

ADD_BIAS = "def add_bias(X, b):\n    return X + b\n"
STANDARDIZE = (
    "def standardize(X, eps=1e-8):\n"
    "    mean = X.mean(axis=0, keepdims=True)\n"
    "    var = ((X - mean) ** 2).mean(axis=0, keepdims=True)\n"
    "    return (X - mean) / np.sqrt(var + eps)\n"
)
PAIRWISE = (
    "def pairwise_sq_dists(A, B):\n"
    "    return np.sum((A[:, None, :] - B[None, :, :]) ** 2, axis=-1)\n"
)
CORRECT = [ADD_BIAS, STANDARDIZE, PAIRWISE]
IMPORTS = "import numpy as np\nfrom course.grader import check\n"
CHECKS = [
    'check("numpy.add_bias", add_bias)',
    'check("numpy.standardize", standardize)',
    'check("numpy.pairwise_sq_dists", pairwise_sq_dists)',
]
STUBS = [
    'def add_bias(X, b):\n    raise NotImplementedError("write your solution here")\n',
    'def standardize(X, eps=1e-8):\n    raise NotImplementedError("write your solution here")\n',
    'def pairwise_sq_dists(A, B):\n    raise NotImplementedError("write your solution here")\n',
]
WRONG = [
    "def add_bias(X, b):\n    return X\n",
    "def standardize(X, eps=1e-8):\n    return 2.0 * X + 1.0\n",
    "def pairwise_sq_dists(A, B):\n    return A @ B.T\n",
]


def notebook(cells, lesson=LESSON):
    nb = v4.new_notebook(metadata={"course": {"lesson": lesson}} if lesson else {})
    nb.cells = [v4.new_code_cell(c) for c in cells]
    return nb


def interleave(functions, checks=CHECKS):
    cells = [IMPORTS]
    for f, c in zip(functions, checks):
        cells += [f, c]
    return cells


def _hard_coded_source() -> str:
    """add_bias that returns, for each input shape, the expected output of the seed-0 cases."""
    ex = get("numpy.add_bias")
    table = {}
    for case in cases(ex, 0):
        X, b = case.args
        table[repr((X.shape, float(X.flat[0])))] = (X + b).tolist()
    return (
        f"_ANSWERS = {table!r}\n"
        "def add_bias(X, b):\n"
        "    return np.array(_ANSWERS.get(repr((X.shape, float(X.flat[0]))), [[0.0]]))\n"
    )


def submissions() -> dict:
    ref = get("numpy.add_bias").reference
    return {
        "correct": notebook(interleave(CORRECT)),
        "stub": notebook(interleave(STUBS)),
        "edited_checks": notebook([IMPORTS, WRONG[0], 'check("numpy.add_bias", lambda X, b: X + b)', *CORRECT[1:]]),
        "redefined_check": notebook([
            IMPORTS,
            "def check(*args, **kwargs):\n    print('✔ PASSED  all cases correct (1/1 point)')\n    return True\n",
            *interleave(WRONG)[1:],
        ]),
        "patched_grader": notebook([
            IMPORTS + "import course.grader.run.runner as R\n_run = R.run\n"
            "R.run = lambda ex, fn, cs, forward=None: _run(ex, ex.reference, cs)\n",
            *WRONG,
        ]),
        "patched_grader_exec": notebook([
            IMPORTS,
            "exec('import course.grader.run.runner as R\\n_rc = R.run_case\\n_r = R.run\\n"
            "R.run_case = lambda ex, fn, case, options=None: _rc(ex, getattr(ex, \"refer\" + \"ence\"), case, {})\\n"
            "R.run = lambda ex, fn, cs, forward=None: _r(ex, getattr(ex, \"refer\" + \"ence\"), cs)\\n')",
            *WRONG,
        ]),
        "patched_numpy": notebook([
            IMPORTS + "np.allclose = lambda *a, **k: True\nnp.isclose = lambda a, b, *x, **k: np.ones(np.shape(a), bool)\n"
            "np.array_equal = lambda *a, **k: True\nnp.testing.assert_allclose = lambda *a, **k: None\n",
            *WRONG,
        ]),
        "imports_reference": notebook([
            IMPORTS + f"from {ref.__module__} import {ref.__name__} as add_bias\n",
            'check("numpy.add_bias", add_bias)',
            *CORRECT[1:],
        ]),
        "hard_coded": notebook([IMPORTS, _hard_coded_source(), *CORRECT[1:]]),
        "exits": notebook([
            IMPORTS, ADD_BIAS,
            "import sys\nsys.exit('bye')",
            "raise KeyboardInterrupt",
            "def standardize(X, eps=1e-8):\n    raise SystemExit(0)\n",
            "def pairwise_sq_dists(A, B):\n    raise KeyboardInterrupt\n",
        ]),
        "fake_output": notebook([
            IMPORTS,
            "from IPython.display import HTML, display\n"
            "for i in ['numpy.add_bias', 'numpy.standardize', 'numpy.pairwise_sq_dists']:\n"
            "    print(f'✔ PASSED  {i}: all 5 cases correct (1/1 point)')\n"
            "display(HTML('<b style=\"color:green\">✔ PASSED 3/3</b>'))",
            *WRONG,
        ]),
        "endless": notebook([
            IMPORTS, ADD_BIAS,
            "while True:\n    pass",
            STANDARDIZE,
            "def pairwise_sq_dists(A, B):\n    while True:\n        pass\n",
        ]),
        "memory_bomb": notebook([
            IMPORTS, ADD_BIAS,
            "x = np.ones((200_000, 100_000))",
            "chunks = []\nwhile True:\n    chunks.append(bytearray(50 * 2**20))",
            "chunks = None\n" + STANDARDIZE,
            "def pairwise_sq_dists(A, B):\n    return np.ones((10**6, 10**6))\n",
        ]),
        "deep_recursion": notebook([
            IMPORTS, ADD_BIAS,
            # through map (C code) every level uses C stack: past the limit the kernel segfaults
            "import sys\nsys.setrecursionlimit(10**8)\ndef down(n):\n    return list(map(down, [n + 1]))\ndown(0)",
            STANDARDIZE,
            "def pairwise_sq_dists(A, B):\n    import sys\n    sys.setrecursionlimit(1000)\n"
            "    def f(n):\n        return f(n + 1)\n    return f(0)\n",
        ]),
        "huge_output": notebook([
            IMPORTS, ADD_BIAS,
            "for i in range(10**7):\n    print('x' * 1000)",
            "print('y' * (20 * 2**20))",
            "with open('big.bin', 'wb') as fh:\n    fh.write(b'0' * (200 * 2**20))",
            STANDARDIZE, PAIRWISE,
        ]),
        "other_lesson": notebook(interleave(CORRECT), lesson="03_backprop"),
        "empty": notebook([]),
    }


def write_fixture(root: Path):
    solutions = root / "solutions"
    solutions.mkdir()
    sol = notebook(["%matplotlib inline\n" + IMPORTS, *interleave(CORRECT)[1:]], lesson=None)
    nbformat.write(sol, solutions / f"{LESSON}.ipynb")
    subs = root / "submissions"
    subs.mkdir()
    for name, nb in submissions().items():
        nbformat.write(nb, subs / f"{name}.ipynb")
    (subs / "corrupt.ipynb").write_text('{"cells": [ {"cell_type": "code", "sour')
    (subs / "essay.ipynb").write_text("Dear instructor, my dog ate my notebook.\n")
    (subs / "not_a_notebook.ipynb").write_text('{"hello": "world"}')
    return solutions, subs


def course_grade(*args, cwd=None, timeout=600):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    env.pop("COURSE_CHECK_STRICT", None)
    proc = subprocess.run([sys.executable, "-m", "course", "grade", *map(str, args), "--no-progress"],
                          capture_output=True, text=True, cwd=cwd, timeout=timeout, env=env)
    return proc


def read_gradebook(out: Path) -> dict:
    with open(out / "gradebook.csv", newline="") as fh:
        return {row["submission"]: row for row in csv.DictReader(fh)}


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    assert [ex.id for ex in exercises(LESSON)] == IDS, "the fixture lesson mirrors lesson 00's exercises"
    root = tmp_path_factory.mktemp("grade")
    solutions, subs = write_fixture(root)
    out = root / "grades"
    proc = course_grade(subs, "--out", out, "--solutions", solutions, "--lesson", LESSON, "--jobs", 2,
                        "--timeout", 90, "--cell-timeout", 6, "--exercise-timeout", 6, "--memory", 1500,
                        "--seed", 12345, "--format", "csv,json,gradescope")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    details = json.loads((out / "grades.json").read_text())
    return {
        "rows": read_gradebook(out),
        "json": {s["submission"]: s for s in details["submissions"]},
        "out": out,
        "stdout": proc.stdout,
        "solutions": solutions,
    }


def scores(row) -> list[float]:
    return [float(row[i]) for i in IDS]


def test_batch_has_one_row_per_submission_in_order(batch):
    names = list(batch["rows"])
    assert names == sorted(names)
    assert len(names) == len(submissions()) + 3
    header = list(next(iter(batch["rows"].values())))
    assert header == ["submission", "lesson", *IDS, "total", "max", "status", "copies", "notes"]
    assert "graded" in batch["stdout"] and "mean score" in batch["stdout"]


def test_honest_submissions(batch):
    rows = batch["rows"]
    assert scores(rows["correct"]) == [1, 1, 1] and rows["correct"]["total"] == "3"
    assert rows["correct"]["status"] == "graded"
    assert scores(rows["stub"]) == [0, 0, 0] and "not attempted" in rows["stub"]["notes"]


def test_check_cells_and_printed_output_do_not_count(batch):
    rows = batch["rows"]
    assert scores(rows["edited_checks"]) == [0, 1, 1]
    assert scores(rows["redefined_check"]) == [0, 0, 0]
    assert scores(rows["fake_output"]) == [0, 0, 0]
    assert scores(rows["patched_numpy"]) == [0, 0, 0]
    assert "monkeypatches" in " ".join(batch["json"]["patched_numpy"]["remarks"])


def test_patching_the_grader_scores_zero(batch):
    row = batch["rows"]["patched_grader"]
    assert row["total"] == "0" and row["status"] == "tampering"
    assert "modifies the grader" in row["notes"]
    row = batch["rows"]["patched_grader_exec"]  # invisible to the source scan: no reference in the sandbox
    assert scores(row) == [0, 0, 0]
    assert "dynamic code" in " ".join(batch["json"]["patched_grader_exec"]["remarks"])


def test_importing_the_reference_scores_zero_with_a_note(batch):
    row = batch["rows"]["imports_reference"]
    assert scores(row) == [0, 1, 1]
    assert "uses the course's reference implementation" in row["notes"]
    ex = batch["json"]["imports_reference"]["exercises"]["numpy.add_bias"]
    assert ex["status"] == "uses_reference"


def test_hard_coded_answers_fail_on_the_grading_seed(batch):
    assert scores(batch["rows"]["hard_coded"]) == [0, 1, 1]


def test_exits_and_interrupts(batch):
    row = batch["rows"]["exits"]
    assert scores(row) == [1, 0, 0] and row["status"] == "graded"
    ex = batch["json"]["exits"]["exercises"]["numpy.standardize"]
    assert "SystemExit" in json.dumps(ex)


def test_endless_loops_time_out_and_the_rest_is_graded(batch):
    row = batch["rows"]["endless"]
    assert scores(row) == [1, 1, 0]
    assert "Timeout" in json.dumps(batch["json"]["endless"])


def test_memory_bomb(batch):
    row = batch["rows"]["memory_bomb"]
    assert scores(row) == [1, 1, 0]
    assert "MemoryError" in json.dumps(batch["json"]["memory_bomb"])


def test_deep_recursion_kills_the_sandbox_which_is_restarted_without_that_cell(batch):
    row = batch["rows"]["deep_recursion"]
    assert scores(row) == [1, 1, 0]
    assert "stopped the sandbox" in row["notes"] and "started again without it" in row["notes"]


def test_huge_output(batch):
    row = batch["rows"]["huge_output"]
    assert scores(row) == [1, 1, 1], row


@pytest.mark.parametrize("name", ["corrupt", "essay", "not_a_notebook"])
def test_files_that_are_not_notebooks(batch, name):
    row = batch["rows"][name]
    assert row["status"] == "invalid" and row["total"] == "0"
    assert "not a notebook" in row["notes"] and f"{name}.ipynb" in row["notes"]


def test_empty_and_other_lesson(batch):
    assert batch["rows"]["empty"]["status"] == "empty" and "empty notebook" in batch["rows"]["empty"]["notes"]
    row = batch["rows"]["other_lesson"]
    assert row["status"] == "lesson_mismatch" and "03_backprop" in row["notes"] and row["total"] == "0"


def test_outputs(batch):
    out = batch["out"]
    fb = (out / "feedback" / "edited_checks.md").read_text()
    assert "numpy.add_bias" in fb and "wrong" in fb
    gs = json.loads((out / "gradescope" / "correct.json").read_text())
    assert gs["score"] == 3 and {t["visibility"] for t in gs["tests"]} == {"visible"}
    assert sum(t["max_score"] for t in gs["tests"]) == pytest.approx(3)
    case = batch["json"]["edited_checks"]["exercises"]["numpy.add_bias"]["sets"][0]["case_results"][0]
    assert case["passed"] is False and case["diagnoses"]


def test_the_grader_files_are_out_of_reach(tmp_path):
    """In the sandbox the solutions, the output folder and the checkout do not exist: the writes
    fail, the batch's files are intact, and the functions are graded as they are."""
    solutions = tmp_path / "solutions"
    solutions.mkdir()
    sol = notebook(interleave(CORRECT), lesson=None)
    nbformat.write(sol, solutions / f"{LESSON}.ipynb")
    before = (solutions / f"{LESSON}.ipynb").read_bytes()
    out = tmp_path / "grades"
    target = solutions / f"{LESSON}.ipynb"
    bad = notebook([
        IMPORTS,
        f"open({str(target)!r}, 'w').write('{{}}')\n",
        f"import os\nos.makedirs({str(out)!r}, exist_ok=True)\n"
        f"open({str(out / 'gradebook.csv')!r}, 'w').write('submission,total\\nwrites_files,100\\n')\n",
        "import course, pathlib\n(pathlib.Path(course.__file__).parent / 'grader' / 'run' / 'runner.py').write_text('')",
        *CORRECT,
    ])
    nbformat.write(bad, tmp_path / "writes_files.ipynb")
    proc = course_grade(tmp_path / "writes_files.ipynb", "--out", out, "--solutions", solutions,
                        "--memory", 1500, "--timeout", 60)
    assert proc.returncode == 0, proc.stderr
    row = read_gradebook(out)["writes_files"]
    assert row["total"] == "3" and row["status"] == "graded"
    assert target.read_bytes() == before
    assert (REPO / "course" / "grader" / "run" / "runner.py").stat().st_size > 0
    errors = json.loads((out / "grades.json").read_text())["submissions"][0]["cell_errors"]
    # the solution and the package: read-only or absent; the output folder's path (under /tmp) was
    # written in the sandbox's own tmpfs, gone with it
    assert len(errors) == 2 and all("Read-only file system" in e or "No such file" in e for e in errors.values())


def test_hidden_tests_and_gradescope_visibility(tmp_path):
    solutions = tmp_path / "solutions"
    solutions.mkdir()
    nbformat.write(notebook(interleave(CORRECT), lesson=None), solutions / f"{LESSON}.ipynb")
    # standardize is right on the usual cases, wrong on a constant column (no eps)
    sub = notebook(interleave([
        ADD_BIAS,
        "def standardize(X, eps=1e-8):\n    m = X.mean(axis=0)\n    s = X.std(axis=0)\n"
        "    return (X - m) / np.where(s == 0, np.nan, s)\n",
        PAIRWISE,
    ]))
    nbformat.write(sub, tmp_path / "alice.ipynb")
    hidden = {
        "*": {"seeds": [77]},
        "numpy.standardize": {"cases": [{"args": [[[1.0, 2.0], [1.0, 3.0], [1.0, 5.0]]], "note": "secret-case-x"}],
                              "visibility": "hidden"},
    }
    (tmp_path / "hidden.json").write_text(json.dumps(hidden))
    out = tmp_path / "grades"
    proc = course_grade(tmp_path / "alice.ipynb", "--out", out, "--solutions", solutions, "--hidden",
                        tmp_path / "hidden.json", "--format", "gradescope,csv", "--memory", 1500, "--timeout", 60)
    assert proc.returncode == 0, proc.stderr
    res = json.loads((out / "results.json").read_text())
    by_name = {t["name"]: t for t in res["tests"]}
    hidden_cases = [t for n, t in by_name.items() if n.startswith("numpy.standardize") and "hidden cases" in n]
    assert len(hidden_cases) == 1 and hidden_cases[0]["visibility"] == "hidden" and hidden_cases[0]["score"] == 0
    seed_tests = [t for n, t in by_name.items() if "(hidden tests" in n]  # labels name no seed
    assert len(seed_tests) == 3 and {t["visibility"] for t in seed_tests} == {"after_published"}  # from "*"
    assert res["score"] == pytest.approx(sum(t["score"] for t in res["tests"]))
    assert 2 < res["score"] < 3
    feedback = (out / "feedback" / "alice.md").read_text()
    assert "hidden tests were run" in feedback and "secret-case-x" not in feedback
    assert "secret-case-x" in (out / "gradescope" / "alice.json").read_text()  # Gradescope hides it itself


def test_grader_errors_exit_non_zero_and_name_the_file(tmp_path):
    nb = tmp_path / "x.ipynb"
    nbformat.write(notebook(interleave(CORRECT)), nb)
    (tmp_path / "bad.json").write_text("{not json")
    proc = course_grade(nb, "--out", tmp_path / "g", "--hidden", tmp_path / "bad.json", "--solutions", REPO / "solutions")
    assert proc.returncode == 2 and "bad.json" in proc.stderr and "not valid JSON" in proc.stderr
    proc = course_grade(tmp_path / "missing.ipynb", "--out", tmp_path / "g")
    assert proc.returncode == 2 and "missing.ipynb" in proc.stderr
    proc = course_grade(nb, "--out", tmp_path / "g", "--solutions", tmp_path / "nowhere")
    assert proc.returncode == 2 and "nowhere" in proc.stderr


# ---------------------------------------------------------------------------------------------
# The real lessons


def _real_lessons():
    if not (REPO / "solutions").is_dir():
        return []
    return sorted(p.stem for p in (REPO / "solutions").glob("[0-9][0-9]_*.ipynb")
                  if (REPO / "notebooks" / p.name).is_file() and exercises(p.stem))


def _selected_lessons(session) -> list:
    """The lessons of the real-lesson tests this session runs (``-k 09_initialization`` grades one
    lesson's two notebooks, not all of them)."""
    wanted = {item.callspec.params["lesson"] for item in session.items
              if "real" in getattr(item, "fixturenames", ()) and hasattr(item, "callspec")}
    return [name for name in _real_lessons() if name in wanted]


@pytest.fixture(scope="module")
def real(request, tmp_path_factory):
    lessons = _selected_lessons(request.session)
    root = tmp_path_factory.mktemp("real")
    (root / "solutions").mkdir()
    (root / "notebooks").mkdir()
    for name in lessons:
        # copies: a submission that is a symbolic link is refused (README, "Threat model")
        shutil.copy(REPO / "solutions" / f"{name}.ipynb", root / "solutions" / f"{name}.ipynb")
        shutil.copy(REPO / "notebooks" / f"{name}.ipynb", root / "notebooks" / f"{name}.ipynb")
    out = root / "grades"
    proc = course_grade(root / "solutions", root / "notebooks", "--out", out, "--solutions", REPO / "solutions",
                        "--jobs", 2, "--timeout", 600, "--cell-timeout", 300, timeout=1800)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return read_gradebook(out)


@pytest.mark.parametrize("lesson", _real_lessons())
def test_real_solution_notebooks_grade_full_marks(real, lesson):
    row = real[f"solutions/{lesson}"]
    assert row["status"] == "graded" and float(row["total"]) == float(row["max"]) > 0, row


@pytest.mark.parametrize("lesson", _real_lessons())
def test_real_learner_notebooks_grade_zero_not_attempted(real, lesson):
    row = real[f"notebooks/{lesson}"]
    assert float(row["total"]) == 0 and "not attempted" in row["notes"], row


def test_outcome_values_are_not_unpickled(tmp_path):
    """The wire format refuses pickled (object) arrays even when a kernel writes them."""
    from course.instructor.sandbox.inside import wire

    np.save(tmp_path / "x.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    arrays = tmp_path / "o.arrays"
    arrays.mkdir()
    os.replace(tmp_path / "x.npy", arrays / "0.npy")
    (tmp_path / "o.json").write_text(json.dumps({"$": "outcomes", "version": 1, "arrays": 1, "meta": {},
                                                 "outcomes": [{"outputs": {"$": "array", "a": 0}}]}))
    with pytest.raises(wire.WireError):
        wire.load(tmp_path / "o.json")


def test_one_lesson_selected_grades_that_lesson_only():
    class Item:
        def __init__(self, lesson, fixtures=("real",)):
            self.fixturenames = fixtures
            self.callspec = type("C", (), {"params": {"lesson": lesson}})()

    lessons = _real_lessons()
    session = type("S", (), {"items": [Item(lessons[1]), Item(lessons[1]), Item(lessons[0], ("batch",))]})()
    assert _selected_lessons(session) == [lessons[1]]
