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
