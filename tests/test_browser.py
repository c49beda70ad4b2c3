"""Every lesson as a learner sees it: JupyterLab in headless Chromium, driven by Playwright.

``pytest -m browser`` runs these (``-k 07_adaptive`` for one lesson). A session fixture starts
JupyterLab on a free loopback port with a token, a clean temporary HOME, ``COURSE_FAST=1`` and
``COURSE_PROGRESS_FILE=off``, serving copies of ``solutions/`` and ``notebooks/`` (the repository's
files are never written). Each selected notebook is opened in its own browser context and
workspace; ``COURSE_BROWSER_WORKERS`` notebooks (default 3) run at the same time. For each one,
Run All, then:

- every code cell ran (it has an execution count) and no output is an error;
- every widget output rendered as a widget: not "Loading widget...", not "Error displaying
  widget", not its text repr;
- for each widget with a control and a figure, moving the first control changes the figure;
- the check reports say PASSED in a solution notebook, "not attempted yet" in a learner notebook;
- and in a copy of lesson 06's solution with one planted mistake (the EMA weights swapped), the
  check shows FAILED with the diagnosis that names it and the paths plot.

Screenshots of each widget and of the failed report go to ``$COURSE_ARTIFACTS`` (default
``build/browser-artifacts``). The suite skips, with the reason, where Playwright or Chromium is
missing.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

import nbformat
import pytest
from _browser import REPO, TIMEOUT, JupyterLab, artifacts_dir, keep_on_failure, launch_chromium
from _lab_page import WIDGET_MIME, LabPage

from course import authoring

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]  # module fixtures: one worker

WORKERS = int(os.environ.get("COURSE_BROWSER_WORKERS", 3))
CHECK_CALL = re.compile(r"^[ \t]*(?:\w+\.)?check\(", re.MULTILINE)
WIDGET_REPR = re.compile(r"^\s*[A-Z]\w*\((?:children|value|outputs|layout|description)=")
PLANTED = "planted/06_momentum_ema_swapped.ipynb"
BROKEN = "planted/broken_widgets.ipynb"
BROKEN_CELLS = [
    "from IPython.display import display\n"
    "display({'application/vnd.jupyter.widget-view+json': {'model_id': 'f' * 32, 'version_major': 2,"
    " 'version_minor': 0}, 'text/plain': 'IntSlider(value=0)'}, raw=True)",
    "import ipywidgets as w\ndisplay({'text/plain': repr(w.IntSlider())}, raw=True)  # the widget lost, its repr left",
    "import base64, io\nimport matplotlib.pyplot as plt\nfig = plt.figure(figsize=(1, 1)); buf = io.BytesIO()\n"
    "fig.savefig(buf, format='png'); plt.close(fig)\nout = w.Output()\n"
    "out.outputs = ({'output_type': 'display_data', 'metadata': {},"
    " 'data': {'image/png': base64.b64encode(buf.getvalue()).decode()}},)\n"
    "w.VBox([w.IntSlider(), out])  # the slider changes nothing",
]
PLANTED_FROM = ("v = beta * v + (1 - beta) * g", "v = (1 - beta) * v + beta * g")


def _lessons():
    params = []
    for folder in ("solutions", "notebooks"):
        for path in sorted((REPO / folder).glob("*.ipynb")):
            if authoring.LESSON_FILE.match(path.name):
                params.append(pytest.param(f"{folder}/{path.name}", id=f"{folder}/{path.stem}"))
    return params


def _stopped_at_a_pending_demo(run) -> bool:
    """A learner notebook from before its lesson wrapped demos in ``course.notebook.needs``,
    whose Run All stopped at a ``NotImplementedError``."""
    return (
        run.path.startswith("notebooks/")
        and "needs(" not in (REPO / run.path).read_text()
        and any(o["ename"] == "NotImplementedError" for c in run.cells for o in c["outputs"])
    )


def _plant(root: Path):
    """Lesson 06's solution with the EMA's weights swapped in momentum_ema."""
    nb = nbformat.read(REPO / "solutions" / "06_momentum.ipynb", as_version=4)
    cells = [c for c in nb.cells if c.cell_type == "code" and "def momentum_ema" in c.source]
    assert len(cells) == 1 and PLANTED_FROM[0] in cells[0].source, "lesson 06 changed: update PLANTED_FROM"
    cells[0].source = cells[0].source.replace(*PLANTED_FROM)
    (root / PLANTED).parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, root / PLANTED)
    broken = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in BROKEN_CELLS])
    broken.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(broken, root / BROKEN)


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    pytest.importorskip("playwright", reason="Playwright's Python package is not installed (the test extra has it)")
    root, home = tmp_path_factory.mktemp("course"), tmp_path_factory.mktemp("home")
    for folder in ("solutions", "notebooks"):
        shutil.copytree(REPO / folder, root / folder)
    _plant(root)
    server = JupyterLab(root, home, env={"COURSE_FAST": "1", "COURSE_PROGRESS_FILE": "off"})
    server.start()
    yield server
    server.stop()


def _wanted(items) -> list[str]:
    """The notebooks the selected tests look at, in order."""
    wanted = []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        extra = {"test_a_planted": PLANTED, "test_the_widget_test": BROKEN}
        path = params.get("notebook") or next((v for k, v in extra.items() if item.name.startswith(k)), None)
        if path and path not in wanted:
            wanted.append(path)
    return wanted


@pytest.fixture(scope="session")
def runs(request, lab, tmp_path_factory):
    """Run every notebook the session selected, ``WORKERS`` at a time, each in a browser context,
    page, workspace and kernel of its own; ``{path: Run}``. Each page's screenshot and console log
    are staged (``Run.evidence``) for the tests that fail."""
    from playwright.sync_api import sync_playwright

    pending, results, summaries, n = _wanted(request.session.items), {}, [], 0
    folder, staging = artifacts_dir(), tmp_path_factory.mktemp("browser-evidence")
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        active = []
        while pending or active:
            while pending and len(active) < WORKERS:
                path, n = pending.pop(0), n + 1
                context = browser.new_context(viewport={"width": 1400, "height": 1000})
                page = LabPage(context, lab, path, workspace=f"test{n}", timeout=TIMEOUT)
                active.append((page, context))
            for entry in list(active):
                page, context = entry
                if page.poll():
                    results[page.path] = _finish(page, folder, staging)
                    summaries.append(_summary(page.run))
                    context.close()
                    active.remove(entry)
            if active:
                active[0][0].page.wait_for_timeout(250)  # the polling interval of the running notebooks
        browser.close()
    print(f"\nbrowser screenshots: {folder}")
    (folder / "browser-runs.txt").write_text("".join(summaries))
    return results


def _finish(page: LabPage, folder: Path, staging: Path):
    run = page.run
    stem = run.path.replace("/", "-").removesuffix(".ipynb")
    try:
        if run.error is None:
            page.snapshot()
            page.screenshot_widgets(folder, stem)
            page.screenshot_report(folder, stem, "failed")
            page.move_controls()
    except Exception as exc:
        run.error = f"while reading the page: {exc}"
    finally:
        page.keep_evidence(staging, stem)
        page.close()
    print("\n" + _summary(run), end="")
    return run


def _summary(run) -> str:
    """One line: the notebook's time (each phase's), cells, widgets and what moving them did."""
    widgets = sum(r["widget"] for c in run.cells for r in c["rendered"])
    moved = ", ".join(f"{what} {'changed' if ok else 'did NOT change'} its figure" for _, what, ok in run.interactions)
    timings = ", ".join(f"{k} {v:.1f} s" for k, v in run.timings.items())
    return (f"{run.path}: {time.monotonic() - run.started:.1f} s ({timings}), {len(run.cells)} code cells, "
            f"{widgets} widgets{'; ' + moved if moved else ''}{'; ' + run.error if run.error else ''}\n")


@pytest.fixture(autouse=True)
def _evidence_on_failure(request, runs):
    """A failing test's notebook page (screenshot, console log) is copied into the artifacts."""
    params = getattr(getattr(request.node, "callspec", None), "params", {})
    path = params.get("notebook") or next(iter(_wanted([request.node])), None)

    def write():
        run = runs.get(path)
        if run is None:
            return []
        kept = [folder / f.name for folder in [artifacts_dir()] for f in run.evidence]
        for staged, target in zip(run.evidence, kept):
            shutil.copyfile(staged, target)
        return kept

    keep_on_failure(request.node, write)


