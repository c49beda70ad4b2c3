"""One submission in its own process and its own Jupyter kernel, with limits.

Parent side, :func:`run_notebook` (in the grader's process):

1. makes a fresh temporary folder: the kernel's working directory and HOME, a private copy of the
   ``course`` package (what the learner's code sees as ``course.__file__``), a kernelspec that
   starts this very Python, and the job (the cells to run and the grader's cases: pure data);
2. starts ``python -m course.instructor.sandbox JOB`` in a new session, with a small environment
   (one BLAS thread, Agg plots, progress file in the folder);
3. waits at most ``timeout`` seconds, then kills the driver's and the kernel's process groups (and
   any process left in their sessions);
4. reads the outcome files with :mod:`course.instructor.wire` (no pickle) and deletes the folder.

Driver side, :func:`main` (in the child): sets the limits (address space ``memory`` MB, CPU
seconds, file size, no core dumps), which the kernel inherits, starts a kernel with nbclient and
runs the code cells one by one, errors allowed, each under a per-cell timeout; outputs are thrown
away as they arrive (nothing printed counts, and a flood of output cannot fill memory). A cell
that kills the kernel (``os._exit``, a segfault from deep recursion) or hangs past an interrupt
gets the kernel restarted, the earlier cells run again, and that cell skipped. Then the last cell
runs :func:`course.instructor.kernel.grade`.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Limits", "SandboxResult", "run_notebook", "main"]

FILE_LIMIT = 64 * 2**20  # bytes any one file written in the sandbox may have
LOG_TAIL = 4000  # characters of the driver's log kept for the report
_MAX_RESTARTS = 3


@dataclass
class Limits:
    """timeout: wall-clock seconds for the whole submission; cell_timeout: per learner cell;
    exercise_timeout: per exercise and test set in the grading cell; memory: MB of address space
    per process (0: no limit)."""

    timeout: float = 300.0
    cell_timeout: float = 60.0
    exercise_timeout: float = 60.0
    memory: int = 4096


@dataclass
class SandboxResult:
    """What came back from the sandbox. ``outcomes[(task, set)] = (outcomes, meta)``;
    ``missing[(task, set)]`` = why there is none; ``meta[task]`` = the function's description."""

    status: str = "ok"  # ok | timeout | crashed
    outcomes: dict = field(default_factory=dict)
    missing: dict = field(default_factory=dict)
    meta: dict = field(default_factory=dict)
    cells: dict = field(default_factory=dict)  # what the driver reported about the learner's cells
    log: str = ""
    seconds: float = 0.0
    returncode: int | None = None


# ---------------------------------------------------------------------------------------------
# Parent side


def _package_dir() -> Path:
    import course

    return Path(course.__file__).resolve().parent


def _env(tmp: Path) -> dict:
    keep = ("PATH", "LANG", "LC_ALL", "VIRTUAL_ENV", "CONDA_PREFIX", "SYSTEMROOT")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env.setdefault("LANG", "C.UTF-8")
    env.update({
        "HOME": str(tmp / "home"),
        "TMPDIR": str(tmp / "tmp"),
        "PYTHONPATH": str(tmp / "pkg"),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": str(tmp / "tmp" / "mpl"),
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "MALLOC_ARENA_MAX": "2",
        "JUPYTER_PATH": str(tmp / "jupyter"),
        "JUPYTER_CONFIG_DIR": str(tmp / "jupyter" / "config"),
        "JUPYTER_RUNTIME_DIR": str(tmp / "jupyter" / "runtime"),
        "JUPYTER_PLATFORM_DIRS": "1",
        "IPYTHONDIR": str(tmp / "home" / ".ipython"),
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        "COURSE_PROGRESS_FILE": str(tmp / "home" / "progress.json"),
        "COURSE_CHECK_SEED": "0",
    })
    return env


def _prepare(tmp: Path, job: dict) -> None:
    for sub in ("home", "tmp", "work", "out", "jupyter/kernels/course-grade", "jupyter/runtime"):
        (tmp / sub).mkdir(parents=True, exist_ok=True)
    shutil.copytree(_package_dir(), tmp / "pkg" / "course", ignore=shutil.ignore_patterns("__pycache__"))
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}",
                 "--HistoryManager.enabled=False"],
        "display_name": "course grading",
        "language": "python",
    }
    (tmp / "jupyter/kernels/course-grade/kernel.json").write_text(json.dumps(spec))
    with open(tmp / "job.pkl", "wb") as fh:
        pickle.dump(job, fh)


