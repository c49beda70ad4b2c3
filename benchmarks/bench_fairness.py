"""How much a partly wrong answer's score depends on the grading seed.

Every registered variant (a deliberately wrong implementation) that passes some cases but not
all is scored over 10 grading seeds, once with the cases of one seed per exercise (a check
cell's cases) and once with ``SEEDS_PER_SET`` seeds, as ``course grade`` does. Printed: for each
setting, the mean and the largest spread (max - min over the 10 seeds) of the fraction of
points, and the ratio between the two settings::

    python benchmarks/bench_fairness.py [--seeds 10]
"""

from __future__ import annotations

import argparse
import statistics

from course.grader import registry
from course.grader.cases import cases
from course.grader.grading import grade_outcomes
from course.grader.run.runner import run
from course.instructor.pipeline.plan import SEEDS_PER_SET, set_seeds


def fraction(ex, fn, seed: int, n_seeds: int) -> float:
    seeds = set_seeds(seed)[:n_seeds]
    passed = total = 0
    for s in seeds:
        case_list = cases(ex, s)
        result = grade_outcomes(ex, s, case_list, run(ex, fn, case_list))
        passed += result.n_passed
        total += len(result.cases)
    return passed / total if total else 0.0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=10)
    args = ap.parse_args(argv)
    grading_seeds = [1000 + 37 * k for k in range(args.seeds)]
    rows = []
    for ex in registry.exercises():
        if ex.protocol.__class__.__name__ not in ("Call", "Backward"):
            continue  # trajectories and sweeps are not split into independent random cases
        for v in ex.variants:
            one = [fraction(ex, v.fn, s, 1) for s in grading_seeds]
            if all(f in (0.0, 1.0) for f in one) and len(set(one)) == 1:
                continue  # wrong on every case, or on none: no partial credit to be unfair about
            many = [fraction(ex, v.fn, s, SEEDS_PER_SET) for s in grading_seeds]
            rows.append((f"{ex.id}:{v.name}", max(one) - min(one), statistics.pstdev(one),
                         max(many) - min(many), statistics.pstdev(many)))
    if not rows:
        print("no partly wrong variants")
        return 0
    w = max(len(r[0]) for r in rows)
    print(f"{'variant':{w}}  spread (1 seed)  spread ({SEEDS_PER_SET} seeds)")
    for name, s1, _, s3, _ in sorted(rows, key=lambda r: -r[1])[:15]:
        print(f"{name:{w}}  {s1:15.3f}  {s3:16.3f}")
    mean1 = statistics.mean(r[1] for r in rows)
    mean3 = statistics.mean(r[3] for r in rows)
    sd1 = statistics.mean(r[2] for r in rows)
    sd3 = statistics.mean(r[4] for r in rows)
    print(f"\n{len(rows)} partly wrong variants over {args.seeds} seeds: mean spread {mean1:.3f} with 1 seed, "
          f"{mean3:.3f} with {SEEDS_PER_SET} (ratio {mean3 / mean1 if mean1 else float('nan'):.2f}); "
          f"largest {max(r[1] for r in rows):.3f} vs {max(r[3] for r in rows):.3f}; "
          f"mean standard deviation {sd1:.3f} vs {sd3:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
