"""The course's ring all-reduce (mpi4py, one sendrecv per chunk) against MPI.Allreduce, on real processes.

    python benchmarks/bench_allreduce.py            # starts itself under mpiexec -n 2 (COURSE_RANKS=4 for 4)

Both run in the same MPI program on the same float64 arrays, rank by rank; the script prints,
for each size, the median time of each and the ratio ring / MPI.Allreduce. The ring is the
lesson's learner-facing reference (:func:`course.parallel.rank_programs.ring_allreduce`, which pickles
its chunks through ``comm.sendrecv``), so the ratio is the price of a teaching implementation
against the MPI library's tuned collective.
"""

from __future__ import annotations

import os
import statistics
import sys
import time

import numpy as np

SIZES = (1_000, 100_000, 1_000_000)
REPEAT = 7


def measure():
    from mpi4py import MPI

    from course.parallel.rank_programs import ring_allreduce

    comm = MPI.COMM_WORLD
    rank, K = comm.Get_rank(), comm.Get_size()
    rows = []
    for n in SIZES:
        x = np.random.default_rng([rank, n]).standard_normal(n)
        out = np.empty_like(x)
        times = {"ring": [], "mpi": []}
        for _ in range(REPEAT):
            for name, fn in (("ring", lambda x=x: ring_allreduce(x, comm)),
                             ("mpi", lambda x=x, out=out: comm.Allreduce(x, out, op=MPI.SUM))):
                comm.Barrier()
                t0 = time.perf_counter()
                got = fn()
                comm.Barrier()
                times[name].append(time.perf_counter() - t0)
                if name == "ring":
                    ring = got
        comm.Allreduce(x, out, op=MPI.SUM)
        assert np.allclose(ring, out, rtol=1e-12, atol=1e-12), "ring all-reduce disagrees with MPI.Allreduce"
        rows.append((n, statistics.median(times["ring"]), statistics.median(times["mpi"])))
    if rank == 0:
        print(f"{K} ranks, float64, median of {REPEAT}; both on the same arrays")
        print(f"{'n':>10} {'ring (ms)':>10} {'Allreduce (ms)':>15} {'ratio':>7}")
        for n, ring, mpi in rows:
            print(f"{n:>10} {ring * 1e3:>10.3f} {mpi * 1e3:>15.3f} {ring / mpi:>7.1f}")


def main():
    if os.environ.get("COURSE_BENCH_CHILD"):
        measure()
        return
    from course.parallel import mpi

    ok, why = mpi.available()
    if not ok:
        print(f"skipped: {why}")
        return
    import subprocess

    env = {**os.environ, "COURSE_BENCH_CHILD": "1"}
    ranks = os.environ.get("COURSE_RANKS", "2")
    cmd = [mpi.mpiexec(), "-n", ranks, sys.executable, os.path.abspath(__file__)]
    sys.exit(subprocess.run(cmd, env=env).returncode)


if __name__ == "__main__":
    main()
