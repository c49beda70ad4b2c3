"""nbgrader's ``autograde`` on the same notebooks, as the baseline ``bench_grade.py`` compares with.

nbgrader is a benchmark-only dependency, never one of the course: install it in its own
environment (it pins Jupyter packages of its own) and point ``--nbgrader`` at its command::

    python -m venv /tmp/nbg && /tmp/nbg/bin/pip install nbgrader numpy matplotlib array-api-compat ipywidgets tqdm
    python benchmarks/nbgrader_baseline.py --nbgrader /tmp/nbg/bin/nbgrader --copies 4

The lesson's solution notebook becomes an nbgrader assignment: every check cell is a grade cell
worth the exercise's points (``COURSE_CHECK_STRICT=1`` makes a failing check raise, which is how
nbgrader scores), every cell with a solution region a solution cell. Each submission is placed
under ``submitted/<learner>/<assignment>/`` and ``nbgrader autograde`` grades them all, serially
(nbgrader has no parallel autograde).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "lesson"


def _nbgrader_metadata(nb: dict) -> dict:
    """The solution notebook with nbgrader's cell metadata."""
    nb = json.loads(json.dumps(nb))
    for i, cell in enumerate(nb["cells"]):
        src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        cell_id = f"cell-{i}"
        if cell["cell_type"] == "code" and src.lstrip().startswith("check("):
            cell["metadata"]["nbgrader"] = {"grade": True, "solution": False, "locked": True, "points": 1,
                                            "grade_id": cell_id, "schema_version": 3}
        elif "### BEGIN SOLUTION" in src:
            cell["metadata"]["nbgrader"] = {"grade": False, "solution": True, "locked": False,
                                            "grade_id": cell_id, "schema_version": 3}
    return nb


def autograde_seconds(nbgrader: str, solution: Path, submissions: list[Path], workdir: Path | None = None) -> float:
    """Wall-clock seconds of ``nbgrader autograde`` over ``submissions`` (notebooks of ``solution``'s
    lesson), after setting up a course directory for them (not timed)."""
    work = Path(workdir or tempfile.mkdtemp(prefix="nbgrader-bench-"))
    name = solution.name
    (work / "source" / ASSIGNMENT).mkdir(parents=True, exist_ok=True)
    nb = _nbgrader_metadata(json.loads(solution.read_text(encoding="utf-8")))
    (work / "source" / ASSIGNMENT / name).write_text(json.dumps(nb), encoding="utf-8")
    (work / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        f"c.CourseDirectory.root = {str(work)!r}\n"
        "c.ExecutePreprocessor.timeout = 300\n", encoding="utf-8")
    # nbgrader's kernel imports this checkout's course (its environment needs numpy, matplotlib,
    # array-api-compat, ipywidgets and tqdm: pip install them there)
    env = {**os.environ, "COURSE_CHECK_STRICT": "1", "COURSE_PROGRESS_FILE": "off", "MPLBACKEND": "Agg",
           "PYTHONPATH": str(ROOT), "PATH": f"{Path(nbgrader).resolve().parent}{os.pathsep}{os.environ.get('PATH', '')}"}

    def call(*args):
        r = subprocess.run([nbgrader, *args], cwd=work, env=env, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"nbgrader {' '.join(args)} failed:\n{(r.stdout + r.stderr)[-2000:]}")

    call("db", "assignment", "add", ASSIGNMENT)
    call("generate_assignment", ASSIGNMENT, "--force")
    for k, sub in enumerate(submissions):
        learner = f"learner{k:04d}"
        call("db", "student", "add", learner)
        target = work / "submitted" / learner / ASSIGNMENT
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(sub, target / name)
    start = time.perf_counter()
    call("autograde", ASSIGNMENT, "--force")
    return time.perf_counter() - start


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nbgrader", default=shutil.which("nbgrader"), help="the nbgrader command")
    ap.add_argument("--lesson", default="03_backprop")
    ap.add_argument("--copies", type=int, default=4)
    args = ap.parse_args(argv)
    if not args.nbgrader:
        print("nbgrader is not installed: see this script's docstring", file=sys.stderr)
        return 2
    sol = ROOT / "solutions" / f"{args.lesson}.ipynb"
    with tempfile.TemporaryDirectory() as tmp:
        subs = []
        for k in range(args.copies):
            p = Path(tmp) / f"s{k}.ipynb"
            shutil.copy(sol, p)
            subs.append(p)
        seconds = autograde_seconds(args.nbgrader, sol, subs, Path(tmp) / "course")
    print(f"nbgrader autograde: {seconds:.1f} s for {args.copies} submissions, {seconds / args.copies:.2f} s each")
    return 0


if __name__ == "__main__":
    sys.exit(main())
