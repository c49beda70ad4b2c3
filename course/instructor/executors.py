"""Where submissions are graded: a local pool (the default) or a Dask cluster.

An executor only changes *where* a submission's sandbox runs, never what it may reach: each task
is one submission, the same sandbox runs on whichever machine takes it, and what comes back is
plain data. Scoring and writing stay in the grader's process.

- :class:`LocalPool`: ``jobs`` submissions at a time on this machine (threads, each driving its
  submission's sandbox process). Nothing to start.
- :class:`DaskPool`: one Dask task per submission on a ``distributed`` cluster: ``--scheduler
  tcp://HOST:8786`` on the command line, or any ``distributed.Client``/cluster object
  (``LocalCluster``, ``dask_jobqueue.SLURMCluster``, ``dask_kubernetes.KubeCluster``) from Python.
  A task whose worker dies is retried by Dask on another worker; one that kills workers
  ``allowed_failures + 1`` times (default: twice) comes back as ``crashed``, never retried forever.

Both yield results as they finish, so the grader can write each one at once.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass

__all__ = ["TaskResult", "LocalPool", "DaskPool", "executor_for"]


@dataclass
class TaskResult:
    """What one task gave back: ``value`` when ``ok``, else ``error`` says why (``crashed`` when the
    task killed its worker too often)."""

    key: str
    ok: bool
    value: object = None
    error: str = ""
    status: str = "done"  # done, failed (the task raised), crashed (it killed its workers)


class LocalPool:
    """``jobs`` tasks at a time in this process's threads."""

    name = "local"

    def __init__(self, jobs: int = 1):
        if int(jobs) < 1:
            raise ValueError(f"jobs must be >= 1, got {jobs}")
        self.jobs = int(jobs)

    def map(self, fn: Callable, items: Iterable[tuple[str, object]]) -> Iterator[TaskResult]:
        """``fn(item)`` for each ``(key, item)``; results in the order they finish."""
        items = list(items)
        with ThreadPoolExecutor(max_workers=self.jobs) as pool:
            futures = {pool.submit(fn, item): key for key, item in items}
            for fut in as_completed(futures):
                key = futures[fut]
                try:
                    yield TaskResult(key, True, fut.result())
                except Exception as exc:  # the task's own failure; the batch goes on
                    yield TaskResult(key, False, error=f"{type(exc).__name__}: {exc}", status="failed")

    def close(self) -> None:
        pass


class DaskPool:
    """One Dask task per item on a ``distributed`` cluster.

    - scheduler: an address (``"tcp://host:8786"``), a ``distributed.Client``, or a cluster object.
    - allowed_failures: worker deaths a task may cause before it is given up as ``crashed``
      (applied to clusters started here; an external scheduler uses its own
      ``distributed.scheduler.allowed-failures`` setting, which the README says to set to 1).
    """

    name = "dask"

    def __init__(self, scheduler, allowed_failures: int = 1):
        try:
            import dask
            from distributed import Client
        except ImportError:
            raise RuntimeError("--scheduler needs Dask: python -m pip install 'dask[distributed]'") from None
        self._own = False
        if isinstance(scheduler, Client):
            self.client = scheduler
        else:
            with dask.config.set({"distributed.scheduler.allowed-failures": int(allowed_failures)}):
                self.client = Client(scheduler, set_as_default=False)
            self._own = True
        self.address = self.client.scheduler.address if self.client.scheduler else str(scheduler)

    def map(self, fn: Callable, items: Iterable[tuple[str, object]]) -> Iterator[TaskResult]:
        from distributed import as_completed as dask_completed
        from distributed.scheduler import KilledWorker

        with self.client.as_current():  # as_completed finds its client here, not in a global default
            yield from self._map(fn, items, dask_completed, KilledWorker)

    def _map(self, fn, items, dask_completed, KilledWorker):
        futures = {}
        for key, item in items:
            # pure=False: two identical submissions are still two tasks; key: readable in the dashboard
            fut = self.client.submit(fn, item, key=f"grade-{key}-{len(futures)}", pure=False)
            futures[fut] = key
        for fut in dask_completed(list(futures)):
            key = futures[fut]
            try:
                yield TaskResult(key, True, fut.result())
            except KilledWorker:
                yield TaskResult(key, False, error="it stopped the Dask worker that ran it, twice: not retried again",
                                 status="crashed")
            except Exception as exc:
                yield TaskResult(key, False, error=f"{type(exc).__name__}: {exc}", status="failed")
            finally:
                fut.release()

    def close(self) -> None:
        if self._own:
            with contextlib.suppress(Exception):
                self.client.close()


def executor_for(scheduler=None, jobs: int = 1):
    """The local pool, or a Dask pool when ``scheduler`` is given."""
    return DaskPool(scheduler) if scheduler else LocalPool(jobs)
