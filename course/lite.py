"""``course lite``: the course as a static JupyterLite site (Pyodide kernel, nothing to install).

::

    course lite --out site/            # then serve site/ from any static host (GitHub Pages)

The site is built by ``jupyter lite build`` (jupyterlite-core, the ``lite`` extra, with the
Pyodide kernel's wheel unpacked into the cache and given to the build alone: :data:`KERNEL`):

- every lesson notebook (the learner versions in ``notebooks/``), each with one first cell that,
  in the browser only (``sys.platform == "emscripten"``), installs the course with ``piplite``;
- the course as a pure-Python wheel (``pip wheel --no-deps``), served by piplite with the
  pure-Python wheels it needs that Pyodide does not ship (ipywidgets, comm, array-api-compat);
- Pyodide: by default (what an online learner needs) the official distribution of the exact
  version the kernel was built for, from its CDN (:func:`cdn_url`; its folder is Pyodide's
  ``indexURL``, so NumPy, matplotlib and the other compiled packages load from there), while the
  course and its pure-Python wheels come from the site itself (PyPI fall-back off).
- ``--pyodide PATH`` (a full Pyodide distribution: a folder or its ``.tar.bz2``) serves Pyodide
  and all its packages from the site: self-contained, it works offline.
- ``--pyodide npm`` serves the npm registry's ``pyodide`` package of that version from the site.
  That package holds only the core (the interpreter and its standard library); the pure-Python
  packages of its ``pyodide-lock.json`` are fetched from PyPI and kept only when their SHA-256
  matches the lock; compiled ones (NumPy, matplotlib, ...) are not on PyPI or npm for Pyodide, and
  :func:`build_site` lists each one still missing in ``course-lite.json`` (and prints them). The
  kernel starts offline from such a site (what the browser test checks), but a check cannot run.

The course's wheel is built by pip's isolated PEP 517 build (never with the interpreter's own
setuptools, which in a fresh venv cannot build wheels).

Downloads (``npm pack``, ``pip download``) are kept in ``--cache`` (default ``build/lite-cache``);
``--offline`` uses only what the cache holds. In the browser the course never imports
``course.instructor`` (bubblewrap, kernels) or ``mpi4py``: the lessons' imports do not reach them.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
KERNEL_ROOTS = ("micropip", "ipython", "jedi", "traitlets")  # what the Pyodide kernel installs to start
COURSE_ROOTS = ("numpy", "matplotlib", "tqdm")  # the course's dependencies that Pyodide ships
PIPLITE_EXTRA = ("ipywidgets", "comm", "jupyterlab_widgets", "array-api-compat")  # pure Python, not in the lock
REPORT = "course-lite.json"
INSTALL_CELL = """\
# In the browser (JupyterLite), install the course first; anywhere else this cell does nothing.
import sys

if sys.platform == "emscripten":
    import piplite

    await piplite.install(["numpy", "matplotlib", "ipywidgets", "tqdm", "array-api-compat"])
    await piplite.install("backprop-course", deps=False)
"""


#: The Pyodide kernel (its version fixes Pyodide's). Not installed into the environment: its
#: JupyterLab extension only works inside JupyterLite and, where JupyterLab finds it, every page
#: load logs an error. Its wheel is unpacked into the cache and given to the build alone.
KERNEL = ("jupyterlite-pyodide-kernel", "0.8.6")


def kernel_tools(cache=None, offline: bool = False) -> Path:
    """The unpacked Pyodide kernel wheel (in ``cache/kernel-<version>``), fetched once with pip."""
    import zipfile

    cache = Path(cache or REPO / "build" / "lite-cache").resolve()
    target = cache / f"kernel-{KERNEL[1]}"
    if (target / "jupyterlite_pyodide_kernel" / "constants.py").is_file():
        return target
    wheels = cache / "kernel"
    if not offline and not any(wheels.glob("*.whl")):
        wheels.mkdir(parents=True, exist_ok=True)
        _run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:", "-d", str(wheels),
              f"{KERNEL[0]}=={KERNEL[1]}"], timeout=300)  # fmt: skip
    found = sorted(wheels.glob(f"{KERNEL[0].replace('-', '_')}-{KERNEL[1]}-*.whl")) if wheels.is_dir() else []
    if not found:
        raise RuntimeError(f"course lite: no {KERNEL[0]} {KERNEL[1]} wheel in {wheels}"
                           + (" (--offline: run once online to fetch it)" if offline else ""))
    part = target.with_name(target.name + ".part")
    shutil.rmtree(part, ignore_errors=True)
    with zipfile.ZipFile(found[0]) as whl:
        whl.extractall(part)
    shutil.rmtree(target, ignore_errors=True)
    part.rename(target)
    return target


def _kernel_env(tools: Path) -> dict:
    """The build's environment: the kernel's package (and its build add-ons) importable."""
    return {**os.environ, "JUPYTERLITE_NO_LIBARCHIVE": "1",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(tools), os.environ.get("PYTHONPATH", "")]))}


def kernel_labextensions(tools: Path) -> Path:
    """The kernel's prebuilt JupyterLab extensions in its unpacked wheel. The build copies them into
    the site from here (``FederatedExtensionAddon.extra_labextensions_path``): jupyterlite-core
    otherwise looks only in ``sys.prefix``, where the kernel is deliberately not installed."""
    found = next(tools.glob("*.data/data/share/jupyter/labextensions"), None)
    if found is None or not any(found.glob("@*/*/package.json")):
        raise RuntimeError(f"course lite: the {KERNEL[0]} wheel in {tools} has no JupyterLab extension")
    return found


def extra_labextensions(tools: Path, prefix=None) -> list[str]:
    """The labextension folders to name to the build: the cached kernel's, unless this environment
    has the kernel installed (an older ``lite`` extra installed it), whose labextension the build
    finds by itself; naming it twice stops the build. An installed kernel of another version is an
    error: its extension and the cached kernel's Python side would not match."""
    installed = Path(prefix or sys.prefix) / "share" / "jupyter" / "labextensions" / "@jupyterlite" / \
        "pyodide-kernel-extension" / "package.json"
    if not installed.is_file():
        return [str(kernel_labextensions(tools))]
    version = json.loads(installed.read_text()).get("version")
    if version != KERNEL[1]:
        raise RuntimeError(f"course lite: {KERNEL[0]} {version} is installed in this environment, and course lite "
                           f"builds with {KERNEL[1]}: pip uninstall {KERNEL[0]} (course lite fetches its own)")
    return []


