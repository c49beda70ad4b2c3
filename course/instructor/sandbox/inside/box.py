"""The sandbox's driver: runs inside the sandbox, with the grading view of ``course`` only.

``python -m course.instructor.sandbox.inside.box JOB`` (started by :mod:`course.instructor.sandbox.host`, inside
bubblewrap). ``JOB`` is a pickle the grader wrote (cells, cases, limits: trusted data, read here).

1. keeps a private copy of stdout for the frames (:mod:`course.instructor.sandbox.inside.channel`) and sends
   fd 1 to ``/dev/null`` (nothing the learner prints counts or reaches the grader);
2. sets the hard resource limits (soft = hard, so they cannot be raised again): address space,
   CPU seconds, file size, open files, processes, no core dumps;
3. makes every ``course.*`` module that is not in the grading view importable as a stand-in whose
   functions raise :class:`Withheld` (a demo cell that uses the reference fails at its call,
   the cell's other lines still run);
4. runs the learner's code cells one by one in an IPython ``InteractiveShell`` (magics work, no
   kernel, no sockets), each under a timer, sending ``cell`` events before and after each;
5. the run phase: for each exercise, the learner's function on the grader's cases, through the
   exercise's protocol (rebuilt from data: no reference is needed, see
   :mod:`course.grader.run.protocols`), one ``result`` frame per exercise and test set as soon as
   it is known.

Everything sent from here may be forged by the learner's code (it runs in this process). The
grader treats it as claims about the learner's outputs and nothing more.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import os
import pickle
import signal
import sys
import types

__all__ = ["Withheld", "NamedObjective", "main"]

ALARM = signal.SIGALRM


class Withheld(RuntimeError):
    """A course reference that is not available where learner code runs."""


class _Stand_in:
    def __init__(self, name):
        self._name = name

    def __call__(self, *args, **kwargs):
        raise Withheld(f"{self._name} is not available while your notebook is graded (the grader "
                       "hides the course's reference implementations)")

    def __getattr__(self, attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        return _Stand_in(f"{self._name}.{attr}")

    def __repr__(self):
        return f"<withheld {self._name}>"


class _WithheldModule(types.ModuleType):
    def __getattr__(self, attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        return _Stand_in(f"{self.__name__}.{attr}")


class _WithheldFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Last on ``sys.meta_path``: ``course.X`` that the view does not hold becomes a stand-in."""

    def find_spec(self, name, path=None, target=None):
        if name.startswith("course."):
            return importlib.machinery.ModuleSpec(name, self, is_package=True)
        return None

    def create_module(self, spec):
        module = _WithheldModule(spec.name)
        module.__path__ = []
        return module

    def exec_module(self, module):
        return None


class CellTimeout(BaseException):
    """The per-cell (or per-exercise) timer ran out."""


def _alarm(signum, frame):
    raise CellTimeout()


def set_limits(limits: dict) -> None:
    """Hard limits, soft = hard (a learner cannot raise them again)."""
    import resource

    for name, value in limits.items():
        which = getattr(resource, name, None)
        if which is None or value is None:
            continue
        _, hard = resource.getrlimit(which)
        value = int(value) if hard == resource.RLIM_INFINITY else min(int(value), hard)
        try:
            resource.setrlimit(which, (value, value))
        except (ValueError, OSError):
            pass


class _Null:
    def write(self, s):
        return len(s)

    def flush(self):
        pass

    def isatty(self):
        return False


def _shell():
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance(colors="NoColor", autocall=0, history_length=0)
    shell.history_manager.enabled = False
    shell.displayhook.write_output_prompt = lambda: None
    # no GUI event loop here: %matplotlib (any backend) keeps the Agg backend of the environment
    shell.register_magic_function(lambda line="": None, "line", "matplotlib")
    shell.enable_gui = lambda gui=None: None
    return shell


def _error_text(result) -> str:
    exc = result.error_in_exec or result.error_before_exec
    if exc is None:
        return ""
    return f"{type(exc).__name__}: {str(exc)[:300]}"[:400]


