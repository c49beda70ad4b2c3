"""The Jupyter configuration the package installs: JupyterLab leaves out the JupyterLite kernel's
labextension (the `lite` extra installs it for `course lite`; in JupyterLab it only logs errors)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHIPPED = REPO / "jupyter-config" / "labconfig" / "page_config.d" / "backprop-course.json"


def test_the_file_is_installed_where_jupyterlab_reads_page_config():
    text = (REPO / "pyproject.toml").read_text()
    assert re.search(r'^"etc/jupyter/labconfig/page_config.d" = \["jupyter-config/labconfig/page_config.d/'
                     r'backprop-course.json"\]$', text, re.M)
    assert json.loads(SHIPPED.read_text()) == {"disabledExtensions": {"@jupyterlite/pyodide-kernel-extension": True}}


def test_jupyterlab_sees_the_jupyterlite_kernel_extension_disabled(tmp_path):
    pytest.importorskip("jupyterlite_pyodide_kernel", reason="the lite extra is not installed")
    env = {**os.environ, "JUPYTER_CONFIG_PATH": str(REPO / "jupyter-config"), "JUPYTER_CONFIG_DIR": str(tmp_path),
           "NO_COLOR": "1"}
    out = subprocess.run([sys.executable, "-m", "jupyter", "labextension", "list"], capture_output=True, text=True,
                         env=env, timeout=120)
    line = next(ln for ln in (out.stdout + out.stderr).splitlines() if "@jupyterlite/pyodide-kernel-extension v" in ln)
    assert "disabled" in line and "enabled" not in line.replace("disabled", ""), line