def _sessions_alive(sids: set) -> list[int]:
    pids = []
    proc = Path("/proc")
    if not proc.is_dir():
        return pids
    for entry in proc.iterdir():
        if entry.name.isdigit():
            try:
                if os.getsid(int(entry.name)) in sids:
                    pids.append(int(entry.name))
            except OSError:
                pass
    return pids


def _kill_all(proc: subprocess.Popen, tmp: Path) -> None:
    """Kill the driver's session, the kernel's, and anything left in them."""
    sids = {proc.pid}
    try:
        kpid = int((tmp / "kernel.pid").read_text()[:20])
        if kpid > 1:
            sids.add(kpid)
    except (OSError, ValueError):
        pass
    for sid in sids:
        try:
            os.killpg(sid, signal.SIGKILL)
        except OSError:
            pass
    for pid in _sessions_alive(sids):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def _tail(path: Path) -> str:
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - LOG_TAIL))
            return fh.read().decode("utf-8", "replace")
    except OSError:
        return ""


def _read_json(path: Path, limit: int = 2**20):
    from .wire import WireError, _regular_file

    try:
        return json.loads(_regular_file(path, limit).decode("utf-8"))
    except (WireError, ValueError, RecursionError):
        return None


def run_notebook(cells: list, tasks: list, limits: Limits, *, keep: bool = False) -> SandboxResult:
    """Run ``cells`` (``(index, source)`` of the code cells to execute) in a fresh kernel, then the
    run phase of ``tasks`` (dicts: exercise, function, forward, sets = [(label, cases)])."""
    from . import wire

    res = SandboxResult()
    tmp = Path(tempfile.mkdtemp(prefix="course-grade-"))
    start = time.monotonic()
    try:
        job = {
            "cells": cells,
            "tasks": tasks,
            "out": str(tmp / "out"),
            "cell_timeout": limits.cell_timeout,
            "exercise_timeout": limits.exercise_timeout,
            "deadline": limits.timeout,
            "memory": limits.memory,
            "status": str(tmp / "status.json"),
            "kernel_pid": str(tmp / "kernel.pid"),
        }
        _prepare(tmp, job)
        with open(tmp / "driver.log", "wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "course.instructor.sandbox", str(tmp / "job.pkl")],
                cwd=tmp / "work",
                env=_env(tmp),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                res.returncode = proc.wait(timeout=limits.timeout)
            except subprocess.TimeoutExpired:
                res.status = "timeout"
            finally:
                _kill_all(proc, tmp)
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    pass
        if res.status == "ok" and res.returncode != 0:
            res.status = "crashed"
        res.log = _tail(tmp / "driver.log")
        status = _read_json(tmp / "status.json")
        res.cells = status if isinstance(status, dict) else {}
        out = tmp / "out"
        for t, task in enumerate(tasks):
            meta = _read_json(out / f"t{t}.meta.json")
            res.meta[t] = meta if isinstance(meta, dict) else None
            for s, _ in enumerate(task["sets"]):
                path = out / f"t{t}_s{s}.json"
                if not os.path.lexists(path):
                    res.missing[(t, s)] = "no result"
                    continue
                try:
                    res.outcomes[(t, s)] = wire.load(path)
                except wire.WireError as exc:
                    res.missing[(t, s)] = f"unreadable result ({exc})"
    finally:
        res.seconds = time.monotonic() - start
        if not keep:
            shutil.rmtree(tmp, ignore_errors=True)
    return res


# ---------------------------------------------------------------------------------------------
# Driver side (the child process)


def _limit(memory_mb: int, cpu_seconds: float) -> None:
    import resource

    def set_limit(which, value):
        try:
            soft, hard = resource.getrlimit(which)
            value = value if hard == resource.RLIM_INFINITY else min(value, hard)
            resource.setrlimit(which, (value, hard))
        except (ValueError, OSError):
            pass

    if memory_mb > 0:
        set_limit(resource.RLIMIT_AS, int(memory_mb) * 2**20)
    set_limit(resource.RLIMIT_CPU, int(cpu_seconds) + 1)
    set_limit(resource.RLIMIT_FSIZE, FILE_LIMIT)
    set_limit(resource.RLIMIT_CORE, 0)


def _client_class():
    from nbclient import NotebookClient

    class QuietClient(NotebookClient):
        """Keeps no outputs but the names of errors (nothing printed counts)."""

        def output(self, outs, msg, display_id, cell_index):
            if msg.get("msg_type") == "error":
                content = msg.get("content", {})
                name, value = str(content.get('ename', ''))[:100], str(content.get('evalue', ''))[:300]
                self.errors[cell_index] = f"{name}: {value}"
            return None

        def clear_output(self, outs, msg, cell_index):
            return None

        def handle_comm_msg(self, outs, msg, cell_index):
            return None

    return QuietClient


def main(job_path: str) -> int:
    """The child: run the learner's cells and the grading cell in a fresh kernel (see module doc)."""
    # jsonschema's optional URI-format support takes ~2 s to import; the driver checks no formats
    sys.modules.setdefault("rfc3987_syntax", None)
    import nbformat
    from nbclient.exceptions import DeadKernelError

    with open(job_path, "rb") as fh:
        job = pickle.load(fh)
    started = time.monotonic()
    deadline = started + float(job["deadline"])
    _limit(int(job["memory"]), float(job["deadline"]) + 5)
    status: dict = {"errors": {}, "skipped": {}, "restarts": 0, "graded": False}

    def save_status():
        try:
            tmp_path = job["status"] + ".tmp"
            with open(tmp_path, "w") as fh:
                json.dump(status, fh)
            os.replace(tmp_path, job["status"])
        except OSError:
            pass

    cells = job["cells"]
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for _, source in cells]
    grade_src = f"import course.instructor.kernel as _course_grade\n_course_grade.grade({job_path!r}, globals())"
    nb.cells.append(nbformat.v4.new_code_cell(grade_src))
    Client = _client_class()

    def new_client():
        client = Client(nb, kernel_name="course-grade", allow_errors=True, interrupt_on_timeout=True,
                        timeout=int(job["cell_timeout"]), startup_timeout=60, shutdown_kernel="immediate",
                        resources={"metadata": {"path": os.getcwd()}}, store_widget_state=False)
        client.errors = {}
        client.km = client.create_kernel_manager()
        client.km.transport = "ipc"  # local sockets in the sandbox's folder, not TCP ports
        client.km.ip = str(Path(job["out"]).parent / "jupyter" / "runtime" / "kernel")
        client.start_new_kernel()
        client.start_new_kernel_client()
        try:
            pid = client.km.provisioner.process.pid
            Path(job["kernel_pid"]).write_text(str(pid))
        except Exception:
            pass
        return client

    def responsive(client) -> bool:
        try:
            msg_id = client.kc.execute("pass", store_history=False)
            reply = client.kc.get_shell_msg(timeout=5)
            while reply["parent_header"].get("msg_id") != msg_id:
                reply = client.kc.get_shell_msg(timeout=5)
            return True
        except Exception:
            return False

    bad: set = set()  # cells that killed or hung the kernel: skipped from then on
    client = new_client()
    status["kernel_started_s"] = round(time.monotonic() - started, 3)
    position = 0
    try:
        while position < len(nb.cells):
            is_grading = position == len(nb.cells) - 1
            remaining = deadline - time.monotonic()
            if position in bad:
                position += 1
                continue
            client.timeout = max(1, int(remaining - 2 if is_grading else min(job["cell_timeout"], remaining)))
            t0 = time.monotonic()
            failed, why = False, ""
            try:
                client.execute_cell(nb.cells[position], position, store_history=False)
                timed_out = time.monotonic() - t0 >= client.timeout - 0.5
                if timed_out and not is_grading:
                    client.errors[position] = f"Timeout: ran longer than {client.timeout} s (interrupted)"
                    bad.add(position)  # not run again if the kernel has to be restarted later
                    if not responsive(client):
                        failed, why = True, f"ran longer than {client.timeout} s and did not stop when interrupted"
            except DeadKernelError:
                failed, why = True, "stopped the kernel (a crash, or over the memory limit)"
            if not is_grading:
                original = cells[position][0]
                if position in client.errors:
                    status["errors"][str(original)] = client.errors.pop(position)
                if failed:
                    status["skipped"][str(original)] = why
            save_status()
            if failed and status["restarts"] < _MAX_RESTARTS and not is_grading:
                bad.add(position)
                status["restarts"] += 1
                try:
                    client._cleanup_kernel()
                except Exception:
                    pass
                client = new_client()
                position = 0  # run the earlier cells again (skipping the bad ones)
                continue
            if failed and is_grading:
                status["grading_error"] = why
            if is_grading:
                status["grading_s"] = round(time.monotonic() - t0, 3)
            position += 1
        status["graded"] = True
    finally:
        status["cells_done_s"] = round(time.monotonic() - started, 3)
        save_status()
        try:
            client._cleanup_kernel()
        except Exception:
            pass
        status["shutdown_s"] = round(time.monotonic() - started, 3)
        save_status()
    return 0


if __name__ == "__main__":  # pragma: no cover - run as the sandbox's child process
    sys.exit(main(sys.argv[1]))