def run_cells(shell, cells, skip, timeout: float, out) -> None:
    from .channel import send_json

    for index, source in cells:
        if index in skip:
            continue
        send_json(out, {"event": "cell", "index": index, "phase": "start"})
        signal.signal(ALARM, _alarm)
        signal.setitimer(signal.ITIMER_REAL, float(timeout))
        try:
            result = shell.run_cell(source, store_history=False, silent=False)
            error = _error_text(result)
        except CellTimeout:
            error = f"Timeout: ran longer than {timeout:g} s (interrupted)"
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        if "CellTimeout" in error:
            error = f"Timeout: ran longer than {timeout:g} s (interrupted)"
        send_json(out, {"event": "cell", "index": index, "phase": "end", "error": error})


def _protocol(spec):
    """The exercise's protocol, rebuilt from ``(module, class name, state)``."""
    module, qualname, state = spec
    cls = getattr(importlib.import_module(module), qualname)
    proto = cls.__new__(cls)
    proto.__dict__.update(state)
    return proto


class _Shipped:
    """A case's reference-computed input (a forward's cache), sent in by the grader as data."""

    def __init__(self, cache):
        self.cache = cache

    def __call__(self, *args, **kwargs):
        from course.grader.cases import copy_data

        return None, copy_data(self.cache)


class NamedObjective:
    """A test function of :mod:`course.functions`, sent in by name (some hold closures)."""

    def __init__(self, name: str):
        self.name = name

    def _target(self):
        from course.functions import FUNCTIONS

        return FUNCTIONS[self.name]

    def value(self, w):
        return self._target().value(w)

    def grad(self, w):
        return self._target().grad(w)


def _lookup(objectives):
    return lambda name: objectives[name]


def run_set(exercise, fn, forward, case_list, seconds: float):
    """The run phase of one test set under one timer; returns ``(outcomes, timed_out)``."""
    from course.grader.run.runner import Backward, ErrorInfo, Outcome, Trajectory, run

    proto = exercise.protocol
    outcomes, timed_out = [], False
    signal.signal(ALARM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, float(seconds))
    try:
        for case in case_list:
            if timed_out:
                outcomes.append(Outcome(error=ErrorInfo("exception", "Timeout",
                                                        f"not run: the exercise ran out of time ({seconds:g} s)")))
                continue
            extra = dict(case.extra)
            if isinstance(proto, Backward):
                proto.forward = _Shipped(extra.pop("_cache"))
            if isinstance(proto, Trajectory):
                proto.lookup = _lookup(extra.pop("_objectives"))
            case = type(case)(case.args, case.kwargs, case.note, case.N, case.fd, extra)
            try:
                out = run(exercise, fn, [case], forward=forward)[0]
            except CellTimeout:
                timed_out = True
                out = Outcome(error=ErrorInfo("exception", "Timeout",
                                              f"did not finish within {seconds:g} s (an endless loop?)"))
            except BaseException as exc:  # SystemExit, KeyboardInterrupt, RecursionError...
                out = Outcome(error=ErrorInfo("exception", type(exc).__name__, str(exc)[:2000]))
            outcomes.append(out)
            if out.error is not None and out.error.not_implemented:
                outcomes.extend([out] * (len(case_list) - len(outcomes)))
                break
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    return outcomes, timed_out


def _send_result(out, t: int, s: int, label: str, outcomes, timed_out: bool) -> None:
    from . import wire
    from .channel import send, send_json

    doc, arrays = wire.encode(outcomes, {"timed_out": timed_out, "set": label})
    send_json(out, {"event": "result", "task": t, "set": s, "arrays": len(arrays), "doc": doc.decode("utf-8")})
    for a in arrays:
        send(out, b"A", a)


