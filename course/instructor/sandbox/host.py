"""One submission in its own sandbox: the grader's side.

:func:`run_notebook` takes a pre-started sandbox from the batch's pool (:class:`Batch`: the
driver, :mod:`course.instructor.sandbox.inside.box`, in bubblewrap, :mod:`course.instructor.sandbox.bwrap`, or with
``isolation="process"`` as a plain child process, its imports done), writes the job to its stdin
(the learner's cells, the grader's cases with every reference-computed input, the limits: pure
data), and reads what comes back on its stdout
(:mod:`course.instructor.sandbox.inside.channel`): bounded, non-blocking, within the time limits. A cell that
ends the sandbox (``os._exit``, a crash, a hang past its timer) gets the sandbox started again
with that cell skipped (at most :data:`MAX_RESTARTS` times): the earlier cells run again.

Nothing that comes back is trusted: results are decoded by :mod:`course.instructor.sandbox.inside.wire`;
events are checked for type; the sandbox's stderr is kept only as a short quoted tail.
"""

from __future__ import annotations

import json
import os
import pickle
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import bwrap
from .inside import channel

__all__ = ["Limits", "SandboxResult", "run_notebook", "ISOLATIONS", "MAX_RESTARTS"]

ISOLATIONS = ("bwrap", "process")
MAX_RESTARTS = 3
FILE_LIMIT = 64 * 2**20


@dataclass
class Limits:
    """timeout: wall-clock seconds for the whole submission; cell_timeout: per learner cell;
    exercise_timeout: per exercise and test set; memory: MB of address space per process (0:
    none); disk: MB of the sandbox's tmpfs; processes: at most this many processes (and threads);
    files: open files per process."""

    timeout: float = 300.0
    cell_timeout: float = 60.0
    exercise_timeout: float = 60.0
    memory: int = 4096
    disk: int = 256
    processes: int = 64
    files: int = 256

    def rlimits(self) -> dict:
        return {
            "RLIMIT_AS": self.memory * 2**20 if self.memory > 0 else None,
            "RLIMIT_CPU": int(self.timeout) + 5,
            "RLIMIT_FSIZE": FILE_LIMIT,
            "RLIMIT_NOFILE": self.files,
            "RLIMIT_NPROC": self.processes,
            "RLIMIT_CORE": 0,
        }


@dataclass
class SandboxResult:
    """What came back. ``outcomes[(task, set)] = (outcomes, meta)``; ``missing[(task, set)]``:
    why there is none; ``meta[task]``: whether the function was found; ``cells``: ``errors``
    and ``skipped`` (cell index -> text), ``graded`` (the run phase finished)."""

    status: str = "ok"  # ok | timeout | crashed
    outcomes: dict = field(default_factory=dict)
    missing: dict = field(default_factory=dict)
    meta: dict = field(default_factory=dict)
    cells: dict = field(default_factory=lambda: {"errors": {}, "skipped": {}, "graded": False})
    log: str = ""
    seconds: float = 0.0
    returncode: int | None = None
    attempts: int = 0
    problem: str = ""
    timing: dict = field(default_factory=dict)  # the last attempt: ready, cells_done, done, ended (s)
    hidden_phase: bool = False  # the hidden sets had been sent in when it ended


@dataclass
class _Started:
    proc: subprocess.Popen
    folder: Path


