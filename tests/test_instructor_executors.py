"""Executors (course.instructor.pipeline.executors): a task that kills its Dask worker every time comes back
as a crashed sandbox after two deaths, not retried forever, and the cluster goes on."""

import os
import sys

import pytest

from course.instructor.pipeline.executors import DaskSandboxes
from course.instructor.sandbox.host import Limits


def _kills_its_worker(cells, tasks, limits, isolation):
    os._exit(4)


def _echo(cells, tasks, limits, isolation):
    from course.instructor.sandbox import transport
    from course.instructor.sandbox.host import SandboxResult

    return transport.pack(SandboxResult(status="ok", log=f"{len(cells)} cells, {isolation}"))


class Bomb(DaskSandboxes):
    task = staticmethod(_kills_its_worker)


class Echo(DaskSandboxes):
    task = staticmethod(_echo)


def test_a_worker_killer_is_crashed_after_two_deaths_and_the_cluster_goes_on():
    distributed = pytest.importorskip("distributed", reason="Dask distributed is not installed")
    import cloudpickle
    import dask

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the workers cannot import this file
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                      dashboard_address=None, silence_logs=40) as cluster:
            with distributed.Client(cluster, set_as_default=False) as client:
                bomb = Bomb(client, "process")
                assert bomb.slots == 2
                res = bomb([(0, "x = 1")], [], Limits())
                assert res.status == "crashed" and "twice" in res.problem
                ok = Echo(client, "process")([(0, "x = 1"), (1, "y = 2")], [], Limits())
                assert ok.status == "ok" and ok.log == "2 cells, process"