def pyodide_version_of(tools: Path) -> str:
    """The Pyodide version the kernel was built for (read from its constants, not imported)."""
    text = (tools / "jupyterlite_pyodide_kernel" / "constants.py").read_text()
    return re.search(r'^PYODIDE_VERSION = "([^"]+)"', text, re.M)[1]


def pyodide_version(cache=None) -> str:
    """The Pyodide version of the kernel in the cache (fetched once)."""
    return pyodide_version_of(kernel_tools(cache))


def _run(command, **kwargs):
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        raise RuntimeError(f"`{' '.join(map(str, command))}` failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return result


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def npm_runtime(cache: Path, version: str, offline: bool) -> Path | None:
    """The npm ``pyodide`` package's files (extracted into the cache), or None if not to be had."""
    target = cache / f"pyodide-npm-{version}"
    if (target / "pyodide.mjs").is_file():
        return target
    tarball = cache / f"pyodide-{version}.tgz"
    if not tarball.is_file():
        if offline or shutil.which("npm") is None:
            return None
        cache.mkdir(parents=True, exist_ok=True)
        _run(["npm", "pack", f"pyodide@{version}", "--pack-destination", str(cache)], timeout=600)
    with tarfile.open(tarball) as tar, tempfile.TemporaryDirectory(dir=cache) as tmp:
        tar.extractall(tmp, filter="data")
        shutil.move(str(Path(tmp) / "package"), target)
    return target


def lock_closure(lock: dict, roots) -> list[str]:
    """The lock's packages that ``roots`` need, dependencies included (sorted names)."""
    def key(name):  # the lock's keys and its "depends" spell names differently (prompt_toolkit)
        return re.sub(r"[-_.]+", "-", name).lower()

    packages = {key(k): k for k in lock["packages"]}
    seen, todo = set(), list(roots)
    while todo:
        name = packages.get(key(todo.pop()))
        if name is None or name in seen:
            continue
        seen.add(name)
        todo.extend(lock["packages"][name].get("depends", []))
    return sorted(seen)


def fill_runtime(runtime: Path, cache: Path, offline: bool) -> dict:
    """Put beside the core runtime the lock's wheels the kernel and the course need.

    Pure-Python wheels come from PyPI (cached; pip checks PyPI's hashes). Pyodide rebuilds these
    itself, so PyPI's wheel of the same version has another SHA-256: the lock entry is pointed at
    the file served. Returns ``{"present": [...], "from_pypi": [...], "missing": {file: why}}``.
    """
    lock_path = runtime / "pyodide-lock.json"
    lock = json.loads(lock_path.read_text())
    wheels = cache / "pypi"
    pip = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
           "--python-version", lock["info"]["python"], "--platform", "any", "-d", str(wheels)]  # fmt: skip
    present, from_pypi, missing = [], [], {}
    for name in lock_closure(lock, KERNEL_ROOTS + COURSE_ROOTS):
        entry = lock["packages"][name]
        file_name = entry["file_name"]
        if "-none-any.whl" not in file_name:
            missing[file_name] = "compiled for Pyodide: not on PyPI or npm (only in a full Pyodide distribution)"
            continue
        found = sorted(wheels.glob(f"{file_name.split('-')[0]}-{entry['version']}-*-none-any.whl"))
        if not found and not offline:
            wheels.mkdir(parents=True, exist_ok=True)
            subprocess.run([*pip, f"{entry['name']}=={entry['version']}"], capture_output=True, timeout=300)
            found = sorted(wheels.glob(f"{file_name.split('-')[0]}-{entry['version']}-*-none-any.whl"))
        if not found:
            missing[file_name] = "not in the cache (offline)" if offline else "PyPI has no wheel of this version"
            continue
        shutil.copy2(found[0], runtime / found[0].name)
        if _sha256(found[0]) != entry["sha256"] or found[0].name != file_name:
            entry.update(file_name=found[0].name, sha256=_sha256(found[0]))
            from_pypi.append(found[0].name)
        present.append(found[0].name)
    lock_path.write_text(json.dumps(lock))
    return {"present": present, "from_pypi": from_pypi, "missing": missing}