class Batch:
    """Per batch: the grading view (built once), a private folder, and a pool of pre-started
    sandboxes: each has done its imports and waits for one job on stdin; each is used by one
    submission (one attempt) only and then ends, so nothing passes from one learner to the next."""

    def __init__(self, view: str, root: str, isolation: str = "bwrap", limits: Limits | None = None,
                 prestart: bool = True):
        self.view, self.root, self.isolation = view, root, isolation
        self.limits = limits or Limits()
        self.prestart = prestart
        self.stage = tempfile.mkdtemp(prefix="course-stage-")
        self.pool: queue.SimpleQueue = queue.SimpleQueue()
        self.lock = threading.Lock()
        self.closed = False
        self.expected = None  # submissions still to come (None: unknown, always keep one ready)

    def warm(self, n: int, submissions: int | None = None) -> None:
        """Start ``n`` sandboxes now; ``submissions``: how many will be taken in all (so that no
        sandbox is started that nobody will use)."""
        self.expected = submissions
        for _ in range(max(0, n)):
            self.pool.put(self._start())

    def command(self, folder: Path) -> list[str]:
        if self.isolation == "bwrap":
            return bwrap.command(self.view, str(folder), disk_mb=self.limits.disk, stage=self.stage,
                                 argv=["-m", "course.instructor.sandbox.inside.box", "-"])
        return [sys.executable, "-m", "course.instructor.sandbox.inside.box", "-"]

    def _environment(self, folder: Path) -> dict:
        env = bwrap.environment(self.limits.disk)
        if self.isolation == "process":
            cwd = folder / "work"
            cwd.mkdir(exist_ok=True)
            env = {**env, "PYTHONPATH": self.view, "HOME": str(cwd), "TMPDIR": str(cwd),
                   "MPLCONFIGDIR": str(cwd / ".mpl"), "IPYTHONDIR": str(cwd / ".ipython"),
                   "COURSE_PROGRESS_FILE": str(cwd / "progress.json")}
        return env

    def _start(self) -> _Started:
        folder = Path(tempfile.mkdtemp(prefix="box-", dir=self.root))
        os.chmod(folder, 0o755)
        proc = subprocess.Popen(self.command(folder), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=self._environment(folder), cwd=str(folder),
                                start_new_session=True)
        return _Started(proc, folder)

    def check(self) -> str | None:
        """The start-up check, before any learner is graded: ``None`` when a sandbox starts here
        and imports everything it needs (IPython, NumPy, the run phase), else the cause."""
        folder = Path(tempfile.mkdtemp(prefix="probe-", dir=self.root))
        os.chmod(folder, 0o755)
        if self.isolation == "bwrap":
            return bwrap.problem(self.view, str(folder), self.stage)
        try:
            r = subprocess.run([sys.executable, *bwrap.PREFLIGHT], capture_output=True, text=True, timeout=120,
                               stdin=subprocess.DEVNULL, env=self._environment(folder), cwd=str(folder))
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"the grading process could not start ({exc})"
        if r.returncode == 0 and r.stdout.strip() == "ok":
            return None
        return bwrap.python_problem((r.stderr.strip().splitlines() or ["no message"])[-1][:300])

    def take(self) -> _Started:
        """A sandbox for one attempt (a pre-started one if there is one), and a new one started
        in the background for the next."""
        try:
            box = self.pool.get_nowait()
        except queue.Empty:
            box = self._start()
        with self.lock:
            if self.expected is not None:
                self.expected -= 1
            wanted = self.expected is None or self.expected > self.pool.qsize()
            if self.prestart and not self.closed and wanted:
                self.pool.put(self._start())
        return box

    def close(self) -> None:
        with self.lock:
            self.closed = True
        while True:
            try:
                box = self.pool.get_nowait()
            except queue.Empty:
                break
            _kill(box.proc)
            for f in (box.proc.stdin, box.proc.stdout, box.proc.stderr):
                f.close()
            shutil.rmtree(box.folder, ignore_errors=True)
        shutil.rmtree(self.stage, ignore_errors=True)