def _run_one(runnable, t, s, label, case_list, seconds, out) -> None:
    exercise, fn, forward = runnable[t]
    try:
        outcomes, timed_out = run_set(exercise, fn, forward, case_list, seconds)
    except BaseException as exc:  # the timer or an exit between two cases
        outcomes, timed_out = [], isinstance(exc, CellTimeout)
    _send_result(out, t, s, label, outcomes, timed_out)


def run_phase(namespace, tasks, seconds: float, out, hidden_sets=lambda: {}) -> None:
    """Every exercise's visible test sets first; then, once the grader has them all, the hidden
    sets (``hidden_sets()`` waits for them): the hidden cases reach this process only after every
    result a learner may see has been sent."""
    from .channel import send_json

    runnable = {}
    for t, task in enumerate(tasks):
        exercise = types.SimpleNamespace(**task["exercise"], protocol=_protocol(task["protocol"]))
        fn = namespace.get(task["function"])
        meta = {"found": task["function"] in namespace, "callable": callable(fn),
                "type": type(fn).__name__[:40]}
        forward = namespace.get(task["forward"]) if task.get("forward") else None
        send_json(out, {"event": "task", "task": t, "meta": meta})
        if not (meta["found"] and meta["callable"]):
            continue
        runnable[t] = (exercise, fn, forward)
        for s, (label, case_list) in enumerate(task["sets"]):
            if case_list is not None:
                _run_one(runnable, t, s, label, case_list, seconds, out)
    send_json(out, {"event": "visible_done"})
    for (t, s), (label, case_list) in sorted(hidden_sets().items()):
        if t in runnable:
            send_json(out, {"event": "task", "task": t, "meta": {}})
            _run_one(runnable, t, s, label, case_list, seconds, out)


def _read_job(source) -> dict:
    """The job: a file the grader wrote, or (``-``) 8 bytes of length and a pickle on stdin (a
    pre-started sandbox waits there, its imports done, until the grader hands it a submission)."""
    if source != "-":
        with open(source, "rb") as fh:
            return pickle.load(fh)
    return _read_blob(sys.stdin.buffer)


def _read_blob(fh):
    size = int.from_bytes(fh.read(8), "big")
    data = fh.read(size)
    if len(data) != size:
        os._exit(3)  # the grader went away before sending it
    return pickle.loads(data)


def preflight():
    """Everything the sandbox needs, imported before any learner's code (the grader's start-up
    check runs this too, so that a missing dependency stops the batch before anyone is graded):
    IPython's shell, NumPy, the run phase and what the job's pickle needs, the wire format."""
    shell = _shell()
    import numpy  # noqa: F401

    import course.grader.run.lesson_protocols  # noqa: F401
    import course.grader.run.protocols  # noqa: F401
    import course.grader.run.runner  # noqa: F401
    import course.grader.run.topic_protocols  # noqa: F401
    import course.grader.run.training_protocol  # noqa: F401

    from . import wire  # noqa: F401

    return shell


def main(job_source: str) -> int:
    out = os.fdopen(os.dup(1), "wb", buffering=0)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    sys.stdout = sys.__stdout__ = _Null()
    sys.meta_path.append(_WithheldFinder())
    from .channel import send_json

    shell = preflight()
    send_json(out, {"event": "ready"})
    job = _read_job(job_source)
    more = os.fdopen(os.dup(0), "rb") if job_source == "-" else None  # the hidden sets come here later
    os.dup2(null, 0)
    os.chdir(job["cwd"])
    sys.path[:0] = [job["cwd"]]
    set_limits(job["rlimits"])
    send_json(out, {"event": "job"})
    run_cells(shell, job["cells"], set(job.get("skip", ())), job["cell_timeout"], out)
    send_json(out, {"event": "cells_done"})
    run_phase(shell.user_ns, job["tasks"], job["exercise_timeout"], out,
              (lambda: _read_blob(more)) if more is not None else (lambda: {}))
    send_json(out, {"event": "done"})
    out.flush()
    os._exit(0)  # no atexit handlers registered by the learner's code


if __name__ == "__main__":  # pragma: no cover - the sandbox's entry point
    sys.exit(main(sys.argv[1]))
