"""The run phase inside the learner's kernel (after the learner's cells ran).

The sandbox driver executes ``grade(job_path, globals())`` as the last cell. For each exercise it
looks the learner's function up by name, runs the grader's run phase on the cases of the job
(written by the grader: pure data), and writes the outcomes with :mod:`course.instructor.wire`, one
file per exercise and test set, as soon as they are known (a later hang or crash keeps them).

Nothing here decides a grade: the reference values and the comparison are computed in the grader's
own process. Whatever runs here may have been changed by the learner's code; the metadata written
here (is the function the course's reference? did the reference's code run during the calls?) can
only *lower* a grade, never raise one.
"""

from __future__ import annotations

import json
import os
import pickle
import signal
import sys
from pathlib import Path

__all__ = ["grade"]


class ExerciseTimeout(BaseException):
    """Raised by the per-exercise timer (a BaseException, so `except Exception` does not eat it)."""


def _describe(fn, reference) -> dict:
    """What the object the learner's name points to is (for the grader's integrity checks)."""
    import course

    package = os.path.dirname(os.path.abspath(course.__file__)) + os.sep
    target = getattr(fn, "__func__", fn)
    code = getattr(target, "__code__", None)
    filename = getattr(code, "co_filename", "") or ""
    ref_code = getattr(reference, "__code__", None)
    unwrapped = target
    for _ in range(10):
        unwrapped = getattr(unwrapped, "__wrapped__", None) or unwrapped
    return {
        "found": True,
        "callable": callable(fn),
        "type": type(fn).__name__,
        "module": str(getattr(fn, "__module__", "") or "")[:200],
        "qualname": str(getattr(fn, "__qualname__", "") or "")[:200],
        "is_reference": fn is reference or unwrapped is reference,
        # the reference's own code object (a copy made with types.FunctionType); equal bytecode is
        # not enough: a one-line exercise written like the reference compiles to the same bytes
        "same_code": code is not None and code is ref_code,
        "course_file": os.path.abspath(filename).startswith(package) if filename else False,
    }


def _watch(ref_code, flag: dict):
    def hook(frame, event, arg):
        if event == "call" and frame.f_code is ref_code:
            flag["called"] = True

    return hook


def _timeout(signum, frame):
    raise ExerciseTimeout()


def _run_set(exercise, fn, forward, case_list, ref_code, seconds):
    """The run phase for one list of cases, case by case, under one timer; a case that runs past
    it, or raises SystemExit / KeyboardInterrupt, gets an error outcome and the rest go on."""
    from course.grader.runner import ErrorInfo, Outcome, run, run_case

    flag = {"called": False}
    outcomes: list = []
    meta = {"timed_out": False}
    old_profile = sys.getprofile()
    can_time = hasattr(signal, "setitimer") and signal.getsignal(signal.SIGALRM) is _timeout
    try:
        if can_time:
            signal.setitimer(signal.ITIMER_REAL, float(seconds))
        for i, case in enumerate(case_list):
            if meta["timed_out"]:
                outcomes.append(Outcome(error=ErrorInfo(
                    "exception", "Timeout", f"not run: the exercise ran out of time ({seconds:g} s)")))
                continue
            try:
                if ref_code is not None:
                    sys.setprofile(_watch(ref_code, flag))
                if i == 0:
                    out = run(exercise, fn, [case], forward=forward)[0]
                else:
                    out = run_case(exercise, fn, case, {"forward": forward})
            except ExerciseTimeout:
                meta["timed_out"] = True
                out = Outcome(error=ErrorInfo(
                    "exception", "Timeout", f"did not finish within {seconds:g} s (an endless loop?)"))
            except BaseException as exc:  # SystemExit, KeyboardInterrupt, RecursionError...
                out = Outcome(error=ErrorInfo("exception", type(exc).__name__, str(exc)[:2000]))
            finally:
                sys.setprofile(old_profile)
            outcomes.append(out)
            if out.error is not None and out.error.not_implemented:
                outcomes.extend([out] * (len(case_list) - i - 1))
                break
    finally:
        if can_time:
            signal.setitimer(signal.ITIMER_REAL, 0)
    meta["reference_called"] = flag["called"]
    return outcomes, meta


def grade(job_path: str, namespace: dict) -> None:
    """Run every exercise of the job on the learner's functions in ``namespace``; write outcomes."""
    from course.grader import get
    from course.instructor import wire

    with open(job_path, "rb") as fh:
        job = pickle.load(fh)  # written by the grader (trusted data), read by the kernel
    out = Path(job["out"])
    out.mkdir(parents=True, exist_ok=True)
    if hasattr(signal, "setitimer"):
        try:
            signal.signal(signal.SIGALRM, _timeout)
        except ValueError:  # not the main thread: no per-exercise timer (the overall timeout stays)
            pass
    for t, task in enumerate(job["tasks"]):
        exercise = get(task["exercise"])
        reference = exercise.reference
        ref_code = getattr(reference, "__code__", None)
        fn = namespace.get(task["function"])
        meta = {"found": task["function"] in namespace}
        if meta["found"]:
            try:
                meta.update(_describe(fn, reference))
            except Exception as exc:  # an object that resists inspection
                meta["describe_error"] = f"{type(exc).__name__}"
        forward = namespace.get(task["forward"]) if task.get("forward") else None
        if meta["found"] and meta.get("callable"):
            for s, (label, case_list) in enumerate(task["sets"]):
                try:
                    outcomes, set_meta = _run_set(exercise, fn, forward, case_list, ref_code,
                                                  job["exercise_timeout"])
                except BaseException as exc:  # the timer or an exit between two cases
                    outcomes, set_meta = [], {"timed_out": isinstance(exc, ExerciseTimeout)}
                wire.dump(outcomes, out / f"t{t}_s{s}.json", {**meta, **set_meta, "set": label})
        (out / f"t{t}.meta.json").write_text(json.dumps(meta))
    (out / "done").write_text("ok")
