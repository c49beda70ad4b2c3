"""The run phase of the protocols of lessons 09-19: code that calls the learner's function and
needs no reference implementation, so that it runs in the instructor's sandbox too, where the
references do not exist (:mod:`course.instructor.sandbox.view`). The judges, diagnoses and variants stay
in the topic modules, as data given to ``register``.

- :class:`WithRunningStats`: batch norm's forward, with bn_param's running statistics as outputs.
- :class:`StoppingRun`: an early-stopping class on a sequence of validation values.
- :class:`PrefetchRun`: a prefetching iterator against a source that records its threads.
- :class:`AllocatingTrajectory`: an optimizer's path, then its allocations under ``tracemalloc``.
- :class:`Ranks`: one function on every rank of a simulated world (:mod:`course.parallel.spmd`).
- :class:`ScalerTrajectory`: a dynamic loss scaler over a sequence of overflow flags.
- :class:`WithFunction`: ``fn(f, ...)`` with ``f`` one of :data:`OBJECTIVES` (by name).
"""

from __future__ import annotations

import os
import threading
import tracemalloc

import numpy as np

from ...functions import beale, rosenbrock
from ...parallel.spmd import RankError, run_ranks
from ..cases import copy_data, same_data
from .calling import LearnerMistake, call_learner, capture, plain
from .outcome import Outcome
from .protocols import Protocol, Trajectory

__all__ = ["WithRunningStats", "StoppingRun", "RecordError", "PrefetchRun", "ALLOC_SIZE", "AllocatingTrajectory",
           "Ranks", "ScalerTrajectory", "WithFunction", "OBJECTIVES"]


class WithRunningStats(Protocol):
    """``fn(x, gamma, beta, bn_param)``: graded are ``out`` and bn_param's running statistics
    after the call (the function updates them in place, as PyTorch's BatchNorm1d does)."""

    def run(self, exercise, fn, case, options):
        args = copy_data(case.args)
        try:
            ret = call_learner(fn, *args)
        except Exception as exc:
            return Outcome(error=capture(exc))
        if not (isinstance(ret, tuple) and len(ret) == 2):
            err = LearnerMistake(f"Your function returned {type(ret).__name__}; it should return (out, cache).")
            return Outcome(error=capture(err))
        bn = args[3]
        return Outcome(outputs=(plain(ret[0]), plain(bn.get("running_mean")), plain(bn.get("running_var"))))


class StoppingRun(Protocol):
    """``fn`` is a class: ``stopper = fn(**kwargs)``; then ``stopper.step(value, params)`` for the
    values of ``extra["values"]`` until it returns True, with params["w"] filled with the check's
    index; then ``stopper.restore(params)``. Outputs: the index of the check that stopped (-1: none)
    and the index whose weights were restored."""

    def run(self, exercise, fn, case, options):
        params = {"w": np.zeros(3)}
        stopped = -1
        try:
            stopper = call_learner(fn, **copy_data(case.kwargs))
            for k, value in enumerate(case.extra["values"]):
                params["w"][...] = k  # the weights "after epoch k"
                if call_learner(stopper.step, float(value), params):
                    stopped = k
                    break
            params["w"][...] = -1.0
            call_learner(stopper.restore, params)
        except Exception as exc:
            return Outcome(error=capture(exc))
        return Outcome(outputs=(float(stopped), float(params["w"][0])))


class RecordError(Exception):
    """Raised by the grader's source to see whether the learner's iterator passes it on."""


class PrefetchRun(Protocol):
    """``fn(source, depth)`` consumed to the end in a helper thread (5 s limit). The source records
    the thread that pulls each item and may raise :class:`RecordError` at item ``fail_at``.
    Outputs: the items received, 1.0 if every item was pulled by another thread than the consumer,
    1.0 if the consumer saw the RecordError."""

    repeat_first = False

    def run(self, exercise, fn, case, options):
        items, fail_at = copy_data(case.extra["items"]), case.extra.get("fail_at")
        pulled_by: list = []

        def source():
            for i, item in enumerate(items):
                if i == fail_at:
                    raise RecordError(f"record {i} is corrupt")
                pulled_by.append(threading.get_ident())
                yield item

        result: dict = {}

        def consume():
            result["consumer"], got = threading.get_ident(), []
            result["got"], result["raised"] = got, 0.0
            try:
                for x in call_learner(fn, source(), **case.kwargs):
                    got.append(x)
            except RecordError:
                result["raised"] = 1.0
            except Exception as exc:
                result["exc"] = exc

        t = threading.Thread(target=consume, daemon=True)
        t.start()
        t.join(5.0)
        if t.is_alive():
            return Outcome(error=capture(LearnerMistake(
                "Your iterator did not finish within 5 s: it waits for an item that never comes. Put an end "
                "marker on the queue when the source is exhausted, and the exception when it fails.", "hung")))
        if "exc" in result:
            return Outcome(error=capture(result["exc"]))
        background = float(bool(pulled_by) and all(tid != result["consumer"] for tid in pulled_by))
        got = result["got"]
        if all(isinstance(x, (int, float, np.number)) and not isinstance(x, bool) for x in got):
            got = np.array(got, dtype=np.float64)  # numbers: compared as one array
        return Outcome(outputs=(plain(got), background, result["raised"]))


ALLOC_SIZE = 100_000  # entries of the array the allocation check updates (800 kB in float64)


