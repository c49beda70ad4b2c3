"""Driving one notebook in a JupyterLab page (Playwright, sync API), and reading what it shows.

The page waits on JupyterLab's own promises and state, never on fixed sleeps: the notebook's
context and kernel are ready, ``notebook:run-all-cells`` has resolved, the kernel is idle and no
widget is still "Loading widget...". :func:`snapshot` then reads every code cell: its execution
count and outputs from the notebook model, what the DOM rendered for each output (its MIME type,
whether a widget view is there, its text) and the check reports (``.course-check``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"

_FIND_NOTEBOOK = """(path) => {
  const app = window.jupyterapp;
  if (!app) return false;
  for (const w of app.shell.widgets('main')) {
    if (w.context && w.context.path === path && w.sessionContext) { window.__nb = w; return true; }
  }
  return false;
}"""

_READY = """() => {
  const nb = window.__nb;  // polled, never awaited: a kernel-selection dialog must time out, not hang
  return nb.context.isReady && nb.sessionContext.isReady && !!(nb.sessionContext.session
    && nb.sessionContext.session.kernel);
}"""

_RUN_ALL = """() => {
  const nb = window.__nb, app = window.jupyterapp;
  app.shell.activateById(nb.id);
  window.__done = null;
  app.commands.execute('notebook:run-all-cells').then(
    (ok) => { window.__done = {ok: !!ok}; },
    (e) => { window.__done = {ok: false, error: String(e)}; });
}"""

_SETTLED = """() => {
  const nb = window.__nb;
  if (!window.__done) return false;
  const kernel = nb.sessionContext.session && nb.sessionContext.session.kernel;
  if (!kernel || kernel.status !== 'idle') return false;
  return !nb.node.innerText.includes('Loading widget...');
}"""

_SNAPSHOT = """() => {
  const nb = window.__nb, cells = [];
  let widgetId = 0;
  const text = (t) => Array.isArray(t) ? t.join('') : String(t || '');
  nb.content.widgets.forEach((cell, index) => {
    const m = cell.model;
    if (m.type !== 'code') return;
    const outputs = [];
    for (let k = 0; k < m.outputs.length; k++) {
      const o = m.outputs.get(k).toJSON();
      outputs.push({type: o.output_type, ename: o.ename || null, evalue: o.evalue || null,
                    mimes: Object.keys(o.data || {}),
                    text: text(o.text || (o.data && o.data['text/plain'])).slice(0, 2000)});
    }
    const rendered = [...cell.node.querySelectorAll('.jp-OutputArea-child > .jp-OutputArea-output')].map((el) => {
      const widget = el.querySelector('.jupyter-widgets');
      const out = {mime: el.getAttribute('data-mime-type') || '', text: el.innerText.slice(0, 2000),
                   widget: !!widget, id: null, controls: 0, images: el.querySelectorAll('img').length};
      if (widget) {
        out.id = String(widgetId++);
        el.setAttribute('data-test-widget', out.id);
        out.controls = el.querySelectorAll('.noUi-handle, select').length;
      }
      return out;
    });
    const reports = [...cell.node.querySelectorAll('.course-check')].map((e) => ({
      classes: e.className, text: e.innerText,
      diagnoses: [...e.querySelectorAll('.diagnosis')].map((d) => d.getAttribute('data-name')),
      images: e.querySelectorAll('img').length}));
    cells.push({index, source: m.sharedModel.getSource(), count: m.executionCount, outputs, rendered, reports});
  });
  const kernel = nb.sessionContext.session && nb.sessionContext.session.kernel;
  return {cells, kernel: kernel ? kernel.status : 'none', done: window.__done};
}"""

_IMAGE_OF = """(id) => {
  const el = document.querySelector(`[data-test-widget="${id}"]`);
  const img = el && el.querySelector('img');
  return img ? img.src : null;
}"""

_SHUTDOWN = """async () => { const nb = window.__nb; if (nb) await nb.sessionContext.shutdown(); }"""


@dataclass
class Run:
    """What one notebook showed after Run All in the browser."""

    path: str
    cells: list = field(default_factory=list)
    done: dict | None = None
    settled: bool = False
    error: str | None = None
    interactions: list = field(default_factory=list)  # (widget id, what was moved, figure changed)
    screenshots: list = field(default_factory=list)
    started: float = 0.0


class LabPage:
    """One notebook open in its own page and workspace."""

    def __init__(self, context, lab, path: str, workspace: str):
        self.page = context.new_page()
        self.path, self.run = path, Run(path)
        self.page.goto(lab.notebook_url(path, workspace))

    def start(self, timeout_ms: int = 120_000):
        """Wait until the notebook and its kernel are ready, then Run All (does not wait for it)."""
        self.page.wait_for_function(_FIND_NOTEBOOK, arg=self.path, timeout=timeout_ms)
        try:
            self.page.wait_for_function(_READY, timeout=timeout_ms)
        except Exception as exc:
            raise RuntimeError(f"{self.path}: the notebook's kernel did not start (no kernelspec?)") from exc
        self.page.evaluate(_RUN_ALL)

    def finished(self) -> bool:
        return bool(self.page.evaluate(_SETTLED))

    def snapshot(self):
        data = self.page.evaluate(_SNAPSHOT)
        self.run.cells, self.run.done = data["cells"], data["done"]
        return self.run

    def move_controls(self, timeout_ms: int = 60_000):
        """For each widget with a control and a figure: move its first control, wait for the figure
        to change. Records ``(widget id, control, changed)`` in ``run.interactions``."""
        for cell in self.run.cells:
            for out in cell["rendered"]:
                if out["widget"] and out["controls"] and out["images"]:
                    self.run.interactions.append(self._move_one(out["id"], timeout_ms))

    def _move_one(self, wid: str, timeout_ms: int):
        root = self.page.locator(f'[data-test-widget="{wid}"]')
        before = self.page.evaluate(_IMAGE_OF, wid)
        handle = root.locator(".noUi-handle").first
        if handle.count():
            handle.scroll_into_view_if_needed()
            handle.focus()
            at_max = handle.get_attribute("aria-valuenow") == handle.get_attribute("aria-valuemax")
            self.page.keyboard.press("ArrowLeft" if at_max else "ArrowRight")  # a slider at its end moves back
            what = "slider"
        else:
            select = root.locator("select").first
            values = select.locator("option").evaluate_all("(os) => os.map((o) => o.value)")
            current = select.input_value()
            select.select_option(next(v for v in values if v != current))
            what = "dropdown"
        try:
            self.page.wait_for_function(
                "([id, old]) => { const el = document.querySelector(`[data-test-widget=\"${id}\"]`);"
                " const img = el && el.querySelector('img'); return img && img.src !== old; }",
                arg=[wid, before], timeout=timeout_ms,
            )
            changed = True
        except Exception:  # a Playwright TimeoutError: the figure did not change
            changed = False
        return wid, what, changed

    def screenshot_widgets(self, folder, stem: str):
        for cell in self.run.cells:
            for out in cell["rendered"]:
                if out["widget"] and out["images"]:
                    target = folder / f"{stem}-widget{out['id']}.png"
                    self.page.locator(f'[data-test-widget="{out["id"]}"]').screenshot(path=str(target))
                    self.run.screenshots.append(target)

    def screenshot_report(self, folder, stem: str, status: str):
        """The first check report with ``status`` (e.g. "failed"), if any."""
        report = self.page.locator(f".course-check-{status}").first
        if report.count():
            target = folder / f"{stem}-report-{status}.png"
            report.screenshot(path=str(target))
            self.run.screenshots.append(target)

    def close(self):
        try:
            self.page.evaluate(_SHUTDOWN)
        finally:
            self.page.close()
