"""Lesson 13's recap says what ran: the MPI part on real processes, or that it was skipped and why."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("folder", ["solutions", "notebooks"])
def test_the_recap_says_whether_the_mpi_part_ran(folder):
    nb = nbformat.read(REPO / folder / "13_distributed.ipynb", as_version=4)
    [cell] = [c for c in nb.cells if c.get("id") == "recap-mpi"]
    assert "yours ran on real processes" not in "\n".join(c.source for c in nb.cells)

    def said(**namespace):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(cell.source, namespace)
        return out.getvalue().strip()

    assert said(mpi_ran=True, ranks=4, why="") == (
        "your ring_allreduce and data_parallel_step ran on 4 real processes with mpiexec and matched "
        "MPI.Allreduce (the report above)")
    assert said(mpi_ran=False, ranks=4, why="mpi4py is not installed") == (
        "the MPI part was skipped (mpi4py is not installed): your functions ran on simulated ranks only")
    assert said(mpi_ran=False, ranks=4, why="") == (
        "the MPI part was skipped (your functions are not written yet): your functions ran on simulated ranks only")
    sources = [c.source for c in nb.cells if c.cell_type == "code"]
    setter = next(i for i, s in enumerate(sources) if "mpi_ran = True" in s)
    assert "report = mpi.run(" in sources[setter] and sources.index(cell.source) > setter
