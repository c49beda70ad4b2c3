"""The sandbox against a determined learner: one submission per attack class, all in ONE batch,
graded twice: as root (what CI does) and as the unprivileged user ``nobody``.

Every attack notebook holds *wrong* functions (or none) plus the attack; an attack that worked
would raise its score, harm a classmate, leak a secret into an output, outlive its sandbox or
stop the batch. Two honest classmates (``correct``, ``stub``) run in the same batch and must keep
their marks. Attacks and what stops them (README, "Threat model"):

- ``clone_code``, ``exec_source``: no reference exists in the sandbox (grading view);
- ``proc_read``: a PID namespace; the solutions and the hidden file are not mounted;
- ``patch_runner``, ``forged_frames``: the run phase and its frames are the learner's to forge,
  and they carry only claimed outputs, compared in the grader; forged text is quoted as the learner's;
- ``setsid_survivor``, ``kill_all``, ``frame_hang``: a PID namespace that ends with the sandbox,
  non-blocking bounded reads, timers in the grader;
- ``raise_limits``, ``fork_bomb``, ``disk_fill``: hard limits (soft = hard), a process limit, a
  size-capped tmpfs;
- ``write_outside``: everything but the tmpfs is read-only or absent;
- ``read_env``: a cleared environment, the batch folder not mounted;
- ``loopback``: a network namespace (the grader's loopback is not the sandbox's);
- ``exfiltrate``: hidden-case feedback shows no learner-produced text;
- ``hidden_via_visible``: the hidden cases are sent in only after every visible result came out.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest
from test_instructor import (  # noqa: F401  (needs_bubblewrap: the session's check that bwrap starts)
    CORRECT,
    IMPORTS,
    LESSON,
    REPO,
    STUBS,
    WRONG,
    interleave,
    needs_bubblewrap,
    notebook,
    read_gradebook,
)

pytestmark = [pytest.mark.notebooks, pytest.mark.xdist_group("sandbox")]  # module fixtures: one worker

SECRET = "grader-secret-4f1d2c"
MARKER = "survivor-7c1e"
HIDDEN_VALUE = 123456.789

ATTACKS = {
    "clone_code": (
        "import gc, types\nimport course.grader.topics.numpy_basics as T\n"
        "cands = [o for o in gc.get_objects() if isinstance(o, types.FunctionType) and o.__name__ == 'add_bias'"
        " and 'topics' in o.__code__.co_filename]\n"
        "add_bias = types.FunctionType((cands[0] if cands else T.add_bias).__code__, globals(), 'add_bias')\n"
    ),
    "exec_source": (
        "import os, course\nfound = []\n"
        "for top in ['/', os.path.dirname(course.__file__)]:\n"
        "    for d, dirs, files in os.walk(top):\n"
        "        dirs[:] = [x for x in dirs if x not in ('proc', 'sys', 'dev', 'usr', 'lib', 'lib64')]\n"
        "        for f in files:\n"
        "            if f.endswith(('.py', '.ipynb', '.json')):\n"
        "                p = os.path.join(d, f)\n"
        "                try:\n"
        "                    t = open(p, errors='ignore').read(2_000_000)\n"
        "                except OSError:\n"
        "                    continue\n"
        "                if 'def pairwise_sq_dists' in t and 'topics' in p or 'solutions' in p:\n"
        "                    found.append(p)\n"
        "for p in found:\n"
        "    exec(compile(open(p).read(), p, 'exec'), globals())\n"
        "raise RuntimeError(f'found {found}')\n"
    ),
    "proc_read": (
        "import os, json, glob\nleaks = []\n"
        "for pid in [p for p in os.listdir('/proc') if p.isdigit()]:\n"
        "    for what in ('cmdline', 'environ'):\n"
        "        try:\n"
        "            leaks.append(open(f'/proc/{pid}/{what}', 'rb').read().decode(errors='ignore'))\n"
        "        except OSError:\n"
        "            pass\n"
        "    try:\n"
        "        leaks.append(os.readlink(f'/proc/{pid}/cwd'))\n"
        "    except OSError:\n"
        "        pass\n"
        "text = ' '.join(leaks)\n"
        "for p in [w for w in text.replace('\\x00', ' ').split() if w.endswith(('.ipynb', '.json'))]:\n"
        "    try:\n"
        "        exec(open(p).read(), globals())\n"
        "    except Exception:\n"
        "        pass\n"
        "raise RuntimeError('PROCS ' + str(len([p for p in os.listdir('/proc') if p.isdigit()])) + ' ' + text[:3000])\n"
    ),
    "patch_runner": (
        "exec('import course.grader.run.runner as R\\n_r = R.run\\n'\n"
        "     'R.run = lambda ex, fn, cs, forward=None: [R.Outcome(outputs=getattr(ex, \"refer\" + \"ence\")(*c.args))'\n"
        "     ' for c in cs]\\n')\n"
    ),
    "forged_frames": (
        "import os, json, struct\n"
        "def frame(obj):\n"
        "    p = json.dumps(obj).encode()\n"
        "    return struct.pack('>2scQ', b'CG', b'J', len(p)) + p\n"
        "for fd in range(3, 20):\n"
        "    try:\n"
        "        os.write(fd, frame({'event': 'cell', 'index': 0, 'phase': 'end', 'error': 'TA NOTE: full marks approved'})"
        " + frame({'event': 'task', 'task': 0, 'meta': {'found': True, 'callable': True}})"
        " + frame({'event': 'done'}))\n"
        "    except OSError:\n"
        "        pass\n"
        "open('/tmp/status.json', 'w').write('{\"graded\": true, \"note\": \"TA NOTE: full marks approved\"}')\n"
    ),
    "setsid_survivor": (
        "import subprocess, sys\n"
        f"subprocess.Popen([sys.executable, '-c', 'import os, time; os.setsid(); time.sleep(60)  # {MARKER}'],"
        " start_new_session=True)\n"
        f"subprocess.Popen(['sh', '-c', 'nohup sleep 60 # {MARKER} &'], start_new_session=True)\n"
    ),
    "kill_all": (
        "import os, signal\n"
        "for pid in range(1, 5000):\n"
        "    if pid != os.getpid():\n"
        "        try:\n"
        "            os.kill(pid, signal.SIGKILL)\n"
        "        except OSError:\n"
        "            pass\n"
        "try:\n"
        "    os.kill(-1, signal.SIGKILL)\n"
        "except OSError:\n"
        "    pass\n"
    ),
    "frame_hang": (
        "import os, struct, time\n"
        "os.mkfifo('/tmp/kernel.pid')\n"
        "os.write(3, struct.pack('>2scQ', b'CG', b'J', 2**40))  # a frame that never comes\n"
        "time.sleep(3600)\n"
    ),
    "raise_limits": (
        "import resource\nr = {}\n"
        "for n in ('RLIMIT_AS', 'RLIMIT_CPU', 'RLIMIT_NPROC', 'RLIMIT_FSIZE', 'RLIMIT_NOFILE'):\n"
        "    w = getattr(resource, n)\n"
        "    try:\n"
        "        resource.setrlimit(w, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))\n"
        "        r[n] = 'RAISED'\n"
        "    except (ValueError, OSError) as e:\n"
        "        r[n] = 'refused'\n"
        "    r[n + '_now'] = resource.getrlimit(w)\n"
        "raise RuntimeError('LIMITS ' + repr(r))\n"
    ),
    "fork_bomb": (
        "import os, time\nn = 0\n"
        "try:\n"
        "    for i in range(500):\n"
        "        if os.fork() == 0:\n"
        "            time.sleep(60)\n"
        "            os._exit(0)\n"
        "        n += 1\n"
        "except OSError as e:\n"
        "    raise RuntimeError(f'FORKS {n} {type(e).__name__}')\n"
        "raise RuntimeError(f'FORKS {n} unbounded')\n"
    ),
    "disk_fill": (
        "n = 0\n"
        "try:\n"
        "    for i in range(100):\n"
        "        with open(f'/tmp/fill{i}', 'wb') as fh:\n"
        "            for k in range(6):\n"
        "                fh.write(b'0' * 10 * 2**20)\n"
        "                n += 10\n"
        "except OSError as e:\n"
        "    raise RuntimeError(f'DISK {n} MB {e.strerror}')\n"
        "raise RuntimeError(f'DISK {n} MB unbounded')\n"
    ),
    "write_outside": (
        "import os, numpy, course\nres = []\n"
        "for d in [os.path.dirname(numpy.__file__), os.path.dirname(course.__file__), {repo!r}, '/usr', '/']:\n"
        "    try:\n"
        "        open(os.path.join(d, 'pwned.txt'), 'w').write('x')\n"
        "        res.append('WROTE ' + d)\n"
        "    except OSError as e:\n"
        "        res.append(e.strerror)\n"
        "raise RuntimeError('WRITES ' + repr(res))\n"
    ),
    "read_env": (
        "import os, glob\n"
        "raise RuntimeError('ENV ' + repr(dict(os.environ)) + ' ' + repr(glob.glob('/tmp/*')) + ' '"
        " + repr(os.listdir('/')) + repr(glob.glob('/opt/*')))\n"
    ),
    "loopback": (
        "import socket\nres = []\n"
        "for host in ('127.0.0.1', 'localhost'):\n"
        "    try:\n"
        "        s = socket.create_connection((host, {port}), timeout=2)\n"
        "        s.sendall(b'PWNED')\n"
        "        res.append('CONNECTED')\n"
        "    except OSError as e:\n"
        "        res.append(type(e).__name__)\n"
        "raise RuntimeError('NET ' + repr(res))\n"
    ),
    "exfiltrate": "",
    "names_the_cli": (  # the scan must import nothing named here (a nested `course grade` once started)
        "import course.cli\nfrom course.__main__ import main\nimport course.instructor.grade as g\n"
    ),
    "magic_flood": "".join(f"%time x = {i}\n" for i in range(3000)),  # quadratic for IPython's transformation
    "hidden_via_visible": (  # find the hidden cases while the cells run, to encode them in a visible output
        "import gc\n"
        "found = [o for o in gc.get_objects() if type(o).__name__ == 'Case' and 'secret' in str(getattr(o, 'note', ''))]\n"
        "raise RuntimeError(f'FOUND {len(found)}')\n"
    ),
}


FILES = ("link_to_solutions", "fifo", "a b", "a_b")
NAMED = ("=HYPERLINK(\"evil\",\"click\")", "eve\x1b]0;pwned\x07\x1b[2J\u202e")  # a formula; terminal escapes


def attack_notebook(name, source):
    if name == "exfiltrate":  # the learner's function puts its inputs into its exception text
        fn = "def add_bias(X, b):\n    raise ValueError('LEAK ' + repr(X.tolist()))\n"
        return notebook([IMPORTS, fn, *WRONG[1:]])
    return notebook([IMPORTS, *WRONG, source])


def write_batch(root: Path, port: int):
    solutions = root / "solutions"
    solutions.mkdir()
    nbformat.write(notebook(interleave(CORRECT), lesson=None), solutions / f"{LESSON}.ipynb")
    subs = root / "submissions"
    subs.mkdir()
    nbformat.write(notebook(interleave(CORRECT)), subs / "correct.ipynb")
    nbformat.write(notebook(interleave(STUBS)), subs / "stub.ipynb")
    for name, src in ATTACKS.items():
        src = src.replace("{repo!r}", repr(str(REPO))).replace("{port}", str(port))
        nbformat.write(attack_notebook(name, src), subs / f"{name}.ipynb")
    # submissions that are not regular files, and names that are attacks of their own
    (subs / "link_to_solutions.ipynb").symlink_to(solutions / f"{LESSON}.ipynb")
    os.mkfifo(subs / "fifo.ipynb")
    for name in ("a b", "a_b"):  # one cleaned file name: each keeps its own feedback page
        nbformat.write(notebook(interleave(CORRECT)), subs / f"{name}.ipynb")
    for name in NAMED:
        nbformat.write(attack_notebook("", ""), subs / f"{name}.ipynb")
    hidden = {"numpy.add_bias": {"cases": [{"args": [[[HIDDEN_VALUE, 1.0]], [0.5, 0.5]], "note": "secret note"}],
                                 "visibility": "hidden"}}
    (root / "hidden.json").write_text(json.dumps(hidden))
    return solutions, subs


class Listener:
    """A TCP server on the grader's loopback: no sandbox must reach it."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.sock.settimeout(0.5)
        self.port = self.sock.getsockname()[1]
        self.got = []
        self.stop = False
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
                self.got.append(conn.recv(100))
                conn.close()
            except OSError:
                pass

    def close(self):
        self.stop = True
        self.thread.join(2)
        self.sock.close()


