"""Shared by the browser tests: Chromium through Playwright, a JupyterLab server, artifacts.

- :func:`chromium` finds Debian's Chromium (``/usr/bin/chromium``, or ``COURSE_CHROMIUM``) and
  skips with the reason when it or Playwright is missing. Playwright cannot download its own
  browser here, so it always drives this executable.
- :class:`JupyterLab` starts ``jupyter lab`` on a free loopback port with a random token, a clean
  temporary HOME (so no user settings, workspaces or progress file leak in) and settings that make
  a run observable: the app exposed as ``window.jupyterapp``, every cell kept in the DOM, no
  autosave, no news pop-up.
- :func:`artifacts_dir` is where screenshots go: ``$COURSE_ARTIFACTS`` or ``build/browser-artifacts``.
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


def wait_for_http(url: str, timeout: float, process: subprocess.Popen | None = None, log: Path | None = None):
    """Poll ``url`` until it answers (or fail with the server's log)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            break
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
    why = f"the server exited ({process.returncode})" if process is not None and process.poll() is not None else (
        f"no answer within {timeout:.0f} s")
    raise RuntimeError(f"{url}: {why}\n{tail}")


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
            PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH", "")])),
            **(env or {}),
        )
        self.log = home / "jupyterlab.log"
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def notebook_url(self, path: str, workspace: str) -> str:
        """The page that opens ``path`` (relative to root) alone in its own workspace."""
        return f"{self.url}/lab/workspaces/{workspace}/tree/{path}?reset&token={self.token}"

    def start(self, timeout: float = 120):
        command = [
            sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={self.port}",
            f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={self.root}",
            "--LabApp.expose_app_in_browser=True", "--ServerApp.port_retries=0", "--allow-root",
            "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ]  # fmt: skip
        with open(self.log, "wb") as out:
            self.process = subprocess.Popen(command, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        wait_for_http(f"{self.url}/api/status?token={self.token}", timeout, self.process, self.log)
        return self

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