def course_wheel(dest: Path, cache: Path | None = None, offline: bool = False, python: str | None = None) -> Path:
    """The course as a pure-Python wheel (built from this source tree) by pip's PEP 517 build in an
    isolated environment: it never depends on the interpreter's own setuptools (a fresh venv's
    has no ``bdist_wheel``). The build requirements pip fetched are kept in ``cache/build``, so an
    ``offline`` build finds them there (with none cached it uses the interpreter's own)."""
    python = python or sys.executable
    tools = Path(cache or REPO / "build" / "lite-cache") / "build"
    pip = [python, "-m", "pip"]
    if not offline:
        tools.mkdir(parents=True, exist_ok=True)
        subprocess.run([*pip, "download", "-q", "--only-binary=:all:", "-d", str(tools), *build_requires()],
                       capture_output=True, timeout=300)  # fmt: skip
    if any(tools.glob("setuptools-*.whl")):
        how = ["--no-index", "--find-links", str(tools)]
    else:
        how = [] if not offline else ["--no-build-isolation"]
    _run([*pip, "wheel", "-q", "--no-deps", *how, "-w", str(dest), str(REPO)], timeout=600)
    (wheel,) = dest.glob("backprop_course-*-py3-none-any.whl")
    return wheel


def build_requires() -> list[str]:
    """``[build-system] requires`` of the course's pyproject.toml."""
    text = (REPO / "pyproject.toml").read_text()
    section = text.split("[build-system]", 1)[1].split("\n[", 1)[0]  # no tomllib before Python 3.11
    found = re.search(r"^requires\s*=\s*\[(.*?)\]", section, re.M | re.S)
    return re.findall(r"[\"']([^\"']+)[\"']", found[1]) if found else ["setuptools"]


def extra_wheels(dest: Path, cache: Path, offline: bool) -> list[Path]:
    """Pure-Python wheels piplite serves next to the course's (cached downloads)."""
    source = cache / "piplite"
    if not offline:
        source.mkdir(parents=True, exist_ok=True)
        pip = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:", "-d", str(source)]
        subprocess.run([*pip, *PIPLITE_EXTRA], capture_output=True, timeout=600)
    found = sorted(source.glob("*-none-any.whl")) if source.is_dir() else []
    for wheel in found:
        shutil.copy2(wheel, dest / wheel.name)
    return found


def lesson_contents(dest: Path, notebooks: Path) -> list[str]:
    """Copy the lesson notebooks with the install cell first; returns their names."""
    import nbformat

    from .authoring import LESSON_FILE

    dest.mkdir(parents=True, exist_ok=True)
    names = []
    for path in sorted(notebooks.glob("*.ipynb")):
        if not LESSON_FILE.match(path.name):
            continue
        nb = nbformat.read(path, as_version=4)
        cell = nbformat.v4.new_code_cell(INSTALL_CELL, metadata={"tags": ["jupyterlite-install"]})
        nb.cells.insert(0, cell)
        nbformat.write(nb, dest / path.name)
        names.append(path.name)
    return names


def cdn_url(version: str) -> str:
    """The official Pyodide distribution of ``version`` (the kernel's default): its ``pyodide.mjs``;
    the folder it is in is Pyodide's ``indexURL``, where its packages are."""
    return f"https://cdn.jsdelivr.net/pyodide/v{version}/full/pyodide.mjs"


#: ``pyodide=`` of :func:`build_site` that serves the npm core runtime from the site (no CDN)
NPM = "npm"


