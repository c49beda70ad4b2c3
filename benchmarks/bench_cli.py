"""Start-up time of ``course --help`` and ``course info`` (target: under 1 s on 2 cores), against
``python -c pass`` (the interpreter's own start-up) measured in the same run.

Run:  python benchmarks/bench_cli.py [--repeats 7]

Each command runs as a fresh process, as a learner types it; the median wall time and the median
CPU time (user + system of the child: on a shared machine the wall time mostly measures waiting
for a core) are printed, with the ratio to the baseline and the time above it.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
COMMANDS = {
    "python -c pass (baseline)": [sys.executable, "-c", "pass"],
    "course --help": [sys.executable, "-m", "course", "--help"],
    "course info": [sys.executable, "-m", "course", "info"],
}


def once(argv) -> tuple[float, float]:
    """Wall and CPU seconds of one run of ``argv`` (from the repository root)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(argv, cwd=REPO, env=env, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    results = {}
    for _ in range(args.repeats):  # interleaved, so that the load on the machine hits each alike
        for name, cmd in COMMANDS.items():
            results.setdefault(name, []).append(once(cmd))
    base_wall = statistics.median(w for w, _ in results["python -c pass (baseline)"])
    base_cpu = statistics.median(c for _, c in results["python -c pass (baseline)"])
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; median of {args.repeats} runs")
    print(f"{'command':28} {'wall s':>8} {'cpu s':>8} {'wall / baseline':>16} {'wall - baseline':>16}")
    for name, runs in results.items():
        wall = statistics.median(w for w, _ in runs)
        cpu = statistics.median(c for _, c in runs)
        print(f"{name:28} {wall:8.3f} {cpu:8.3f} {wall / base_wall:15.1f}x {wall - base_wall:15.3f}s"
              + ("" if name.endswith("(baseline)") else f"   cpu - baseline {cpu - base_cpu:.3f}s"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