def _survivors() -> list:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if MARKER.encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.append(pid)
        except OSError:
            pass
    return found


def _grade_command(user: str, root: Path, args: list) -> list:
    py = [sys.executable, "-m", "course", "grade", *map(str, args), "--no-progress"]
    if user == "root":
        return py
    import tempfile

    from course.instructor.sandbox import bwrap

    stage = tempfile.mkdtemp(prefix="course-test-stage-")  # outside the folders it makes reachable
    return bwrap._as_nobody(py, [*bwrap.python_paths(), str(REPO), str(root)], stage)


@pytest.fixture(scope="module", params=["root", "nobody"])
def attacked(request, tmp_path_factory):
    user = request.param
    if user == "root" and os.geteuid() != 0:
        pytest.skip("not running as root: the unprivileged run covers this user")
    if user == "nobody" and os.geteuid() == 0 and not (shutil.which("unshare") and shutil.which("setpriv")):
        pytest.skip("needs util-linux's unshare and setpriv to become nobody")
    root = tmp_path_factory.mktemp(f"attacks-{user}")
    listener = Listener()
    solutions, subs = write_batch(root, listener.port)
    out = root / "grades"
    if user == "nobody" and os.geteuid() == 0:
        subprocess.run(["chown", "-R", "65534:65534", str(root)], check=True)
    env = {**os.environ, "PYTHONPATH": str(REPO), "COURSE_GRADER_TEST_SECRET": SECRET, "MPLBACKEND": "Agg"}
    env.pop("COURSE_CHECK_STRICT", None)
    args = [subs, "--out", out, "--solutions", solutions, "--lesson", LESSON, "--jobs", 2, "--timeout", 60,
            "--cell-timeout", 8, "--exercise-timeout", 8, "--memory", 1500, "--seed", 4242,
            "--hidden", root / "hidden.json", "--format", "csv,json,gradescope"]
    start = time.monotonic()
    proc = subprocess.run(_grade_command(user, root, args), capture_output=True, text=True, env=env,
                          timeout=900, cwd=root)
    seconds = time.monotonic() - start
    deadline = time.monotonic() + 10  # a process killed with its sandbox may take a moment to leave /proc
    while (survivors := _survivors()) and time.monotonic() < deadline:
        time.sleep(0.1)  # polling: a real survivor (they sleep for a minute or more) is still there after 10 s
    listener.close()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    if user == "nobody":  # the grader itself ran as the unprivileged user
        assert (out / "gradebook.csv").stat().st_uid == (65534 if os.geteuid() == 0 else os.geteuid())
    details = json.loads((out / "grades.json").read_text())
    # every file written, the grader's binary records under .course/ included, scanned as text
    texts = {p.name: p.read_bytes().decode("utf-8", "replace") for p in out.rglob("*") if p.is_file()}
    return {"rows": read_gradebook(out), "json": {s["submission"]: s for s in details["submissions"]},
            "out": out, "stdout": proc.stdout, "listener": listener.got, "survivors": survivors,
            "texts": texts, "seconds": seconds, "user": user}