def _self_contained(lite_dir: Path, cache: Path, version: str, offline: bool, report: dict) -> None:
    """The npm registry's core runtime and the pure-Python wheels of its lock, in the site."""
    runtime = npm_runtime(cache, version, offline)
    if runtime is None:
        report["missing"]["pyodide runtime"] = f"npm package pyodide@{version} not in the cache and not fetched"
        return
    shutil.copytree(runtime, lite_dir / "static" / "pyodide")
    filled = fill_runtime(lite_dir / "static" / "pyodide", cache, offline)
    report["runtime"] = (f"npm pyodide@{version} core + {len(filled['present'])} pure-Python wheels "
                         f"of its lock ({len(filled['from_pypi'])} of them PyPI's build)")
    report["missing"].update(filled["missing"])


def build_site(out, *, cache=None, pyodide=None, offline=False, notebooks=None) -> dict:
    """Build the site into ``out``; returns (and writes to ``out/course-lite.json``) what it holds.

    pyodide: ``None`` (default): Pyodide and its packages from the official distribution of the
    version the kernel was built for (:func:`cdn_url`), the course and its pure-Python wheels from
    the site; a path: that full distribution, served by the site; ``"npm"``: the npm core runtime
    served by the site (the kernel starts offline; the compiled packages are listed as missing)."""
    out = Path(out).resolve()
    cache = Path(cache or REPO / "build" / "lite-cache").resolve()
    tools = kernel_tools(cache, offline)
    version = pyodide_version_of(tools)
    report = {"pyodide_version": version, "runtime": None, "index_url": None, "lessons": [], "wheels": [],
              "missing": {}}
    kernel = {"disablePyPIFallback": True}  # the course's wheels come from the site, never from PyPI
    with tempfile.TemporaryDirectory() as tmp:
        lite_dir, wheels = Path(tmp) / "lite", Path(tmp) / "wheels"
        lite_dir.mkdir()
        wheels.mkdir()
        report["lessons"] = lesson_contents(Path(tmp) / "files", Path(notebooks or REPO / "notebooks"))
        report["wheels"] = [course_wheel(wheels, cache, offline).name] + [
            w.name for w in extra_wheels(wheels, cache, offline)]
        command = [sys.executable, "-m", "jupyterlite_core", "build", "--lite-dir", str(lite_dir),
                   "--contents", str(Path(tmp) / "files"), "--output-dir", str(out),
                   "--piplite-wheels", str(wheels)]  # fmt: skip
        if pyodide is None:
            kernel["pyodideUrl"] = cdn_url(version)
            report["runtime"] = f"official Pyodide {version} distribution (CDN; the learner must be online)"
            report["index_url"] = kernel["pyodideUrl"].rsplit("/", 1)[0] + "/"
        elif str(pyodide) == NPM:
            _self_contained(lite_dir, cache, version, offline, report)
        else:  # a full distribution: everything in its lock is there
            command += ["--pyodide", str(Path(pyodide).resolve())]
            report["runtime"] = f"full distribution from {pyodide}"
        (lite_dir / "jupyter_lite_config.json").write_text(json.dumps({
            "FederatedExtensionAddon": {"extra_labextensions_path": extra_labextensions(tools)},
        }))
        (lite_dir / "jupyter-lite.json").write_text(json.dumps({
            "jupyter-lite-schema-version": 0,
            "jupyter-config-data": {
                "appName": "backprop-course",
                "exposeAppInBrowser": True,  # window.jupyterapp: what the browser tests drive
                "litePluginSettings": {"@jupyterlite/pyodide-kernel-extension:kernel": kernel},
            },
        }))  # fmt: skip
        if out.exists():
            shutil.rmtree(out)
        _run(command, cwd=lite_dir, timeout=1200, env=_kernel_env(tools))
    (out / REPORT).write_text(json.dumps(report, indent=1))
    return report


def add_arguments(parser):
    parser.add_argument("--out", default="site", help="output folder (default: site)")
    parser.add_argument("--cache", default=None, help="download cache (default: build/lite-cache)")
    parser.add_argument("--pyodide", default=None, metavar="PATH|npm",
                        help="serve Pyodide from the site: a full distribution (folder or .tar.bz2), or 'npm' for "
                             "the npm core runtime (the kernel starts offline; NumPy is missing). Default: the "
                             "official distribution of the kernel's Pyodide version, from its CDN")
    parser.add_argument("--offline", action="store_true", help="use only what the cache holds")


def run(args) -> int:
    report = build_site(args.out, cache=args.cache, pyodide=args.pyodide, offline=args.offline)
    print(f"JupyterLite site in {args.out}: {len(report['lessons'])} lessons, wheels {', '.join(report['wheels'])}")
    print(f"Pyodide {report['pyodide_version']}: {report['runtime'] or 'no runtime'}")
    for name, why in report["missing"].items():
        print(f"  missing {name}: {why}")
    if report["index_url"]:
        print(f"Pyodide's packages load from {report['index_url']}; the course's wheels from the site itself")
    if report["missing"]:
        print("Checks need these in the browser: pass a full Pyodide distribution with --pyodide, or build without "
              "--pyodide (the official distribution, online).")
    return 0
