"""Median time of one ``check`` per exercise (target: under 50 ms each on 2 cores).

Run:  python benchmarks/bench_check.py [--repeats 15] [--failing] [--cpu]

For each exercise it checks the reference implementation (a passing check, what a learner sees
most often) and, with --failing, the exercise's first wrong variant (a failing check runs the
diagnoses and the variants too). The baseline, measured in the same run, is the time the run
phase alone takes (calling the function on every case): the ratio shows the grader's overhead.
Progress recording is switched off so the file system does not enter the numbers. ``--cpu``
times with the process's CPU clock instead of the wall clock: on a shared machine (load above
the number of cores) wall times mostly measure waiting for a core.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ["COURSE_PROGRESS_FILE"] = "off"

from course.grader import cases, check, exercises, run  # noqa: E402

CLOCK = time.perf_counter


def median_ms(fn, repeats):
    fn()  # warm up (imports, reference cache)
    times = []
    for _ in range(repeats):
        t = CLOCK()
        fn()
        times.append(CLOCK() - t)
    return 1e3 * statistics.median(times)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--failing", action="store_true", help="also time a failing check per exercise")
    parser.add_argument("--target-ms", type=float, default=50.0)
    parser.add_argument("--cpu", action="store_true", help="time with the CPU clock (process time)")
    args = parser.parse_args(argv)
    if args.cpu:
        global CLOCK
        CLOCK = time.process_time

    head = f"{'exercise':<42} {'check ms':>9} {'run ms':>8} {'ratio':>6}"
    if args.failing:
        head += f" {'failing ms':>11}"
    print(head)
    print("-" * len(head))
    slow = []
    worst = 0.0
    for ex in exercises():
        case_list = cases(ex, 0)
        t_check = median_ms(lambda ex=ex: check(ex.id, ex.reference, record=False), args.repeats)
        t_run = median_ms(lambda ex=ex, cl=case_list: run(ex, ex.reference, cl), args.repeats)
        line = f"{ex.id:<42} {t_check:>9.2f} {t_run:>8.2f} {t_check / max(t_run, 1e-9):>6.1f}"
        if args.failing and ex.variants:
            v = ex.variants[0].fn
            t_fail = median_ms(lambda ex=ex, v=v: check(ex.id, v, record=False), max(3, args.repeats // 3))
            line += f" {t_fail:>11.2f}"
            worst = max(worst, t_fail)
            if t_fail > args.target_ms:
                slow.append(ex.id + " (failing)")
        print(line)
        if t_check > args.target_ms:
            slow.append(ex.id)
        worst = max(worst, t_check)
    print("-" * len(head))
    print(f"{len(exercises())} exercises; slowest check {worst:.1f} ms; target {args.target_ms:g} ms: "
          + ("all under" if not slow else f"over for {', '.join(slow)}"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