def _cells(batch, name) -> str:
    return json.dumps(batch["json"][name]["cell_errors"])


def _score(batch, name) -> float:
    return float(batch["rows"][name]["total"])


def test_the_batch_completes_and_classmates_keep_their_marks(attacked):
    rows = attacked["rows"]
    assert set(rows) == {"correct", "stub", *ATTACKS, *FILES, "'" + NAMED[0], NAMED[1]}
    assert rows["correct"]["total"] == "3" and rows["correct"]["status"] == "graded", rows["correct"]
    assert rows["stub"]["total"] == "0" and "not attempted" in rows["stub"]["notes"]


@pytest.mark.parametrize("name", ["clone_code", "exec_source", "proc_read", "patch_runner", "forged_frames",
                                  "setsid_survivor", "kill_all", "frame_hang", "raise_limits", "fork_bomb",
                                  "disk_fill", "write_outside", "read_env", "loopback", "exfiltrate",
                                  "hidden_via_visible", "names_the_cli", "magic_flood", "link_to_solutions",
                                  "fifo", "'" + NAMED[0], NAMED[1]])
def test_no_attack_raises_its_score(attacked, name):
    assert _score(attacked, name) == 0, attacked["rows"][name]


def test_cloned_code_and_exec_of_the_reference_find_nothing(attacked):
    assert "Withheld" in _cells(attacked, "clone_code") or "AttributeError" in _cells(attacked, "clone_code")
    assert "found []" in _cells(attacked, "exec_source")


