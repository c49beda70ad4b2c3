"""Run SPMD code (:mod:`course.parallel.spmd`) on real processes with MPI: mpi4py and ``mpiexec``.

The engine is MPI: `mpi4py <https://mpi4py.readthedocs.io>`_ with the MPICH that installs from
PyPI (the ``mpich`` wheel), both in the course's optional extra::

    pip install -e ".[distributed]"

The wheel puts ``mpiexec`` next to the Python interpreter (the virtual environment's ``bin/``);
:func:`mpiexec` finds it there or on ``PATH``. On one laptop::

    mpiexec -n 4 python script.py

starts 4 processes of ``script.py`` that talk through shared memory. On a cluster the same
script runs unchanged across machines: list them in a host file (one ``host:slots`` a line)
and run ``mpiexec -f hosts -n 16 python script.py`` (MPICH's Hydra; Open MPI spells it
``--hostfile``); every machine needs the same Python environment at the same path and
password-less ssh between them, or a scheduler's launcher (``srun`` under Slurm).
``COURSE_MPIEXEC_ARGS`` adds arguments to every ``mpiexec`` this module starts (for example
``-launcher fork`` where a container has no ssh).

- :func:`available`: whether mpi4py and mpiexec are here (the lesson skips its MPI part if not).
- :func:`script`: a runnable script from the source of some functions and a few lines.
- :func:`run`: ``mpiexec -n K python script``; returns the JSON that rank 0 printed last.
- :func:`check_on_world`: in an MPI program, compares a ring all-reduce and a data-parallel step
  with ``MPI.Allreduce`` and with the simulated references, and prints the figures as JSON.
"""

from __future__ import annotations

import inspect
import json
import os
import shlex
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np

__all__ = ["INSTALL", "available", "mpiexec", "script", "run", "check_on_world", "world_arrays"]

#: How to install the engine (shown by the lesson when it is missing).
INSTALL = 'pip install -e ".[distributed]"   (or: pip install mpi4py mpich)'

_ROOT = Path(__file__).resolve().parents[2]  # the directory that holds the course package


def mpiexec() -> str | None:
    """The path of ``mpiexec``: next to this Python (where the mpich wheel puts it), else on PATH."""
    here = Path(sys.executable).parent
    found = shutil.which("mpiexec", path=str(here)) or shutil.which("mpiexec")
    return found


def available() -> tuple[bool, str]:
    """``(True, "")`` when mpi4py imports and mpiexec is found, else ``(False, why and how to install)``."""
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return False, f"mpi4py is not installed; install the [distributed] extra: {INSTALL}"
    if mpiexec() is None:
        return False, f"mpi4py is installed but no mpiexec was found; install an MPI, e.g. {INSTALL}"
    return True, ""


def script(*functions, body: str) -> str:
    """Source of a runnable MPI script: ``import numpy as np``, the functions' sources, then ``body``.

    ``functions`` are plain functions (defined in a module or a notebook cell); ``body`` the
    lines that run them, e.g. ``"from course.parallel.mpi import check_on_world\\n..."``.
    """
    parts = ["import numpy as np", ""]
    for f in functions:
        if not callable(f):
            raise TypeError(f"script: expected functions, got {type(f).__name__}")
        parts += [textwrap.dedent(inspect.getsource(f)), ""]
    parts.append(textwrap.dedent(body))
    return "\n".join(parts) + "\n"


def run(path, n=2, args=(), timeout=300.0) -> dict:
    """Run ``mpiexec -n n python path *args`` and return the JSON object of the last line printed
    (by rank 0). Raises RuntimeError with the processes' output when it fails."""
    ok, why = available()
    if not ok:
        raise RuntimeError(why)
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"run: n must be an int >= 1, got {n!r}")
    extra = shlex.split(os.environ.get("COURSE_MPIEXEC_ARGS", ""))
    cmd = [mpiexec(), *extra, "-n", str(n), sys.executable, str(path), *map(str, args)]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_ROOT), env.get("PYTHONPATH", "")) if p)
    env.setdefault("MPLBACKEND", "Agg")
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(
            f"{' '.join(cmd)} failed (exit status {proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        )
    return json.loads(lines[-1])


def world_arrays(K, n, seed=0, rows=(7, 5), D=4):
    """The inputs every rank r builds for itself: a vector (n,), and rows of least squares.

    Rank r's rows: ``rows[r % 2] + r`` (shards of different sizes). Any rank (or one process
    simulating all of them) can rebuild every rank's data from (K, n, seed).
    """
    out = []
    for r in range(K):
        rng = np.random.default_rng([seed, r])
        m = rows[r % len(rows)] + r
        out.append((rng.standard_normal(n), rng.standard_normal((m, D)), rng.standard_normal(m)))
    w = np.random.default_rng([seed, 10**6]).standard_normal(D)
    return out, w


def _timed(fn, repeat, comm):
    comm.Barrier()
    t0 = time.perf_counter()
    for _ in range(repeat):
        out = fn()
    comm.Barrier()
    return (time.perf_counter() - t0) / repeat, out


def check_on_world(ring_allreduce, data_parallel_step, n=1000, seed=0, lr=0.1, repeat=3):
    """Run in every process of an MPI program; rank 0 prints one JSON line.

    Compares ``ring_allreduce(x, comm)`` with ``MPI.Allreduce`` on the same arrays and with the
    simulated reference :func:`course.parallel.ring_allreduce`, and ``data_parallel_step(w, X,
    y, lr, comm)`` with one full-batch step on all ranks' rows; also times both all-reduces.
    """
    from mpi4py import MPI

    from .allreduce import ring_allreduce as simulated_ring

    comm = MPI.COMM_WORLD
    K, r = comm.Get_size(), comm.Get_rank()
    data, w = world_arrays(K, n, seed)
    x, X, y = data[r]
    t_ring, mine = _timed(lambda: ring_allreduce(x, comm), repeat, comm)
    ref = np.empty_like(x)
    t_mpi, _ = _timed(lambda: comm.Allreduce(x, ref, op=MPI.SUM), repeat, comm)
    w_new = data_parallel_step(w, X, y, lr, comm)
    errors = comm.gather(
        (float(np.max(np.abs(np.asarray(mine) - ref))), np.asarray(mine), np.asarray(w_new)), root=0
    )
    if r == 0:
        sim = simulated_ring([d[0] for d in data])
        X_all = np.concatenate([d[1] for d in data])
        y_all = np.concatenate([d[2] for d in data])
        w_full = w - lr * X_all.T @ (X_all @ w - y_all) / len(X_all)
        print(json.dumps({
            "ranks": K,
            "n": n,
            "max_error_vs_mpi_allreduce": max(e[0] for e in errors),
            "max_error_vs_simulated_ring": max(float(np.max(np.abs(e[1] - s))) for e, s in zip(errors, sim)),
            "max_error_step_vs_full_batch": max(float(np.max(np.abs(e[2] - w_full))) for e in errors),
            "ring_seconds": t_ring,
            "mpi_allreduce_seconds": t_mpi,
            "host": MPI.Get_processor_name(),
        }), flush=True)
