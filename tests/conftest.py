"""Shared fixtures. Notebook fixtures: small lessons built with nbformat in a tmp folder."""

from __future__ import annotations

import nbformat
import pytest
from nbformat import v4


@pytest.fixture
def lesson_dirs(tmp_path):
    """``(solutions, notebooks)``: an empty course layout in a tmp folder."""
    solutions, notebooks = tmp_path / "solutions", tmp_path / "notebooks"
    solutions.mkdir()
    notebooks.mkdir()
    return solutions, notebooks


@pytest.fixture
def write_notebook():
    """``write_notebook(path, cells)`` writes a notebook and returns it.

    ``cells`` are sources: a string is a code cell, ``("markdown", source)`` a markdown cell,
    ``(kind, source, {"tags": [...]})`` one with metadata.
    """

    def write(path, cells):
        nb = v4.new_notebook()
        for cell in cells:
            kind, source, metadata = ("code", cell, {}) if isinstance(cell, str) else (*cell, {})[:3]
            make = v4.new_code_cell if kind == "code" else v4.new_markdown_cell
            nb.cells.append(make(source=source, metadata=metadata))
        nbformat.write(nb, path)
        return nb

    return write


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed browser test keeps its evidence: the screenshot and console log of its page go to
    the artifacts folder, and the failure message names them (``_browser.keep_on_failure``)."""
    report = yield
    if report.failed and report.when in ("setup", "call"):
        from _browser import EVIDENCE

        write = item.stash.get(EVIDENCE, None)
        if write is not None:
            try:
                paths = write()
                note = "browser artifacts: " + (", ".join(map(str, paths)) or "none (the page never opened)")
            except Exception as exc:  # the evidence must never hide the failure itself
                note = f"browser artifacts could not be written: {exc}"
            longrepr = report.longrepr
            if hasattr(longrepr, "addsection"):
                longrepr.addsection("browser artifacts", note)
                crash = getattr(longrepr, "reprcrash", None)
                if crash is not None:
                    crash.message = f"{crash.message}\n{note}"
            else:
                report.longrepr = f"{longrepr}\n{note}"
    return report
