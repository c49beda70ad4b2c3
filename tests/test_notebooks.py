"""The lesson notebooks: up to date, solutions pass, learner notebooks run to the end.

A plain ``pytest`` at the repository root runs these with the unit tests;
``pytest -m "not notebooks"`` leaves out the ones that start Jupyter kernels, and
``pytest -m notebooks -k 03_backprop`` runs one lesson's. The lessons are whatever is in
``solutions/``.

- ``notebooks/`` must be what ``course build`` makes from ``solutions/`` (fast, no kernel).
- Each solution notebook runs top to bottom in a fresh kernel under nbval, in lax mode:
  outputs (plots, progress bars, timings) are not compared, except in cells tagged
  ``nbval-check-output``. The kernel gets ``COURSE_CHECK_STRICT=1``, so a check that does not
  pass raises and fails the run. nbval runs in a child pytest, so that this environment
  reaches its kernel and the run is the same whichever way pytest was started.
- Each learner notebook runs top to bottom with nbclient, as Run All does, and must reach the
  last cell with no error at all (not even ``NotImplementedError``): every check cell reports
  "not attempted yet", and every demo wrapped in ``with needs(...)`` (:mod:`course.notebook`)
  shows the line that says which exercise unlocks it.
- Checks run in ``solutions/`` are not recorded as a learner's progress (the folder holds
  :data:`course.progress.SOLUTIONS_MARKER`).

Kernels use the non-interactive matplotlib backend (``MPLBACKEND=Agg``), ``COURSE_FAST=1``
(lessons read it in their setup cell and run fewer epochs or steps: the documented knob that
keeps slow cells short in CI) and a per-cell timeout of ``CELL_TIMEOUT`` seconds.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from course import authoring

REPO = Path(__file__).resolve().parents[1]
SOLUTIONS = REPO / "solutions"
NOTEBOOKS = REPO / "notebooks"
CELL_TIMEOUT = 120  # seconds, per cell
RUN_TIMEOUT = 600  # seconds, one whole solution notebook (a safety net for a hung kernel)
NOT_ATTEMPTED = "not attempted yet"
CHECK_CALL = re.compile(r"^[ \t]*(?:\w+\.)?check\(", re.MULTILINE)
NEEDS_CALL = re.compile(r"^[ \t]*with[ \t]+needs\(", re.MULTILINE)
UNLOCK_LINE = "this demo needs your answer to exercise"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _lessons(directory: Path):
    if not directory.is_dir():
        return []
    return [
        pytest.param(path, id=path.stem)
        for path in sorted(directory.glob("*.ipynb"))
        if authoring.LESSON_FILE.match(path.name)
    ]


def kernel_env(*, strict: bool) -> dict[str, str]:
    """The environment for a lesson kernel: Agg backend, short runs (``COURSE_FAST=1``); strict
    checks only when asked."""
    env = {key: value for key, value in os.environ.items() if key != "COURSE_CHECK_STRICT"}
    env["MPLBACKEND"] = "Agg"
    env["COURSE_FAST"] = "1"
    if strict:
        env["COURSE_CHECK_STRICT"] = "1"
    return env


def run_solution_notebook(path: Path) -> subprocess.CompletedProcess:
    """Run nbval (lax) on one solution notebook in a child pytest with strict checks."""
    command = [
        sys.executable, "-m", "pytest", str(path),
        "--nbval-lax", "--nbval-current-env", f"--nbval-cell-timeout={CELL_TIMEOUT}",
        "-q", "--color=no", "-p", "no:cacheprovider", "--noconftest", "-o", "addopts=",
    ]  # fmt: skip
    return subprocess.run(
        command,
        cwd=path.parent,
        env=kernel_env(strict=True),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
    )


def execute_learner_notebook(path: Path):
    """Execute a learner notebook with nbclient, errors allowed; returns the executed notebook."""
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute(env=kernel_env(strict=False))
    return nb


def output_text(cell) -> str:
    """Everything a code cell showed, as plain text (HTML tags removed, spaces collapsed)."""
    parts = []
    for output in cell.get("outputs", []):
        if output.output_type == "stream":
            parts.append(output.text)
        elif output.output_type == "error":
            parts.append(f"{output.ename}: {output.evalue}")
        else:
            data = output.get("data", {})
            parts += [data.get("text/plain", ""), data.get("text/markdown", "")]
            parts.append(re.sub(r"<[^>]*>", " ", data.get("text/html", "")))
    return re.sub(r"\s+", " ", _ANSI.sub("", " ".join(parts))).strip()


def learner_problems(nb) -> list[str]:
    """What is wrong with an executed learner notebook (empty: it behaves as it should)."""
    problems = []
    for number, cell in enumerate(nb.cells, start=1):
        if cell.cell_type != "code":
            continue
        first_line = cell.source.strip().split("\n")[0]
        for output in cell.outputs:
            if output.output_type == "error":
                hint = (
                    '; a demo that calls an unwritten exercise goes inside `with needs("<exercise id>"):`'
                    if output.ename == "NotImplementedError"
                    else ""
                )
                problems.append(
                    f"cell {number} ({first_line!r}) raised {output.ename}: {output.evalue}; "
                    f"Run All must reach the last cell of a learner notebook with no error{hint}"
                )
        text = output_text(cell).lower()
        if CHECK_CALL.search(cell.source) and NOT_ATTEMPTED not in text:
            problems.append(
                f"check cell {number} ({first_line!r}) should report {NOT_ATTEMPTED!r}, "
                f"it shows: {output_text(cell)[:300]!r}"
            )
        if NEEDS_CALL.search(cell.source) and UNLOCK_LINE not in text:
            problems.append(
                f"demo cell {number} ({first_line!r}) should say which exercise unlocks it, "
                f"it shows: {output_text(cell)[:300]!r}"
            )
    return problems


# ---------------------------------------------------------------- the course's lessons


def test_learner_notebooks_are_up_to_date():
    problems = authoring.out_of_date(SOLUTIONS, NOTEBOOKS)
    assert not problems, (
        "notebooks/ is out of date with solutions/; run `course build` at the repository root:\n"
        + "\n".join(problems)
    )


@pytest.mark.notebooks
@pytest.mark.parametrize("path", _lessons(SOLUTIONS))
def test_solution_notebook(path):
    result = run_solution_notebook(path)
    assert result.returncode == 0, (
        f"{path.relative_to(REPO)} does not run cleanly with COURSE_CHECK_STRICT=1 "
        "(a cell raised or a check did not pass; nbval's 'Cell N' counts code cells from 0):\n"
        f"{_ANSI.sub('', result.stdout)[-6000:]}"
        f"\n{result.stderr[-2000:]}"
    )


@pytest.mark.notebooks
@pytest.mark.parametrize("path", _lessons(NOTEBOOKS))
def test_learner_notebook(path):
    problems = learner_problems(execute_learner_notebook(path))
    assert not problems, f"{path.relative_to(REPO)}:\n" + "\n".join(problems)


# ---------------------------------------------------------------- the harness itself

# A stand-in for course.grader.check with the same contract, so these tests do not depend
# on the registry: reports "not attempted yet" for a stub, raises under COURSE_CHECK_STRICT=1.
STAND_IN_CHECK = '''\
import os

def check(exercise, fn):
    try:
        result = "passed" if fn(3) == 6 else "wrong answer"
    except NotImplementedError:
        result = "not attempted yet"
    print(f"{exercise}: {result}")
    if result != "passed" and os.environ.get("COURSE_CHECK_STRICT") == "1":
        raise AssertionError(f"{exercise}: {result}")'''


def _fixture_lesson(solutions, write_notebook, solution="return 2 * x"):
    return write_notebook(
        solutions / "00_fixture.ipynb",
        [
            ("markdown", "# A fixture lesson"),
            STAND_IN_CHECK,
            "import matplotlib\n"
            "import matplotlib.pyplot as plt\n\n"
            "assert matplotlib.get_backend().lower() == 'agg', matplotlib.get_backend()\n"
            "plt.plot([1, 2, 3])",
            "def double(x):\n"
            "    ### BEGIN SOLUTION  (hint: times two)\n"
            f"    {solution}\n"
            "    ### END SOLUTION",
            'check("fixture.double", double)',
            "from course.notebook import needs\n\n"
            'with needs("fixture.double"):\n'
            "    print(double(4))  # a demo that uses the learner's function",
            "import os\n\nprint('fast' if os.environ.get('COURSE_FAST') == '1' else 'slow')",
        ],
    )


def _executed(cells):
    """A notebook as nbclient would leave it: ``cells`` are ``(source, outputs)``."""
    nb = nbformat.v4.new_notebook()
    for source, outputs in cells:
        cell = nbformat.v4.new_code_cell(source)
        cell.outputs = [nbformat.from_dict(output) for output in outputs]
        nb.cells.append(cell)
    return nb


def _stream(text):
    return {"output_type": "stream", "name": "stdout", "text": text}


def _error(ename, evalue="boom"):
    return {"output_type": "error", "ename": ename, "evalue": evalue, "traceback": []}


def test_learner_problems_accepts_stubs_not_attempted_reports_and_unlock_lines():
    nb = _executed(
        [
            ("def f(x):\n    raise NotImplementedError('write it')", []),
            ('check("a.f", f)', [_stream("a.f: Not attempted yet\n")]),
            (
                'check("a.g", g)',
                [{"output_type": "display_data", "metadata": {},
                  "data": {"text/html": "<b>a.g</b>: <i>not attempted</i>\n yet"}}],
            ),  # fmt: skip
            ('with needs("a.f"):\n    train(f)',
             [_stream("This demo needs your answer to Exercise a.f (F): finish it above, then run this cell again.\n")]),
        ]
    )
    assert learner_problems(nb) == []


def test_learner_problems_reports_other_errors_and_silent_checks():
    nb = _executed(
        [
            ("y = x + 1", [_error("NameError", "name 'x' is not defined")]),
            ('check("a.f", f)', [_stream("a.f: passed\n")]),
            ('check("a.g", g)', [_error("NotImplementedError")]),
            ("train(f)", [_error("NotImplementedError", "write it")]),
            ('with needs("a.f"):\n    train(f)', [_stream("loss 0.3\n")]),
        ]
    )
    problems = learner_problems(nb)
    assert len(problems) == 6, problems
    assert "cell 1" in problems[0] and "NameError" in problems[0]
    assert "check cell 2" in problems[1] and "passed" in problems[1]
    assert "cell 3" in problems[2] and "NotImplementedError" in problems[2]
    assert "check cell 3" in problems[3]
    assert "cell 4" in problems[4] and "with needs(" in problems[4]  # a stub stopped Run All
    assert "demo cell 5" in problems[5] and "unlocks" in problems[5]


def test_kernel_env_sets_strict_only_for_solutions(monkeypatch):
    monkeypatch.setenv("COURSE_CHECK_STRICT", "1")
    assert "COURSE_CHECK_STRICT" not in kernel_env(strict=False)
    assert kernel_env(strict=True)["COURSE_CHECK_STRICT"] == "1"
    assert kernel_env(strict=False)["MPLBACKEND"] == "Agg"
    assert kernel_env(strict=False)["COURSE_FAST"] == kernel_env(strict=True)["COURSE_FAST"] == "1"


@pytest.mark.notebooks
def test_harness_passes_a_good_lesson(lesson_dirs, write_notebook):
    solutions, notebooks = lesson_dirs
    _fixture_lesson(solutions, write_notebook)
    result = run_solution_notebook(solutions / "00_fixture.ipynb")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "6 passed" in result.stdout  # one nbval test per code cell

    authoring.build(solutions, notebooks)
    nb = execute_learner_notebook(notebooks / "00_fixture.ipynb")
    assert learner_problems(nb) == []
    assert "fixture.double: not attempted yet" in output_text(nb.cells[4])
    assert (
        "This demo needs your answer to Exercise fixture.double: finish it above, then run this cell again."
        in output_text(nb.cells[5])
    )
    assert output_text(nb.cells[6]) == "fast"


@pytest.mark.notebooks
def test_harness_fails_a_solution_whose_check_does_not_pass(lesson_dirs, write_notebook):
    solutions, notebooks = lesson_dirs
    _fixture_lesson(solutions, write_notebook, solution="return 3 * x")
    result = run_solution_notebook(solutions / "00_fixture.ipynb")
    assert result.returncode != 0
    assert "AssertionError: fixture.double: wrong answer" in _ANSI.sub("", result.stdout)


@pytest.mark.notebooks
def test_harness_fails_a_learner_notebook_that_crashes(lesson_dirs, write_notebook):
    solutions, notebooks = lesson_dirs
    write_notebook(
        solutions / "00_fixture.ipynb",
        [
            STAND_IN_CHECK,
            ("code", "value = 2 * 3", {"tags": ["solution"]}),  # learner version raises
            "print(value)",  # so this cell raises NameError in the learner notebook
        ],
    )
    assert run_solution_notebook(solutions / "00_fixture.ipynb").returncode == 0
    authoring.build(solutions, notebooks)
    problems = learner_problems(execute_learner_notebook(notebooks / "00_fixture.ipynb"))
    assert len(problems) == 2, problems  # the stub stopped Run All, and so the next cell failed
    assert "cell 2" in problems[0] and "NotImplementedError" in problems[0]
    assert "cell 3" in problems[1] and "NameError" in problems[1]


# ---------------------------------------------------------------- progress is not recorded in solutions/

_CHECK_ONCE = (
    "from course.grader import check\n"
    "from course.layers import relu_forward\n"
    "check('layers.relu_forward', relu_forward)\n"
)


def _check_in(cwd, home, **env):
    """Run one passing check in a fresh Python outside pytest, as a notebook kernel would."""
    clean = {k: v for k, v in os.environ.items()
             if k not in ("PYTEST_CURRENT_TEST", "COURSE_PROGRESS_FILE", "JPY_SESSION_NAME", "COURSE_CHECK_STRICT")}
    clean.update(HOME=str(home), PYTHONPATH=str(REPO), **env)
    done = subprocess.run([sys.executable, "-c", _CHECK_ONCE], cwd=cwd, env=clean, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return home / ".backprop-course" / "progress.json"


def test_the_solutions_folder_is_marked():
    from course.progress import SOLUTIONS_MARKER

    assert (SOLUTIONS / SOLUTIONS_MARKER).is_file()
    assert not (NOTEBOOKS / SOLUTIONS_MARKER).exists()


def test_checks_in_solutions_are_not_recorded_as_progress(tmp_path):
    home = tmp_path / "home"
    assert not _check_in(SOLUTIONS, home).exists()  # a kernel started in solutions/ (Jupyter, nbval)
    notebook = str(SOLUTIONS / "07_adaptive.ipynb")  # Jupyter names the notebook, wherever the kernel is
    assert not _check_in(tmp_path, home, JPY_SESSION_NAME=notebook).exists()
    recorded = _check_in(NOTEBOOKS, home)  # the learner's notebooks: recorded
    assert "layers.relu_forward" in recorded.read_text()
