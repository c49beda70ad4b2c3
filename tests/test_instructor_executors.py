"""Executors: the local pool and a real Dask cluster (a LocalCluster of two worker processes)."""

import os
import sys
from pathlib import Path

import pytest

from course.instructor.executors import DaskPool, LocalPool, executor_for


def _square(x):
    return x * x


def _fails(x):
    raise ValueError(f"bad {x}")


def _dies_once(arg):
    marker, value = arg
    if not Path(marker).exists():
        Path(marker).write_text("died here once")
        os._exit(3)  # the worker process dies mid-task
    return value


def _always_dies(_):
    os._exit(4)


def test_local_pool_yields_every_result_and_keeps_going_after_a_failure():
    pool = executor_for(None, jobs=2)
    assert isinstance(pool, LocalPool)
    got = {r.key: r for r in pool.map(_square, [(str(i), i) for i in range(6)])}
    assert {k: r.value for k, r in got.items()} == {str(i): i * i for i in range(6)}
    [bad] = list(pool.map(_fails, [("x", 1)]))
    assert not bad.ok and bad.status == "failed" and "bad 1" in bad.error
    with pytest.raises(ValueError, match="jobs must be >= 1"):
        LocalPool(0)


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed", reason="Dask distributed is not installed")
    import cloudpickle
    import dask

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the workers cannot import this test file
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                      dashboard_address=None, silence_logs=40) as c:
            yield c


def test_dask_pool_retries_a_lost_worker_and_marks_a_repeat_killer_crashed(cluster, tmp_path):
    pool = DaskPool(cluster)
    try:
        items = [(f"s{i}", i) for i in range(5)]
        assert sorted(r.value for r in pool.map(_square, items)) == [0, 1, 4, 9, 16]
        # a worker killed mid-batch: its task is retried elsewhere, nothing is lost
        (tmp_path / "m0").write_text("")  # these tasks find their marker: they just return
        mixed = [("lost", (str(tmp_path / "marker"), "survived")), *[(f"t{i}", (str(tmp_path / "m0"), i))
                                                                    for i in range(3)]]
        results = {r.key: r for r in pool.map(_dies_once, mixed)}
        assert results["lost"].ok and results["lost"].value == "survived"
        assert [results[f"t{i}"].value for i in range(3)] == [0, 1, 2]
        # a task that kills every worker it lands on: crashed after two deaths, not retried forever
        results = {r.key: r for r in pool.map(_always_dies, [("bomb", None)])}
        assert results["bomb"].status == "crashed" and "twice" in results["bomb"].error
        # and the cluster still grades the others
        assert sorted(r.value for r in pool.map(_square, items)) == [0, 1, 4, 9, 16]
    finally:
        pool.close()
