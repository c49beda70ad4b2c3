"""Shared by the browser tests: Chromium through Playwright, a JupyterLab server, artifacts.

- :func:`chromium` finds Debian's Chromium (``/usr/bin/chromium``, or ``COURSE_CHROMIUM``) and
  skips with the reason when it or Playwright is missing. Playwright cannot download its own
  browser here, so it always drives this executable.
- :class:`JupyterLab` starts ``jupyter lab`` on a free loopback port with a random token, a clean
  temporary HOME (so no user settings, workspaces or progress file leak in) and settings that make
  a run observable: the app exposed as ``window.jupyterapp``, every cell kept in the DOM, no
  autosave, no news pop-up.
- :func:`artifacts_dir` is where screenshots go: ``$COURSE_ARTIFACTS`` or ``build/browser-artifacts``.
- :func:`keep_on_failure` registers, for one test, what writes its evidence (the page's screenshot
  and console log) into the artifacts; ``tests/conftest.py`` calls it when the test fails and names
  the files in the failure message.
- :data:`TIMEOUT` bounds every wait of the browser tests (``COURSE_BROWSER_TIMEOUT``, seconds): long
  enough for a loaded 2-core machine; each wait says what it awaited when it runs out.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]  # root in a container
TIMEOUT = float(os.environ.get("COURSE_BROWSER_TIMEOUT", 600))
EVIDENCE = pytest.StashKey()  # on a test item: () -> the artifact paths it wrote

# JupyterLab user settings for the test server (plugin id -> settings).
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},  # every cell in the DOM
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
}


def artifacts_dir() -> Path:
    """The folder for screenshots (created); CI prints it."""
    path = Path(os.environ.get("COURSE_ARTIFACTS") or REPO / "build" / "browser-artifacts")
    path.mkdir(parents=True, exist_ok=True)
    return path


def keep_on_failure(item, write_evidence):
    """On test ``item``: ``write_evidence()`` writes its screenshot and console log into
    :func:`artifacts_dir` and returns their paths; called only when the test fails."""
    item.stash[EVIDENCE] = write_evidence


def chromium_path() -> str | None:
    path = os.environ.get("COURSE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    return path if Path(path).is_file() else None


def launch_chromium(playwright):
    """Launch headless Chromium (skip with the reason when there is none)."""
    path = chromium_path()
    if path is None:
        pytest.skip("no Chromium: install Debian's `chromium` (apt-get install chromium) or set COURSE_CHROMIUM")
    return playwright.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(ready, timeout: float, what: str, process: subprocess.Popen | None = None, log: Path | None = None):
    """Poll ``ready()`` until true; fail naming ``what`` (and with the server's log) when the time
    runs out or ``process`` exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            break
        try:
            if ready():
                return
        except (OSError, ValueError):
            pass
        time.sleep(0.2)  # the polling interval
    tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
    why = f"the server exited ({process.returncode})" if process is not None and process.poll() is not None else (
        f"no answer within {timeout:.0f} s")
    raise RuntimeError(f"waited for {what}: {why}\n{tail}")


def wait_for_http(url: str, timeout: float, process: subprocess.Popen | None = None, log: Path | None = None):
    """Poll ``url`` until it answers (or fail with the server's log)."""

    def answers():
        with urllib.request.urlopen(url, timeout=10):
            return True

    wait_for(answers, timeout, url.split("?")[0], process, log)


class JupyterLab:
    """A JupyterLab server on 127.0.0.1 serving ``root``, with a token and a clean HOME.

    ``env`` is added to the server's (and so the kernels') environment.
    """

    def __init__(self, root: Path, home: Path, env: dict[str, str] | None = None):
        self.root, self.home = root, home
        self.port, self.token = free_port(), secrets.token_hex(16)
        settings = home / "lab-settings"
        for plugin, values in LAB_SETTINGS.items():
            package, name = plugin.rsplit("/", 1)
            target = settings / package / f"{name}.jupyterlab-settings"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(values))
        self.env = {k: v for k, v in os.environ.items() if k not in ("MPLBACKEND", "COURSE_CHECK_STRICT", "JPY_SESSION_NAME")}
        self.env.update(
            HOME=str(home),
            JUPYTER_CONFIG_DIR=str(home / "jupyter-config"),
            JUPYTER_RUNTIME_DIR=str(home / "jupyter-runtime"),
            JUPYTER_DATA_DIR=str(home / "jupyter-data"),  # kernelspecs still come from sys.prefix
            JUPYTERLAB_SETTINGS_DIR=str(settings),
            JUPYTERLAB_WORKSPACES_DIR=str(home / "lab-workspaces"),
            IPYTHONDIR=str(home / "ipython"),
            PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH", "")])),
            **(env or {}),
        )
        # the kernels' command history in memory: kernels running at once never wait on one SQLite file
        config = home / "ipython" / "profile_default" / "ipython_kernel_config.py"
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text("c.HistoryManager.hist_file = ':memory:'\n")
        self.log = home / "jupyterlab.log"
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def notebook_url(self, path: str, workspace: str) -> str:
        """The page that opens ``path`` (relative to root) alone in its own workspace."""
        return f"{self.url}/lab/workspaces/{workspace}/tree/{path}?reset&token={self.token}"

    def start(self, timeout: float = TIMEOUT, attempts: int = 3):
        """Start the server and wait until it answers. The port it listens on is read back from its
        runtime file (another process may take the free port first: it then tries the next ones,
        and a server that still exits is started again, ``attempts`` times in all)."""
        for attempt in range(1, attempts + 1):
            command = [
                sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={self.port}",
                f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={self.root}",
                "--LabApp.expose_app_in_browser=True", "--ServerApp.port_retries=20", "--allow-root",
                "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            ]  # fmt: skip
            with open(self.log, "ab") as out:
                self.process = subprocess.Popen(command, env=self.env, stdout=out, stderr=subprocess.STDOUT)
            info = Path(self.env["JUPYTER_RUNTIME_DIR"]) / f"jpserver-{self.process.pid}.json"
            try:
                wait_for(lambda info=info: json.loads(info.read_text() or "{}").get("port"), timeout,
                         "the server to write its runtime file", self.process, self.log)
                self.port = json.loads(info.read_text())["port"]
                wait_for_http(f"{self.url}/api/status?token={self.token}", timeout, self.process, self.log)
                return self
            except RuntimeError:
                if self.process.poll() is None or attempt == attempts:
                    raise
                self.port = free_port()  # it exited (its ports taken): again, elsewhere

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
