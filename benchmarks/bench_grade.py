"""What does grading cost per submission, and what does the OS sandbox add?

Grades ``--copies`` copies (default 6) of one lesson's solution notebook, in one run:

- ``bwrap``: ``course grade`` as it runs by default, each submission in its bubblewrap sandbox;
- ``process``: the same with ``--isolation process`` (the same driver as a plain child process;
  without the check of the grader's files after each submission that the command adds, so the
  difference is the sandbox's own cost);
- ``nbclient``: the floor of the old way, the notebook's own cells executed with nbclient in a
  fresh Jupyter kernel, no grading at all;
- ``shell``: the floor of the new way, the notebook's own cells in an IPython ``InteractiveShell``
  in a fresh Python process, no grading at all;
- ``nbgrader``: with ``--nbgrader CMD``, nbgrader's ``autograde`` on the same copies (a
  benchmark-only dependency in its own environment: see ``benchmarks/nbgrader_baseline.py``).

It prints the seconds per submission of each, the sandbox's cost (bwrap - process) and the
ratios to the floors. Every graded copy must score 100%, or the benchmark stops. The batch's
fixed costs (planning the lesson, building the grading view, checking bubblewrap) are paid once
per batch and are not in the per-submission figures.

    python benchmarks/bench_grade.py [--lesson 03_backprop] [--copies 6] [--jobs 1] [--nbgrader CMD]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from course.instructor import Limits, grade_batch

REPO = Path(__file__).resolve().parents[1]
SHELL = """
import sys, json
from IPython.core.interactiveshell import InteractiveShell
sh = InteractiveShell.instance()
sh.register_magic_function(lambda line='': None, 'line', 'matplotlib')
for cell in json.load(open(sys.argv[1]))['cells']:
    if cell['cell_type'] == 'code':
        sh.run_cell(''.join(cell['source']), store_history=False)
"""


def graded(folder: Path, jobs: int, solutions: Path, lesson: str, isolation: str) -> float:
    grades, info = grade_batch([folder], solutions=solutions, jobs=jobs, lesson=lesson, seed=1234,
                               limits=Limits(timeout=600, cell_timeout=300, exercise_timeout=120, memory=4096),
                               progress=False, isolation=isolation, guard=False)
    bad = [g.name for g in grades if g.score != g.max_score or g.status != "graded"]
    if bad:
        raise SystemExit(f"{isolation}: {len(bad)} copies did not grade 100%: {bad[:3]} {grades[0].notes}")
    return info["seconds"]


def floor(folder: Path, kind: str) -> float:
    env = {**os.environ, "MPLBACKEND": "Agg", "COURSE_CHECK_SEED": "0"}
    start = time.perf_counter()
    for nb in sorted(folder.glob("*.ipynb")):
        if kind == "nbclient":
            cmd = [sys.executable, "-c", "import sys, nbformat; from nbclient import NotebookClient\n"
                   "nb = nbformat.read(sys.argv[1], 4)\nNotebookClient(nb, allow_errors=True, timeout=600).execute()",
                   str(nb)]
        else:
            cmd = [sys.executable, "-c", SHELL, str(nb)]
        subprocess.run(cmd, check=True, env=env, capture_output=True, cwd=folder)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lesson", default="03_backprop")
    parser.add_argument("--copies", type=int, default=6)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--solutions", default=str(REPO / "solutions"))
    parser.add_argument("--nbgrader", default=None, help="nbgrader's command, to grade the same copies with it too")
    args = parser.parse_args()
    solutions = Path(args.solutions)
    tmp = Path(tempfile.mkdtemp(prefix="bench-grade-"))
    try:
        for i in range(args.copies):
            shutil.copy(solutions / f"{args.lesson}.ipynb", tmp / f"learner{i:03d}.ipynb")
        per = {}
        for kind in ("bwrap", "process"):
            per[kind] = graded(tmp, args.jobs, solutions, args.lesson, kind) / args.copies
        for kind in ("shell", "nbclient"):
            per[kind] = floor(tmp, kind) / args.copies
        if args.nbgrader:
            sys.path.insert(0, str(REPO / "benchmarks"))
            from nbgrader_baseline import autograde_seconds

            subs = sorted(tmp.glob("*.ipynb"))
            per["nbgrader"] = autograde_seconds(args.nbgrader, solutions / f"{args.lesson}.ipynb", subs,
                                                tmp / "nbgrader-course") / args.copies
        print(f"lesson {args.lesson}, {args.copies} copies, --jobs {args.jobs}; seconds per submission:")
        for kind, label in (("bwrap", "course grade (bubblewrap sandbox)"),
                            ("process", "course grade --isolation process"),
                            ("shell", "cells only, IPython InteractiveShell"),
                            ("nbclient", "cells only, nbclient + Jupyter kernel"),
                            ("nbgrader", "nbgrader autograde (serial)")):
            if kind in per:
                print(f"  {label:40s} {per[kind]:6.2f} s")
        print(f"the sandbox adds {per['bwrap'] - per['process']:+.2f} s per submission")
        print(f"course grade / nbclient-only execution: {per['bwrap'] / per['nbclient']:.2f}x; "
              f"/ shell-only execution: {per['bwrap'] / per['shell']:.2f}x")
        if "nbgrader" in per:
            print(f"course grade / nbgrader autograde: {per['bwrap'] / per['nbgrader']:.2f}x")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