def _run(runs, notebook):
    run = runs[notebook]
    assert run.error is None, f"{notebook}: {run.error} (COURSE_BROWSER_TIMEOUT bounds each wait)"
    return run


def _where(cell) -> str:
    return f"cell {cell['index'] + 1} ({cell['source'].strip().splitlines()[0] if cell['source'].strip() else ''!r})"


@pytest.mark.parametrize("notebook", _lessons())
def test_run_all_reaches_the_end_without_errors(runs, notebook):
    run = _run(runs, notebook)
    if _stopped_at_a_pending_demo(run):
        pytest.xfail(
            "Run All in this learner notebook stops at the first demo that calls an unwritten exercise; "
            "lessons wrap such demos in course.notebook.needs (issue 14), then this test must pass"
        )
    errors = [f"{_where(c)}: {o['ename']}: {o['evalue']}" for c in run.cells for o in c["outputs"] if o["type"] == "error"]
    assert not errors, f"{notebook}: error output in " + "; ".join(errors)
    not_run = [_where(c) for c in run.cells if c["count"] is None and c["source"].strip()]
    assert not not_run, f"{notebook}: Run All did not run " + ", ".join(not_run)
    assert run.done and run.done["ok"], f"{notebook}: Run All reported {run.done}"


def widget_problems(run) -> list[str]:
    """What is wrong with the widgets of a run (empty: each rendered and, moved, changed its figure)."""
    problems = []
    for cell in run.cells:
        wanted = sum(WIDGET_MIME in o["mimes"] for o in cell["outputs"])
        shown = [r for r in cell["rendered"] if r["widget"]]
        if len(shown) != wanted:
            problems.append(f"{_where(cell)}: {wanted} widget outputs, {len(shown)} rendered as widgets")
        for r in cell["rendered"]:
            for bad in ("Loading widget...", "Error displaying widget"):
                if bad in r["text"]:
                    problems.append(f"{_where(cell)} shows {bad!r}")
        for o in cell["outputs"]:
            if WIDGET_MIME not in o["mimes"] and "text/plain" in o["mimes"] and WIDGET_REPR.match(o["text"]):
                problems.append(f"{_where(cell)}: a widget shown as text: {o['text'][:80]!r}")
    for wid, control, changed in run.interactions:
        if not changed:
            problems.append(f"moving the {control} of widget {wid} did not change its figure")
    return problems