def test_proc_shows_only_the_sandbox(attacked):
    text = _cells(attacked, "proc_read")
    assert "PROCS" in text and "solutions" not in text and "hidden.json" not in text and SECRET not in text
    n = int(text.split("PROCS ")[1].split()[0])
    assert n <= 3  # bubblewrap's init and the driver (and nothing of the grader's)


def test_forged_frames_and_status_are_quoted_learner_text(attacked):
    row = attacked["rows"]["forged_frames"]
    assert "TA NOTE" not in row["notes"] and "TA NOTE" not in row["copies"]
    fb = attacked["texts"]["forged_frames.md"]
    assert all(line.count("learner output") for line in fb.splitlines() if "TA NOTE" in line)


def test_no_process_outlives_its_sandbox(attacked):
    assert attacked["survivors"] == []


def test_killing_everything_in_sight_harms_nobody_else(attacked):
    assert attacked["rows"]["correct"]["total"] == "3"
    assert attacked["rows"]["kill_all"]["status"] in ("graded", "crashed")


def test_a_hanging_frame_and_a_fifo_do_not_hang_the_grader(attacked):
    row = attacked["rows"]["frame_hang"]
    assert row["status"] in ("graded", "timeout", "crashed")
    assert attacked["seconds"] < 600


def test_limits_cannot_be_raised(attacked):
    text = _cells(attacked, "raise_limits")
    assert "LIMITS" in text and "RAISED" not in text