def _kill(proc: subprocess.Popen) -> None:
    """End the sandbox: its process group (bubblewrap's PID namespace ends with its first
    process; a plain child's stragglers that left the group are the weaker mode's limit)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


class _Watch:
    """Scans the frames as they arrive, for the per-cell and per-exercise deadlines."""

    def __init__(self, job: dict, deadline: float, send_hidden=None):
        self.job, self.end, self.pos, self.deadline = job, deadline, 0, deadline
        self.send_hidden = send_hidden  # called once, at the first "visible_done" after "cells_done"
        self.cells_done = False
        self.cutoff = None  # where in the stream the hidden sets were sent
        self.frames = 0
        self.started = time.monotonic()
        self.timing: dict = {}  # event -> seconds after the start, as the grader saw them

    def __call__(self, data: bytes) -> float:
        while self.frames < channel.MAX_FRAMES:
            try:
                found = channel.frame_at(data, self.pos)
            except channel.FrameError:  # the parse after the run stops there too
                break
            if found is None:  # the frame has not fully arrived yet
                break
            self.frames += 1
            kind, start, self.pos = found
            if kind == b"J" and self.pos - start < 4096:
                try:
                    ev = json.loads(data[start:self.pos])
                except ValueError:
                    ev = {}
                self._event(ev if isinstance(ev, dict) else {})
        return self.deadline

    def _event(self, ev: dict) -> None:
        now, slack = time.monotonic(), 5.0
        if ev.get("event") in ("job", "cells_done", "done"):
            self.timing.setdefault(ev["event"], round(now - self.started, 3))
        if ev.get("event") == "cell" and ev.get("phase") == "start":
            self.deadline = min(self.end, now + float(self.job["cell_timeout"]) + slack)
        elif ev.get("event") == "task" and isinstance(ev.get("task"), int) and 0 <= ev["task"] < len(self.job["tasks"]):
            n = max(1, len(self.job["tasks"][ev["task"]]["sets"]))
            self.deadline = min(self.end, now + n * float(self.job["exercise_timeout"]) + slack)
        elif ev.get("event") in ("cell", "cells_done", "ready", "job"):
            self.deadline = self.end
            self.cells_done = self.cells_done or ev.get("event") == "cells_done"
        elif ev.get("event") == "visible_done" and self.cells_done and self.cutoff is None:
            self.cutoff = self.pos
            self.deadline = self.end
            if self.send_hidden is not None:
                self.send_hidden()


def _write(pipe, data: bytes) -> None:
    """Write and close in a thread of its own: a sandbox that does not read cannot block the grader
    (its pipe breaks when the sandbox is ended)."""
    def go():
        try:
            pipe.write(len(data).to_bytes(8, "big") + data)
            pipe.close()
        except (OSError, ValueError):
            pass

    threading.Thread(target=go, daemon=True).start()


def _attempt(batch: Batch, job: dict, hidden: dict, limits: Limits, deadline: float):
    box = batch.take()
    proc = box.proc
    try:
        if batch.isolation == "process":
            job = {**job, "cwd": str(box.folder / "work")}
        watch = _Watch(job, deadline, lambda: _write(proc.stdin, pickle.dumps(hidden)))
        try:
            proc.stdin.write(len(data := pickle.dumps(job)).to_bytes(8, "big") + data)
            proc.stdin.flush()
        except OSError:  # the sandbox ended before it got its job
            pass
        try:
            out, log, why = channel.read_process(proc, deadline, watch=watch)
        finally:
            _kill(proc)
            proc.stdout.close()
            proc.stderr.close()
        watch.timing["ended"] = round(time.monotonic() - watch.started, 3)
        return out, log.decode("utf-8", "replace"), why, proc.returncode, watch.timing, watch.cutoff
    finally:
        shutil.rmtree(box.folder, ignore_errors=True)


def _merge(res: SandboxResult, tasks: list, data: bytes, cutoff: int | None) -> tuple[int | None, bool, bool]:
    """Read the frames into ``res``; returns ``(cell running when it stopped, in the run phase,
    done)``. After ``cutoff`` (where the hidden sets were sent in) only hidden results count:
    nothing the learner may see comes from code that had the hidden cases."""
    from .inside import wire

    frames = channel.Frames(data if cutoff is None else data[:cutoff])
    after = channel.Frames(data[cutoff:]) if cutoff is not None else channel.Frames(b"")
    hidden = {(t, s) for t, task in enumerate(tasks) for s, h in enumerate(task.get("hidden", ())) if h}
    events = [(ev, arrays, False) for ev, arrays in frames.events]
    events += [(ev, arrays, True) for ev, arrays in after.events if ev.get("event") == "done"
               or (ev.get("event") == "result" and (ev.get("task"), ev.get("set")) in hidden)]
    running, in_run, done = None, False, False
    for ev, arrays, late in events:
        kind = ev.get("event")
        if kind == "cell" and isinstance(ev.get("index"), int):
            running = ev["index"] if ev.get("phase") == "start" else None
            err = ev.get("error")
            if ev.get("phase") == "end" and isinstance(err, str) and err:
                res.cells["errors"][ev["index"]] = wire.clean_text(err[:400])
        elif kind == "cells_done":
            in_run, running = True, None
        elif kind == "task" and isinstance(ev.get("task"), int) and 0 <= ev["task"] < len(tasks):
            meta = ev.get("meta")
            res.meta[ev["task"]] = {k: meta.get(k) for k in ("found", "callable")} if isinstance(meta, dict) else None
            if res.meta[ev["task"]] is not None:
                res.meta[ev["task"]]["type"] = wire.clean_text(str(meta.get("type"))[:40])
        elif kind == "result":
            t, s = ev.get("task"), ev.get("set")
            if not (isinstance(t, int) and isinstance(s, int) and 0 <= t < len(tasks)
                    and 0 <= s < len(tasks[t]["sets"])) or (t, s) in res.outcomes or ((t, s) in hidden) != late:
                continue
            try:
                doc = ev.get("doc")
                if not isinstance(doc, str):
                    raise wire.WireError("no outcomes document")
                res.outcomes[(t, s)] = wire.decode(doc.encode("utf-8"), arrays)
            except wire.WireError as exc:
                res.missing[(t, s)] = f"unreadable result ({exc})"
        elif kind == "done":
            done = True
    if frames.problem or after.problem:
        res.problem = frames.problem or after.problem
    res.hidden_phase = cutoff is not None
    return running, in_run, done


def run_notebook(cells: list, tasks: list, limits: Limits, *, batch: Batch) -> SandboxResult:
    """Run ``cells`` (``(index, source)``) and then the run phase of ``tasks`` (dicts: exercise,
    protocol, function, forward, sets = [(label, cases)]) in a sandbox."""
    res = SandboxResult()
    start = time.monotonic()
    end = start + limits.timeout
    skip: dict = {}
    visible = [{**task, "sets": [(label, None if h else c) for (label, c), h in
                                 zip(task["sets"], task.get("hidden", [False] * len(task["sets"])))]}
               for task in tasks]
    hidden = {(t, s): task["sets"][s] for t, task in enumerate(tasks)
              for s, h in enumerate(task.get("hidden", ())) if h}
    job = {"cells": cells, "tasks": visible, "cell_timeout": limits.cell_timeout, "cwd": "/tmp/work",
           "exercise_timeout": limits.exercise_timeout, "rlimits": limits.rlimits()}
    while True:
        res.attempts += 1
        data, res.log, why, res.returncode, res.timing, cutoff = _attempt(
            batch, {**job, "skip": sorted(skip)}, hidden, limits, end)
        running, in_run, done = _merge(res, tasks, data, cutoff)
        if done:
            res.cells["graded"] = True
            break
        if why == "limit":
            res.status, res.problem = "crashed", f"sent more than {channel.MAX_STREAM >> 20} MB"
            break
        timed_out = time.monotonic() >= end - 0.5
        if running is not None and not in_run and res.attempts <= MAX_RESTARTS and not timed_out:
            hung = why == "deadline"
            skip[running] = (f"ran longer than {limits.cell_timeout:g} s and did not stop when interrupted"
                             if hung else "stopped the sandbox (a crash, os._exit, or over a limit)")
            res.cells["errors"].pop(running, None)
            continue
        res.status = "timeout" if timed_out else "crashed"
        break
    res.cells["skipped"] = skip
    res.seconds = time.monotonic() - start
    return res
