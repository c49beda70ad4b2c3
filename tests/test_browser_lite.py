"""The JupyterLite site (``course lite``): it builds offline from the download cache, holds every
lesson and the course's wheel; by default it loads Pyodide from the official distribution of the
kernel's version (checked here as configuration: that needs the network); self-contained
(``--pyodide npm`` or a full distribution in ``$COURSE_PYODIDE``) it serves its own Pyodide
runtime, and its kernel starts in Chromium offline.

The build uses only ``$COURSE_LITE_CACHE`` (default ``build/lite-cache``), which ``.ci/run``
fills (``course lite`` with downloads); nothing is fetched here. In the browser, the site is
served from loopback and the kernel must start from the site's own files (PyPI fall-back off).
A check runs in the browser only when the site has the compiled Pyodide packages the course
needs (NumPy, matplotlib and theirs); where it does not, that test skips naming each file.
"""

from __future__ import annotations

import functools
import json
import os
import re
import subprocess
import sys
import threading
import zipfile
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import nbformat
import pytest
from _browser import REPO, TIMEOUT, artifacts_dir, keep_on_failure, launch_chromium

from course import authoring, lite

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser-lite")]  # module fixtures: one worker
CACHE = Path(os.environ.get("COURSE_LITE_CACHE") or REPO / "build" / "lite-cache")
LESSONS = sorted(p.name for p in (REPO / "notebooks").glob("*.ipynb") if authoring.LESSON_FILE.match(p.name))
BROWSER_ONLY = ("course.instructor", "mpi4py")  # what cannot work in the browser


def _kernel_or_skip():
    try:
        lite.kernel_tools(CACHE, offline=True)
    except RuntimeError as exc:
        pytest.skip(str(exc))


def test_the_lite_extra_leaves_the_kernel_out_of_the_environment():
    """The kernel's JupyterLab extension logs an error on every JupyterLab page load: the ``lite``
    extra does not install it; ``course lite`` hands it to the build alone (next tests)."""
    text = (REPO / "pyproject.toml").read_text()
    lite_extra = re.search(r"^lite = \[(.*)\]$", text, re.M)[1]
    assert "jupyterlite-core" in lite_extra and "jupyterlite-pyodide-kernel" not in lite_extra


def test_the_build_is_given_the_kernels_labextension_from_the_cache(tmp_path):
    """Without the kernel installed, jupyterlite-core finds no kernel labextension in ``sys.prefix``
    (a site built so has notebooks that never get a kernel): the unpacked wheel's is named to it."""
    _kernel_or_skip()
    found = lite.kernel_labextensions(lite.kernel_tools(CACHE, offline=True))
    assert (found / "@jupyterlite" / "pyodide-kernel-extension" / "package.json").is_file()
    (tmp_path / "empty.data" / "data" / "share" / "jupyter" / "labextensions").mkdir(parents=True)
    with pytest.raises(RuntimeError, match="has no JupyterLab extension"):
        lite.kernel_labextensions(tmp_path)


def test_an_installed_kernel_is_used_and_one_of_another_version_is_refused(tmp_path):
    """An environment where an older ``lite`` extra installed the kernel: the build finds its
    labextension there, and naming the cached one too would stop it (a duplicated task)."""
    _kernel_or_skip()
    tools = lite.kernel_tools(CACHE, offline=True)
    assert lite.extra_labextensions(tools, prefix=tmp_path) == [str(lite.kernel_labextensions(tools))]
    installed = tmp_path / "share" / "jupyter" / "labextensions" / "@jupyterlite" / "pyodide-kernel-extension"
    installed.mkdir(parents=True)
    (installed / "package.json").write_text(json.dumps({"name": "@jupyterlite/pyodide-kernel-extension",
                                                        "version": lite.KERNEL[1]}))
    assert lite.extra_labextensions(tools, prefix=tmp_path) == []
    (installed / "package.json").write_text(json.dumps({"version": "0.1.0"}))
    with pytest.raises(RuntimeError, match=r"0\.1\.0 is installed in this environment.*pip uninstall"):
        lite.extra_labextensions(tools, prefix=tmp_path)


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    pytest.importorskip("jupyterlite_core", reason="jupyterlite-core is not installed")
    _kernel_or_skip()
    out = tmp_path_factory.mktemp("lite") / "site"
    report = lite.build_site(out, cache=CACHE, offline=True, pyodide=os.environ.get("COURSE_PYODIDE") or lite.NPM)
    return out, report


@pytest.fixture(scope="session")
def online_site(tmp_path_factory):
    """The site as ``course lite`` builds it by default (offline from the cache: only its files are
    checked here; booting it needs the network)."""
    pytest.importorskip("jupyterlite_core", reason="jupyterlite-core is not installed")
    _kernel_or_skip()
    out = tmp_path_factory.mktemp("lite-online") / "site"
    return out, lite.build_site(out, cache=CACHE, offline=True)