@pytest.mark.parametrize("notebook", _lessons())
def test_every_widget_renders_and_responds(runs, notebook):
    """Of the cells that ran (all of them, once Run All reaches the end)."""
    problems = widget_problems(_run(runs, notebook))
    assert not problems, f"{notebook}: " + "; ".join(problems)


def test_the_widget_test_sees_broken_widgets(runs):
    """The harness itself: a widget whose model is missing, one printed as text, and a slider that
    does not change its figure are each reported."""
    problems = widget_problems(_run(runs, BROKEN))
    assert any("Error displaying widget" in p or "rendered as widgets" in p for p in problems), problems
    assert any("shown as text" in p for p in problems), problems
    assert any("did not change its figure" in p for p in problems), problems


@pytest.mark.parametrize("notebook", _lessons())
def test_check_reports_render(runs, notebook):
    """Of the check cells that ran (all of them, once Run All reaches the end)."""
    run = _run(runs, notebook)
    learner = notebook.startswith("notebooks/")
    checks = [c for c in run.cells if CHECK_CALL.search(c["source"])]
    assert any(c["count"] is not None for c in checks) or not checks, f"{notebook}: no check cell ran"
    for cell in checks:
        if cell["count"] is None:
            continue
        assert cell["reports"], f"{notebook} {_where(cell)}: no check report rendered"
        for report in cell["reports"]:
            headline = report["text"].strip().splitlines()[0]
            if learner:
                assert "course-check-not_attempted" in report["classes"] and "not attempted yet" in headline, headline
            else:
                assert "course-check-passed" in report["classes"] and "PASSED" in headline, headline


def test_a_planted_mistake_shows_the_failed_report_and_its_diagnosis(runs):
    run = _run(runs, PLANTED)
    (cell,) = [c for c in run.cells if 'check("optim.momentum_ema"' in c["source"]]
    (report,) = cell["reports"]
    assert "course-check-failed" in report["classes"] and report["text"].lstrip().startswith("✘ FAILED"), report
    assert "weights_swapped" in report["diagnoses"], report["diagnoses"]
    assert "You swapped the weights" in report["text"]
    assert report["images"] == 1, "the report shows both paths"
    assert any(p.name.endswith("report-failed.png") for p in run.screenshots)


def test_a_jupyterlab_page_load_logs_no_error_from_the_jupyterlite_kernel(lab):
    """The Pyodide kernel's labextension only works in JupyterLite: the `lite` extra does not install
    it (`course lite` gives it to the build alone), so a JupyterLab page load logs nothing from it."""
    import importlib.util

    from playwright.sync_api import sync_playwright

    if importlib.util.find_spec("jupyterlite_pyodide_kernel") is not None:
        pytest.skip("jupyterlite-pyodide-kernel is installed here (an older `lite` extra installed it): "
                    "pip uninstall jupyterlite-pyodide-kernel")

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = browser.new_page()
            errors = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{lab.url}/lab?token={lab.token}")
            # every plugin has activated and the layout is restored: the extension's error, if any, is logged
            page.wait_for_function("() => window.jupyterapp && window.jupyterapp.started", timeout=TIMEOUT * 1000)
            page.evaluate("() => window.jupyterapp.restored.then(() => true)")
            plugins = page.evaluate("() => window.jupyterapp.listPlugins ? window.jupyterapp.listPlugins() : []")
        finally:
            browser.close()
    assert plugins, "JupyterLab listed no plugins: the test could not see what was loaded"
    assert not [e for e in errors if "pyodide" in e.lower() or "jupyterlite" in e.lower()], errors
    assert not [p for p in plugins if p.startswith("@jupyterlite/pyodide-kernel")], plugins