class AllocatingTrajectory(Trajectory):
    """The optimizer trajectory, then three more calls on a large array under ``tracemalloc``:
    the peak of new memory must stay below a quarter of the array's size."""

    def run(self, exercise, fn, case, options):
        out = super().run(exercise, fn, case, options)
        if out.error is not None:
            return out
        w = np.zeros(ALLOC_SIZE)
        g = np.linspace(-1.0, 1.0, ALLOC_SIZE)
        state: dict = {}
        kwargs = copy_data(case.kwargs)
        try:
            call_learner(fn, w, g, state, **kwargs)  # the first call may create its buffers
            tracing = tracemalloc.is_tracing()
            if not tracing:
                tracemalloc.start()
            tracemalloc.reset_peak()
            base = tracemalloc.get_traced_memory()[0]
            for _ in range(3):
                call_learner(fn, w, g, state, **kwargs)
            out.extra["peak_bytes"] = tracemalloc.get_traced_memory()[1] - base
            if not tracing:
                tracemalloc.stop()
        except Exception as exc:
            return Outcome(outputs=out.outputs, error=capture(exc, "in the allocation check"), extra=out.extra)
        return out


def _without_rank_frames(exc):
    """The exception with the simulated world's own frames (course/parallel/spmd.py) left out of its
    traceback, so that the learner's traceback starts in the learner's code."""
    ours = (os.path.abspath(__file__), os.path.abspath(run_ranks.__code__.co_filename))
    tb = exc.__traceback__
    while tb is not None and os.path.abspath(tb.tb_frame.f_code.co_filename) in ours:
        tb = tb.tb_next
    return exc.with_traceback(tb)


class Ranks(Protocol):
    """``fn(*case.extra["ranks"][r], comm)`` on every rank r of a simulated world.

    Outputs: ``(results, sent)`` with ``results`` the list of the K return values and ``sent``
    the numbers each rank sent (``with_sent=True``), or just ``results``.
    """

    def __init__(self, with_sent: bool):
        self.with_sent = with_sent

    def run(self, exercise, fn, case, options):
        ranks = copy_data(case.extra["ranks"])
        try:
            results, trace = run_ranks(lambda *a: call_learner(fn, *a, **case.kwargs), ranks, timeout=3.0)
        except RankError as exc:
            return Outcome(error=capture(LearnerMistake(str(exc), "deadlock")))
        except Exception as exc:
            return Outcome(error=capture(_without_rank_frames(exc)))
        mutated = tuple(sorted({
            f"{exercise.arg_names[i]} (on rank {r})"
            for r, (after, before) in enumerate(zip(ranks, case.extra["ranks"]))
            for i, (a, b) in enumerate(zip(after, before)) if not same_data(a, b)
        }))
        results = plain(list(results))
        if self.with_sent:
            return Outcome(outputs=(results, np.array(trace.sent, dtype=np.float64)), mutated=mutated)
        return Outcome(outputs=results, mutated=mutated)


class ScalerTrajectory(Protocol):
    """``fn(state, found_inf, **hp)`` once per step from ``state = {}``, for the overflow flags in
    ``case.extra["overflows"]``. Outputs: the scale after each step and whether each step was taken."""

    repeat_first = False

    def run(self, exercise, fn, case, options):
        state: dict = {}
        scales, taken = [], []
        for k, flag in enumerate(case.extra["overflows"]):
            try:
                ret = call_learner(fn, state, bool(flag), **copy_data(case.kwargs))
            except Exception as exc:
                return Outcome(error=capture(exc, f"at step {k + 1}"))
            if not isinstance(ret, (bool, np.bool_)):
                err = LearnerMistake(f"Your function returned {type(ret).__name__} at step {k + 1}; it should "
                                     "return True (take the optimizer step) or False (skip it).", "type")
                return Outcome(error=capture(err))
            if "scale" not in state:
                err = LearnerMistake(f"After step {k + 1} the state has no 'scale' (it has {sorted(map(str, state))}): "
                                     "keep the current scale in state['scale'].", "state_names")
                return Outcome(error=capture(err))
            scales.append(float(state["scale"]))
            taken.append(float(bool(ret)))
        return Outcome(outputs=(np.array(scales), np.array(taken)))


_A = np.array([[1.0, -0.5, 0.3, 0.0, 0.8], [0.2, 1.2, -0.7, 0.5, 0.0], [-0.6, 0.1, 0.9, -1.1, 0.4],
               [0.0, 0.7, 0.2, 0.6, -0.9], [1.1, 0.0, -0.4, 0.3, 0.5], [-0.3, -0.8, 0.0, 0.9, 0.2],
               [0.5, 0.4, 0.6, -0.2, -1.0]])


class _Logistic5:
    """f(w) = sum(log(1 + exp(A w))) + 0.5 |w|^2 in 5-D: a smooth, non-quadratic loss."""

    def value(self, w):
        return float(np.sum(np.logaddexp(0.0, _A @ w)) + 0.5 * w @ w)

    def grad(self, w):
        return _A.T @ (1.0 / (1.0 + np.exp(-(_A @ w)))) + w


#: Functions that cases may name: objects with value(w) and grad(w).
OBJECTIVES = {"rosenbrock": rosenbrock, "beale": beale, "logistic5": _Logistic5()}


class WithFunction(Protocol):
    """``fn(f, *args, **kwargs)`` with ``f = getattr(OBJECTIVES[case.extra["function"]], kind)``."""

    def __init__(self, kind: str):
        self.kind = kind

    def run(self, exercise, fn, case, options):
        f = getattr(OBJECTIVES[case.extra["function"]], self.kind)
        args, kwargs = copy_data(case.args), copy_data(case.kwargs)
        try:
            ret = call_learner(fn, f, *args, **kwargs)
        except Exception as exc:
            return Outcome(error=capture(exc))
        names = exercise.arg_names[1:] if exercise is not None else ()
        mutated = tuple(n for n, a, o in zip(names, args, case.args) if not same_data(a, o))
        return Outcome(outputs=plain(ret), mutated=mutated)