def test_by_default_pyodide_comes_from_its_official_distribution_and_the_course_from_the_site(online_site):
    out, report = online_site
    version = lite.pyodide_version(CACHE)
    kernel = json.loads((out / "jupyter-lite.json").read_text())["jupyter-config-data"]["litePluginSettings"][
        "@jupyterlite/pyodide-kernel-extension:kernel"]
    assert kernel["pyodideUrl"] == f"https://cdn.jsdelivr.net/pyodide/v{version}/full/pyodide.mjs"
    assert report["index_url"] == f"https://cdn.jsdelivr.net/pyodide/v{version}/full/"
    assert kernel["disablePyPIFallback"] is True and report["missing"] == {}
    assert not (out / "static" / "pyodide").exists()  # nothing of Pyodide is copied into the site
    assert (out / "extensions" / "@jupyterlite" / "pyodide-kernel-extension" / "package.json").is_file()
    index = json.loads((out / "pypi" / "all.json").read_text())
    assert "backprop-course" in index


def test_the_course_wheel_builds_in_a_fresh_venv(tmp_path):
    """A fresh venv's setuptools cannot build wheels ("invalid command 'bdist_wheel'"): the wheel is
    built by pip's isolated build, with setuptools from the cache (``course lite`` keeps it there)."""
    import venv

    if not any((CACHE / "build").glob("setuptools-*.whl")):
        pytest.skip(f"no setuptools wheel in {CACHE / 'build'} (course lite online puts it there)")
    venv.EnvBuilder(with_pip=True).create(tmp_path / "venv")
    python = str(tmp_path / "venv" / "bin" / "python")
    wheel = lite.course_wheel(tmp_path / "wheels", CACHE, offline=True, python=python)
    assert wheel.name == "backprop_course-0.1.0-py3-none-any.whl"


def test_the_site_holds_every_lesson_with_the_install_cell_first(site):
    out, report = site
    assert (out / "index.html").is_file() and (out / "lab" / "index.html").is_file()
    assert report["lessons"] == LESSONS
    for name in LESSONS:
        nb = nbformat.read(out / "files" / name, as_version=4)
        first = nb.cells[0]
        assert "jupyterlite-install" in first.metadata.get("tags", []) and "piplite.install" in first.source
        source = nbformat.read(REPO / "notebooks" / name, as_version=4)
        assert [c.source for c in nb.cells[1:]] == [c.source for c in source.cells], name


def test_the_course_wheel_is_pure_python_and_served_by_piplite(site):
    out, _ = site
    index = json.loads((out / "pypi" / "all.json").read_text())
    (release,) = index["backprop-course"]["releases"].values()
    (wheel_file,) = [f for f in release if f["filename"].endswith("-py3-none-any.whl")]
    with zipfile.ZipFile(out / "pypi" / wheel_file["filename"]) as wheel:
        names = wheel.namelist()
    assert "course/grader/report.py" in names and "course/widgets/optimizer_race.py" in names
    assert not [n for n in names if n.endswith((".so", ".pyd"))]
    for extra in ("ipywidgets", "comm", "array-api-compat"):
        assert extra in index, f"piplite does not serve {extra}"


def test_the_site_serves_its_own_runtime_and_never_falls_back_to_pypi(site):
    out, report = site
    settings = json.loads((out / "jupyter-lite.json").read_text())["jupyter-config-data"]["litePluginSettings"]
    kernel = settings["@jupyterlite/pyodide-kernel-extension:kernel"]
    assert kernel["disablePyPIFallback"] is True
    if report["runtime"] is None:
        pytest.skip(f"no Pyodide runtime in the cache {CACHE}: {report['missing']}")
    assert kernel["pyodideUrl"] == "./static/pyodide/pyodide.mjs"
    assert (out / "static" / "pyodide" / "pyodide.asm.wasm").is_file()
    lock = json.loads((out / "static" / "pyodide" / "pyodide-lock.json").read_text())
    for name in lite.lock_closure(lock, lite.KERNEL_ROOTS):  # the kernel's own packages are all there
        assert (out / "static" / "pyodide" / lock["packages"][name]["file_name"]).is_file(), name
    # what is missing is named, and it is only what Pyodide compiles
    assert all("pyemscripten" in f or "pyodide" in f for f in report["missing"]), report["missing"]


@pytest.mark.parametrize("lesson", LESSONS)
def test_a_lessons_imports_reach_nothing_that_cannot_run_in_the_browser(lesson):
    source = "\n".join(c.source for c in nbformat.read(REPO / "notebooks" / lesson, as_version=4).cells if c.cell_type == "code")
    imports = [line.strip() for line in source.splitlines() if re.match(r"^(from course|import course)\b", line)]
    code = "\n".join([*imports, "import sys", f"print([m for m in {BROWSER_ONLY!r} if m in sys.modules])"])
    env = {**os.environ, "PYTHONPATH": str(REPO), "MPLBACKEND": "Agg"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "[]", f"{lesson} imports {result.stdout.strip()} (it cannot work in JupyterLite)"


class _Quiet(SimpleHTTPRequestHandler):
    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, ".wasm": "application/wasm", ".mjs": "text/javascript"}

    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def served(site):
    out, report = site
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(out)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", report
    server.shutdown()


