"""Grading from an ordinary install, the way the README tells instructors to set up.

One fresh virtual environment under /tmp (``python -m venv``, then the README's
``pip install -e .``: pip installs every dependency into the venv), and ``course grade`` run from
it on a class of three: the solution notebook of lesson 03 (full marks), the learner notebook (0)
and a learner who looks for the full ``course`` package wherever an install may have put it
(``sys.path``, site-packages, the editable install's finder, the distribution's file list) and
binds its reference functions (0: only the grading view exists in the sandbox). A second variant,
a non-editable ``pip install .`` into a venv made with ``--copies`` (its dependencies taken from the
base installation with ``--system-site-packages``, to keep the time down), grades the same class:
the full package that such an install puts into site-packages must not be reachable.

Each variant also runs the sandbox's own interpreter check: the same ``sys.executable`` and
``sys.prefix`` as the grader's venv, IPython from the venv.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from test_instructor import needs_bubblewrap  # noqa: F401

pytestmark = [pytest.mark.notebooks, pytest.mark.xdist_group("sandbox_install")]

REPO = Path(__file__).resolve().parents[1]
LESSON = "03_backprop"

HUNT = r'''
import glob, importlib.util, os, site, sys
roots = {p for p in sys.path if p and os.path.isdir(p)}
roots |= set(site.getsitepackages()) | {os.path.dirname(os.path.dirname(sys.executable))}
for m in list(sys.modules.values()):
    mapping = getattr(m, "MAPPING", None)
    if isinstance(mapping, dict) and isinstance(mapping.get("course"), str):
        roots.add(os.path.dirname(mapping["course"]))
try:
    import importlib.metadata as md
    for f in md.files("backprop-course") or []:
        if str(f).endswith("__init__.py") and "course" in str(f):
            roots.add(os.path.dirname(os.path.dirname(str(f.locate()))))
except Exception:
    pass
for pth in glob.glob(os.path.join(sys.prefix, "lib", "python3*", "site-packages", "*.pth")):
    for line in open(pth, errors="ignore").read().splitlines():
        if line.startswith("/") and os.path.isdir(line):
            roots.add(line)
found = sorted(r for r in roots if os.path.isfile(os.path.join(r, "course", "layers", "linear.py")))
for r in found:  # the real package first on the path, the view's modules forgotten
    sys.path.insert(0, r)
    for k in [k for k in sys.modules if k == "course" or k.startswith("course.")]:
        sys.modules.pop(k)
    importlib.invalidate_caches()
    for mod in (importlib.import_module("course.layers"), importlib.import_module("course.losses")):
        globals().update({n: getattr(mod, n) for n in dir(mod) if not n.startswith("_")})
raise RuntimeError(f"FOUND {found}")
'''

PROBE = ("import sys, IPython, course; print(sys.executable, sys.prefix, IPython.__file__, course.__file__)")


def _class(root: Path) -> Path:
    subs = root / "subs"
    subs.mkdir()
    shutil.copy(REPO / "solutions" / f"{LESSON}.ipynb", subs / "solution.ipynb")
    shutil.copy(REPO / "notebooks" / f"{LESSON}.ipynb", subs / "learner.ipynb")
    nb = nbformat.read(REPO / "notebooks" / f"{LESSON}.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(HUNT))
    nbformat.write(nb, subs / "hunter.ipynb")
    return subs


def _venv(where: Path, *flags: str, install: list) -> tuple[Path, float]:
    start = time.monotonic()
    subprocess.run([sys.executable, "-m", "venv", *flags, str(where)], check=True)
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    env.pop("PYTHONPATH", None)
    r = subprocess.run([str(where / "bin" / "python"), "-m", "pip", "install", "-q", *install], cwd=REPO,
                       capture_output=True, text=True, env=env, timeout=1200)
    if r.returncode != 0 and ("Could not find a version" in r.stderr or "connection" in r.stderr.lower()):
        pytest.skip(f"pip cannot reach a package index here: {r.stderr.strip().splitlines()[-1]}")
    assert r.returncode == 0, r.stderr[-3000:]
    return where, time.monotonic() - start


def _grade(venv: Path, root: Path, subs: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(MPLBACKEND="Agg", COURSE_FAST="1")
    out = root / "grades"
    r = subprocess.run([str(venv / "bin" / "course"), "grade", str(subs), "--out", str(out), "--jobs", "2",
                        "--solutions", str(REPO / "solutions"), "--no-progress", "--timeout", "240"],
                       capture_output=True, text=True, env=env, cwd=root, timeout=900)
    assert r.returncode == 0, r.stdout + r.stderr
    with open(out / "gradebook.csv", newline="") as fh:
        rows = {row["submission"]: row for row in csv.DictReader(fh)}
    details = json.loads((out / "grades.json").read_text())
    probe = subprocess.run([str(venv / "bin" / "python"), "-c",
                            "import sys, tempfile, os, subprocess\n"
                            "from course.instructor.sandbox import bwrap, view\n"
                            "from course.grader import registry\n"
                            "d = tempfile.mkdtemp(dir='/var/tmp'); os.chmod(d, 0o755)\n"
                            "v = str(view.build(os.path.join(d, 'v'), registry.exercises()))\n"
                            "j = os.path.join(d, 'j'); os.mkdir(j); s = os.path.join(d, 's'); os.mkdir(s)\n"
                            f"c = bwrap.command(v, j, disk_mb=64, stage=s, argv=['-c', {PROBE!r}])\n"
                            "print(subprocess.run(c, capture_output=True, text=True).stdout)\n"],
                           capture_output=True, text=True, env=env, cwd=root, timeout=300)
    return {"rows": rows, "json": {s["submission"]: s for s in details["submissions"]},
            "stdout": r.stdout, "sandbox": probe.stdout.split()}


@pytest.fixture(scope="module", params=["editable", "copies-non-editable"])
def installed(request, tmp_path_factory):
    root = tmp_path_factory.mktemp(f"install-{request.param}")
    assert str(root).startswith("/tmp/"), root  # a venv under /tmp: the sandbox's own /tmp must not hide it
    if request.param == "editable":
        venv, seconds = _venv(root / "venv", install=["-e", str(REPO)])
    else:
        venv, seconds = _venv(root / "venv", "--copies", "--system-site-packages",
                              install=["--no-deps", str(REPO)])
    print(f"{request.param}: venv built and installed in {seconds:.0f} s")
    return {"kind": request.param, "venv": venv, **_grade(venv, root, _class(root))}


def test_the_sandbox_runs_the_graders_interpreter_and_packages(installed):
    executable, prefix, ipython, course_file = installed["sandbox"]
    venv = installed["venv"]
    assert executable == str(venv / "bin" / "python") and prefix == str(venv)
    if installed["kind"] == "editable":  # every dependency is the venv's own
        assert ipython.startswith(str(venv) + "/"), ipython
    assert course_file == "/opt/course-view/course/__init__.py"


def test_solution_full_marks_learner_zero(installed):
    rows = installed["rows"]
    assert rows["solution"]["status"] == "graded", rows["solution"]
    assert float(rows["solution"]["total"]) == float(rows["solution"]["max"]) > 0, rows["solution"]
    assert float(rows["learner"]["total"]) == 0, rows["learner"]
    assert "crashed" not in installed["stdout"]


def test_the_full_package_cannot_be_found_from_the_sandbox(installed):
    rows = installed["rows"]
    assert float(rows["hunter"]["total"]) == 0, rows["hunter"]
    errors = json.dumps(installed["json"]["hunter"]["cell_errors"])
    assert "FOUND []" in errors, errors