def test_a_fork_bomb_is_bounded(attacked):
    text = _cells(attacked, "fork_bomb")
    assert "FORKS" in text and "unbounded" not in text
    forks = int(text.split("FORKS ")[1].split()[0])
    assert forks < 64


def test_the_disk_is_bounded(attacked):
    text = _cells(attacked, "disk_fill")
    assert "DISK" in text and "unbounded" not in text
    assert int(text.split("DISK ")[1].split()[0]) <= 256 + 10


def test_nothing_outside_the_tmpfs_is_writable(attacked):
    text = _cells(attacked, "write_outside")
    # a repository under /tmp (a CI clone) lies, inside the sandbox, on the sandbox's own tmpfs: a
    # write there is the learner's private scratch space; every other write must fail
    wrote = re.findall(r"WROTE ([^'\"\\]+)", text)
    assert "WRITES" in text and all(w.startswith("/tmp/") for w in wrote), text
    import numpy

    import course

    for d in (Path(numpy.__file__).parent, Path(course.__file__).parent, REPO, Path("/usr")):
        assert not (d / "pwned.txt").exists(), d  # nothing reached the real files
    assert not (REPO / "pwned.txt").exists() and not (REPO / "course" / "pwned.txt").exists()


def test_the_environment_and_the_batch_folder_are_out_of_reach(attacked):
    text = _cells(attacked, "read_env")
    assert "ENV" in text and SECRET not in text and "course-grade-" not in text
    assert all(SECRET not in t for t in attacked["texts"].values())


def test_no_loopback_connection_reaches_the_grader(attacked):
    assert attacked["listener"] == []
    assert "CONNECTED" not in _cells(attacked, "loopback")


def test_hidden_cases_reach_the_sandbox_only_after_every_visible_result(attacked):
    assert "FOUND 0" in _cells(attacked, "hidden_via_visible")
    assert attacked["json"]["correct"]["exercises"]["numpy.add_bias"]["sets"][-1]["hidden"] is True
    assert attacked["json"]["correct"]["exercises"]["numpy.add_bias"]["sets"][-1]["passed_cases"] == 1


def test_hidden_cases_do_not_leak_through_exception_text(attacked):
    fb = attacked["texts"]["exfiltrate.md"]
    assert str(HIDDEN_VALUE) not in fb and "secret note" not in fb
    row = attacked["rows"]["exfiltrate"]
    assert str(HIDDEN_VALUE) not in row["notes"]
    assert "LEAK" in fb  # the visible seed's cases: the learner's own message, as learner output


def test_links_and_fifos_are_refused_with_a_note(attacked):
    for name, why in (("link_to_solutions", "symbolic link"), ("fifo", "not a regular file")):
        row = attacked["rows"][name]
        assert row["status"] == "invalid" and why in row["notes"], row


def test_names_that_clean_alike_keep_their_own_pages_and_marks(attacked):
    assert attacked["rows"]["a b"]["total"] == attacked["rows"]["a_b"]["total"] == "3"
    pages = [p for p in (attacked["out"] / "feedback").iterdir() if p.name.startswith("a")]
    assert sorted(p.name for p in pages if "Feedback: a" in p.read_text())[:2] != [] and len(pages) >= 2
    assert {p.read_text().splitlines()[0] for p in pages} >= {"# Feedback: a b", "# Feedback: a_b"}


def test_names_reach_the_terminal_and_the_gradebook_quoted(attacked):
    assert "\x1b" not in attacked["stdout"] and "\u202e" not in attacked["stdout"]
    assert "'" + NAMED[0] in attacked["rows"]  # the formula guard


def test_the_scan_started_no_grader_and_the_magic_flood_is_bounded(attacked):
    assert attacked["rows"]["names_the_cli"]["status"] in ("graded", "crashed")
    assert attacked["rows"]["magic_flood"]["status"] in ("graded", "timeout", "crashed", "invalid")