_RUN_CELL = """async ([code, ms]) => {
  const app = window.jupyterapp || window.jupyterlab;
  const nb = [...app.shell.widgets('main')].find((w) => w.sessionContext);
  const run = async () => {
    await nb.context.ready; await nb.sessionContext.ready;
    const future = nb.sessionContext.session.kernel.requestExecute({code});
    const out = [];
    future.onIOPub = (msg) => { const c = msg.content; out.push(c.text || c.evalue || (c.data && c.data['text/plain']) || ''); };
    const reply = await future.done;
    return {status: reply.content.status, output: out.join('')};
  };
  const late = new Promise((ok) => setTimeout(() => ok({status: `no reply within ${ms / 1000} s`, output: ''}), ms));
  return Promise.race([run(), late]);
}"""

_KERNEL_STARTED = """() => { const app = window.jupyterapp || window.jupyterlab; return !!app &&
  [...app.shell.widgets('main')].some((w) => w.sessionContext && w.sessionContext.session); }"""


def run_cell(page, code: str) -> dict:
    """Execute ``code`` in the page's kernel: ``{status, output}`` (the status says when no reply came)."""
    return page.evaluate(_RUN_CELL, [code, TIMEOUT * 1e3])


@pytest.fixture(scope="module")
def lite_page(served):
    """Lesson 01 open in the served site, its kernel started; ``(page, first cell's result, requests
    that left the site)``. Module-scoped: its Playwright loop ends with this module, so later tests
    may start their own. Its console is logged for the failure artifacts (``_lite_evidence``)."""
    from playwright.sync_api import sync_playwright

    url, report = served
    if report["runtime"] is None:
        pytest.skip(f"no Pyodide runtime in the cache {CACHE}")
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(TIMEOUT * 1e3)
        outside, console = [], []
        page.on("request", lambda r: outside.append(r.url) if not r.url.startswith((url, "data:", "blob:")) else None)
        page.on("console", lambda m: console.append(f"console.{m.type}: {m.text}"))
        page.on("pageerror", lambda e: console.append(f"page error: {e}"))
        _LIVE.update(page=page, console=console)
        page.goto(f"{url}/lab/index.html?path=01_forward_pass.ipynb", wait_until="commit")
        try:
            page.wait_for_function(_KERNEL_STARTED, timeout=TIMEOUT * 1e3)
        except Exception as exc:
            raise AssertionError(f"waited {TIMEOUT:.0f} s for JupyterLite to open lesson 01 with a kernel session") from exc
        result = run_cell(page, "import sys; print(sys.platform, sys.version_info[:2])")
        page.screenshot(path=str(artifacts_dir() / "jupyterlite-01_forward_pass.png"))
        yield page, result, outside
        _LIVE.clear()
        browser.close()


_LIVE: dict = {}  # the open JupyterLite page and its console log, while lite_page is alive


@pytest.fixture(autouse=True)
def _lite_evidence(request):
    """A failing test of this module keeps the JupyterLite page's screenshot and console log."""

    def write():
        if "page" not in _LIVE:
            return []
        stem = artifacts_dir() / f"jupyterlite-{request.node.name}"
        shot, log = stem.with_suffix(".png"), stem.with_suffix(".console.log")
        log.write_text("\n".join(_LIVE["console"]) + "\n")
        _LIVE["page"].screenshot(path=str(shot), timeout=60_000)
        return [shot, log]

    keep_on_failure(request.node, write)


def test_a_lesson_opens_in_jupyterlite_and_its_kernel_runs_offline(lite_page):
    _, result, outside = lite_page
    assert result["status"] == "ok" and result["output"].startswith("emscripten"), result
    assert not outside, f"the site loaded files from elsewhere: {outside[:5]}"


def test_a_check_runs_in_jupyterlite(site, lite_page):
    _, report = site
    page, _, outside = lite_page
    missing = sorted(report["missing"])
    if missing:
        pytest.skip("the compiled Pyodide packages the course needs are not to be had here: " + ", ".join(missing))
    install = run_cell(page, lite.INSTALL_CELL)
    assert install["status"] == "ok", install
    code = "from course.grader import check\nfrom course.layers import relu_forward\ncheck('layers.relu_forward', relu_forward)"
    check = run_cell(page, code)
    assert check["status"] == "ok" and "PASSED" in check["output"], check
    assert not outside, f"the site loaded files from elsewhere: {outside[:5]}"
