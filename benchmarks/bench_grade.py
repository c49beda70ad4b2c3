"""How fast does ``course grade`` get through a class, and what does ``--jobs 2`` buy?

Grades ``--copies`` copies (default 40) of one lesson's solution notebook, once with ``--jobs 1``
and once with ``--jobs 2`` (same seed), and prints the seconds per submission of each and the
parallel speed-up (jobs-1 time / jobs-2 time; the ideal on 2 free cores is 2). Every copy must
grade 100%, or the benchmark stops.

Each submission costs a fresh process and Jupyter kernel (about 2-3 s of start-up on a small
machine) plus the lesson's own cells, so the numbers depend mostly on the lesson.

    python benchmarks/bench_grade.py [--lesson 00_getting_started] [--copies 40] [--jobs 2]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from course.instructor import Limits, grade_batch

REPO = Path(__file__).resolve().parents[1]


def run(folder: Path, jobs: int, seed: int, solutions: Path, lesson: str) -> tuple[float, list]:
    start = time.perf_counter()
    grades, _ = grade_batch([folder], solutions=solutions, jobs=jobs, lesson=lesson, seed=seed,
                            limits=Limits(timeout=600, cell_timeout=300, exercise_timeout=120, memory=4096),
                            progress=False)
    return time.perf_counter() - start, grades


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lesson", default="00_getting_started")
    parser.add_argument("--copies", type=int, default=40)
    parser.add_argument("--jobs", type=int, default=2, help="the parallel run's --jobs (default 2)")
    parser.add_argument("--solutions", default=str(REPO / "solutions"))
    args = parser.parse_args()
    solutions = Path(args.solutions)
    source = solutions / f"{args.lesson}.ipynb"
    tmp = Path(tempfile.mkdtemp(prefix="bench-grade-"))
    try:
        for i in range(args.copies):
            shutil.copy(source, tmp / f"learner{i:03d}.ipynb")
        results = {}
        for jobs in (1, args.jobs):
            seconds, grades = run(tmp, jobs, 1234, solutions, args.lesson)
            bad = [g.name for g in grades if g.score != g.max_score or g.status != "graded"]
            if bad:
                raise SystemExit(f"--jobs {jobs}: {len(bad)} copies did not grade 100%: {bad[:3]}")
            results[jobs] = seconds
            print(f"--jobs {jobs}: {seconds:7.1f} s for {args.copies} submissions = "
                  f"{seconds / args.copies:.2f} s per submission")
        print(f"speed-up with --jobs {args.jobs}: {results[1] / results[args.jobs]:.2f}x "
              f"(lesson {args.lesson}, {args.copies} copies)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
