"""MPI for real: `mpiexec -n 2` runs the SPMD ring all-reduce and data-parallel step in two processes
and compares them with MPI.Allreduce, the simulated reference ring and the full-batch step."""

import pytest

from course.parallel import mpi

pytestmark = pytest.mark.mpi

OK, WHY = mpi.available()
needs_mpi = pytest.mark.skipif(not OK, reason=WHY or "MPI is available")

BODY = """
from course.parallel.mpi import check_on_world
check_on_world(ring_allreduce, data_parallel_step, n={n})
"""


@needs_mpi
@pytest.mark.parametrize("n", [1000, 7])
def test_ring_allreduce_under_mpiexec_matches_mpi_allreduce(tmp_path, n):
    from course.parallel.rank_programs import data_parallel_step, ring_allreduce

    path = tmp_path / "allreduce.py"
    path.write_text(mpi.script(ring_allreduce, data_parallel_step, body=BODY.format(n=n)))
    report = mpi.run(path, n=2, timeout=120)
    assert report["ranks"] == 2 and report["n"] == n
    assert report["max_error_vs_mpi_allreduce"] <= 1e-12
    assert report["max_error_vs_simulated_ring"] == 0.0
    assert report["max_error_step_vs_full_batch"] <= 1e-12


@needs_mpi
def test_a_failing_program_reports_its_output(tmp_path):
    path = tmp_path / "broken.py"
    path.write_text("raise SystemExit('rank failed on purpose')\n")
    with pytest.raises(RuntimeError, match="failed on purpose"):
        mpi.run(path, n=2, timeout=60)


def test_available_says_how_to_install(monkeypatch):
    monkeypatch.setattr(mpi, "mpiexec", lambda: None)
    ok, why = mpi.available()
    assert not ok and "[distributed]" in why
