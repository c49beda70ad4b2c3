"""Driving one notebook in a JupyterLab page (Playwright, sync API), and reading what it shows.

Every wait is on a condition the page exposes, never a sleep, and each has a deadline and says what
it awaited. :meth:`LabPage.poll` moves a notebook through its phases, so that several pages progress
at once:

1. ``open``: JupyterLab loaded and the notebook is open;
2. ``ready``: its context and kernel are ready, the kernel connected and idle, and the widget manager
   has restored its state from the kernel (Run All before that races the restore: a widget's state
   can be overwritten by an older copy);
3. ``run``: ``notebook:run-all-cells`` resolved, the kernel is idle and, unless Run All stopped at
   an error, the last code cell has its execution count;
4. ``render``: every widget output is drawn: no "Loading widget...", each model of its tree (boxes'
   children, Output widgets' outputs) has a view in the output, state changes applied, each figure
   an image.

:meth:`LabPage.snapshot` then reads every code cell: its execution count and outputs from the
notebook model, what the DOM rendered for each output (its MIME type, whether a widget view is
there, its text) and the check reports (``.course-check``). The page's console is logged
(:attr:`LabPage.console`) for the failure artifacts.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"

_FIND_NOTEBOOK = """(path) => {
  const app = window.jupyterapp;
  if (!app) return 'JupyterLab has not started in the page';
  for (const w of app.shell.widgets('main')) {
    if (w.context && w.context.path === path && w.sessionContext) { window.__nb = w; return true; }
  }
  return `the notebook ${path} is not open`;
}"""

# The notebook's widget manager, reached through the renderer its rendermime creates (the manager is
# registered once the session is ready); null until then.
_JS_MANAGER = """
const MIME = 'application/vnd.jupyter.widget-view+json';
const manager = async (nb) => {
  const factory = nb.content.rendermime.getFactory(MIME);
  if (!factory) return null;
  const r = factory.createRenderer({mimeType: MIME});
  if (!r._manager) throw new Error('the widget renderer has no _manager (jupyterlab_widgets changed)');
  const m = await Promise.race([r._manager.promise, new Promise((ok) => setTimeout(() => ok(null), 50))]);
  r.dispose();
  return m;
};
const kernelOf = (nb) => nb.sessionContext.session && nb.sessionContext.session.kernel;
"""

_READY = """async () => {
  /*HELPERS*/
  const nb = window.__nb;  // polled, never awaited: a kernel-selection dialog must time out, not hang
  if (!nb.context.isReady) return 'the notebook file is not loaded';
  if (!nb.sessionContext.isReady) return 'the session is not ready (a kernel-selection dialog?)';
  const kernel = kernelOf(nb);
  if (!kernel) return 'the session has no kernel';
  if (kernel.connectionStatus !== 'connected' || kernel.status !== 'idle')
    return `the kernel is ${kernel.status}, ${kernel.connectionStatus}`;
  const m = await manager(nb);
  if (!m) return 'the widget manager is not registered';
  return m.restoredStatus || 'the widget manager has not restored its state from the kernel';
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
  if (!window.__done) return 'notebook:run-all-cells has not resolved';
  const kernel = nb.sessionContext.session && nb.sessionContext.session.kernel;
  if (!kernel || kernel.status !== 'idle') return `the kernel is ${kernel ? kernel.status : 'gone'}`;
  const code = nb.content.widgets.filter((c) => c.model.type === 'code' && c.model.sharedModel.getSource().trim());
  const last = code[code.length - 1];
  if (window.__done.ok && last && last.model.executionCount === null) return 'the last code cell has no execution count';
  return true;
}"""

# Whether every widget output is drawn; the first thing still awaited otherwise.
_JS_WIDGET_TREES = """
const treeOf = async (m, root) => {  // the models displayed from root, and the images they hold
  const tree = {models: [], images: 0}, seen = new Set();
  const visit = async (model) => {
    if (!model || seen.has(model.model_id)) return;
    seen.add(model.model_id);
    await model.state_change;
    tree.models.push(model);
    const children = model.get('children');
    if (Array.isArray(children)) for (const c of children) await visit(c);
    const name = model.get('_model_name');
    if (name === 'ImageModel') tree.images++;
    if (name === 'OutputModel') for (const o of model.get('outputs') || []) {
      const data = o.data || {};
      if (data[MIME]) await visit(await m.get_model(data[MIME].model_id).catch(() => null));
      else if (data['image/png'] || data['image/jpeg']) tree.images++;
    }
  };
  await visit(root);
  return tree;
};
const undrawn = async (node, m, root) => {  // what of root's tree is not drawn in node (null: all is)
  const tree = await treeOf(m, root);
  for (const model of tree.models) {
    const views = await Promise.all(Object.values(model.views || {}));
    if (!views.some((v) => node.contains(v.el))) return `${model.get('_model_name')} ${model.model_id} has no view`;
  }
  const images = node.querySelectorAll('img').length;
  return images < tree.images ? `${images} of ${tree.images} figures drawn` : null;
};
const widgetOutputs = function* (nb) {  // [cell index, renderer, model id] of each widget output
  for (const [index, cell] of nb.content.widgets.entries()) {
    if (cell.model.type !== 'code') continue;
    for (let k = 0; k < cell.model.outputs.length; k++) {
      const data = cell.model.outputs.get(k).toJSON().data || {};
      const child = cell.outputArea.widgets[k];
      if (!data[MIME] || !child) continue;
      const r = Array.from(child.children ? child.children() : []).find((w) => w.mimeType === MIME);
      yield [index, r, data[MIME].model_id];
    }
  }
};
"""

_RENDERED = """async () => {
  /*HELPERS*/
  const nb = window.__nb;
  for (const [index, r, id] of widgetOutputs(nb)) {
    const where = `cell ${index + 1}: `;
    if (!r) return where + 'a widget output has no widget renderer';
    const text = r.node.textContent;
    if (text.includes('Loading widget...')) return where + 'Loading widget...';
    if (text.includes('Error displaying widget')) continue;  // drawn: as an error (the tests report it)
    const m = await Promise.race([r._manager.promise, new Promise((ok) => setTimeout(() => ok(null), 50))]);
    if (!m) return where + 'the widget renderer has no manager';
    const root = await m.get_model(id).catch(() => null);
    if (!root) return where + `widget model ${id} is not registered`;
    const missing = await undrawn(r.node, m, root);
    if (missing) return where + missing;
  }
  return true;
}"""

# After a control moved: 'changed' once the widget's figure changed; 'unchanged' once the kernel
# has handled every change the page sent since (idle after each), the kernel is idle and the
# widget's tree is drawn with its old figure; otherwise what is still awaited.
_WATCH_KERNEL = """() => {
  const nb = window.__nb, kernel = nb.sessionContext.session.kernel;
  const watch = window.__watch = {sent: new Set(), handled: new Set()};
  kernel.anyMessage.connect((_, {msg, direction}) => {
    if (direction === 'send' && msg.header.msg_type === 'comm_msg') watch.sent.add(msg.header.msg_id);
    if (direction === 'recv' && msg.header.msg_type === 'status' && msg.content.execution_state === 'idle'
        && watch.sent.has(msg.parent_header.msg_id)) watch.handled.add(msg.parent_header.msg_id);
  });
}"""

_MOVED = """async ([wid, old, sentBefore]) => {
  /*HELPERS*/
  const el = document.querySelector(`[data-test-widget="${wid}"]`);
  const src = () => { const img = el && el.querySelector('img'); return img ? img.src : null; };
  if (src() !== null && src() !== old) return 'changed';
  const watch = window.__watch, kernel = kernelOf(window.__nb);
  if (watch.sent.size <= sentBefore) return 'the control has sent no change to the kernel';
  if (watch.handled.size < watch.sent.size) return 'the kernel has not handled every change sent';
  if (!kernel || kernel.status !== 'idle') return `the kernel is ${kernel ? kernel.status : 'gone'}`;
  for (const [, r, id] of widgetOutputs(window.__nb)) {
    if (!el || !r || !el.contains(r.node) && !r.node.contains(el)) continue;
    const m = await r._manager.promise, root = await m.get_model(id);
    const missing = await undrawn(r.node, m, root);
    if (missing) return missing;
  }
  return src() !== null && src() !== old ? 'changed' : 'unchanged';
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

# The first output that shows a problem (an error, a widget that did not draw), into view for the
# failure screenshot.
_SHOW_PROBLEM = """() => {
  const bad = [...document.querySelectorAll('.jp-OutputArea-output')].find((el) =>
    el.getAttribute('data-mime-type') === 'application/vnd.jupyter.stderr'
    || /Error displaying widget|Loading widget\\.\\.\\.|Traceback/.test(el.innerText));
  if (bad) bad.scrollIntoView({block: 'center'});
}"""

_SHUTDOWN = """async (ms) => {
  const nb = window.__nb;
  if (nb) await Promise.race([nb.sessionContext.shutdown(), new Promise((ok) => setTimeout(ok, ms))]);
}"""

_READY, _RENDERED, _MOVED = (js.replace("/*HELPERS*/", _JS_MANAGER + _JS_WIDGET_TREES) for js in (_READY, _RENDERED, _MOVED))

PHASES = {  # phase: (the page's condition, what it awaits, in words)
    "open": (_FIND_NOTEBOOK, "JupyterLab to load and open the notebook"),
    "ready": (_READY, "the notebook's kernel to be idle and its widget manager restored"),
    "run": (_SETTLED, "Run All to finish"),
    "render": (_RENDERED, "every widget output to be drawn"),
}


class WaitTimeout(AssertionError):
    """A condition the page never reached: says what was awaited, for how long, and the last state."""


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
    timings: dict = field(default_factory=dict)  # phase: seconds it took
    evidence: list = field(default_factory=list)  # the page's screenshot and console log (staged)


class LabPage:
    """One notebook open in its own page and workspace; ``timeout`` (s) bounds each wait."""

    def __init__(self, context, lab, path: str, workspace: str, timeout: float):
        self.timeout = timeout
        context.set_default_timeout(timeout * 1e3)  # Playwright's own waits (clicks, screenshots)
        self.page = context.new_page()
        self.path, self.run = path, Run(path)
        self.console: list[str] = []
        self.page.on("console", lambda m: self._log(f"console.{m.type}: {m.text}"))
        self.page.on("pageerror", lambda e: self._log(f"page error: {e}"))
        self.page.on("crash", lambda _: self._crashed())
        self.phase, self.why = "open", "the page to start loading"
        self.run.started = self._since = time.monotonic()
        self.page.goto(lab.notebook_url(path, workspace), wait_until="commit")

    def _crashed(self):
        self._log("the page crashed")
        self.run.error = self.run.error or f"the page crashed while awaiting {PHASES.get(self.phase, ('', self.phase))[1]}"

    def _log(self, line: str):
        self.console.append(f"{time.monotonic() - self.run.started:8.2f} s  {line}")

    def poll(self) -> bool:
        """Advance through the phases as far as the page allows now; True once drawn (or failed:
        ``run.error`` then says what was awaited). Never blocks beyond one evaluation."""
        while self.phase in PHASES and self.run.error is None:
            script, what = PHASES[self.phase]
            try:
                state = self.page.evaluate(script, self.path) if self.phase == "open" else self.page.evaluate(script)
            except Exception as exc:  # navigating (the context is replaced), or the page crashed
                state = f"the page could not be read ({str(exc).splitlines()[0]})"
            if state is not True:
                self.why = state
                waited = time.monotonic() - self._since
                if waited > self.timeout:
                    self.run.error = f"waited {waited:.0f} s for {what}; still: {state}"
                return self.run.error is not None
            self.run.timings[self.phase] = round(time.monotonic() - self._since, 2)
            self._since = time.monotonic()
            if self.phase == "ready":
                self.page.evaluate(_RUN_ALL)
            self.phase = {"open": "ready", "ready": "run", "run": "render", "render": "drawn"}[self.phase]
            self.why = "nothing" if self.phase == "drawn" else "its first poll"
            self.run.settled = self.phase in ("render", "drawn")
        return True

    def wait(self, script: str, arg, what: str, done=lambda state: state is True):
        """Poll ``script`` until ``done(state)``; a :class:`WaitTimeout` names what was awaited."""
        start, state = time.monotonic(), None
        while time.monotonic() - start < self.timeout:
            state = self.page.evaluate(script, arg)
            if done(state):
                return state
            self.page.wait_for_timeout(100)  # the polling interval, not a wait for the condition
        raise WaitTimeout(f"{self.path}: waited {self.timeout:.0f} s for {what}; still: {state}")

    def snapshot(self):
        data = self.page.evaluate(_SNAPSHOT)
        self.run.cells, self.run.done = data["cells"], data["done"]
        return self.run

    def move_controls(self):
        """For each widget with a control and a figure: move its first control, wait for the figure
        to change or for the kernel to have handled the change without changing it. Records
        ``(widget id, control, changed)`` in ``run.interactions``."""
        self.page.evaluate(_WATCH_KERNEL)
        for cell in self.run.cells:
            for out in cell["rendered"]:
                if out["widget"] and out["controls"] and out["images"]:
                    self.run.interactions.append(self._move_one(out["id"]))

    def _move_one(self, wid: str):
        root = self.page.locator(f'[data-test-widget="{wid}"]')
        before = self.page.evaluate(_IMAGE_OF, wid)
        sent = self.page.evaluate("() => window.__watch.sent.size")
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
        verdicts = []  # 'unchanged' must hold on two polls in a row: the drawing has settled

        def done(state):
            verdicts.append(state)
            return state == "changed" or verdicts[-2:] == ["unchanged", "unchanged"]

        state = self.wait(_MOVED, [wid, before, sent], f"the figure of widget {wid} to follow its {what}", done)
        return wid, what, state == "changed"

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

    def keep_evidence(self, folder, stem: str):
        """The page as it is (scrolled to the first output showing a problem) and its console log,
        into ``folder``; their paths into ``run.evidence``. Never raises: a crashed page still
        leaves its log."""
        log = folder / f"{stem}.console.log"
        try:
            self.page.evaluate(_SHOW_PROBLEM)
            shot = folder / f"{stem}.png"
            self.page.screenshot(path=str(shot), timeout=60_000)
            self.run.evidence.append(shot)
        except Exception as exc:
            self._log(f"(no screenshot: {str(exc).splitlines()[0]})")
        timings = ", ".join(f"{k} {v} s" for k, v in self.run.timings.items())
        log.write_text(f"{self.path}: phases {timings or 'none'}; {self.phase}: {self.why}\n" + "\n".join(self.console) + "\n")
        self.run.evidence.append(log)

    def close(self):
        try:
            self.page.evaluate(_SHUTDOWN, 30_000)
        except Exception:
            pass  # the server shuts down what is left (JupyterLab.shutdown_kernels)
        finally:
            self.page.close()
