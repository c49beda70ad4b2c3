"""Normalisation: a solution notebook as the learner notebook (regions stripped, outputs cleared,
metadata trimmed) or as a cleaned solution, written byte-identically by nbformat."""

from __future__ import annotations

import copy
import re

import nbformat
from nbformat import v4

from .strip import strip_code, strip_markdown, where_text

_CELL_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")

NBFORMAT_MINOR = 5

SOLUTION_TAG = "solution"
CHECK_OUTPUT_TAG = "nbval-check-output"
KEEP_CELL_METADATA = ("tags", "editable", "deletable", "jupyter")
NOTEBOOK_METADATA = {
    "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}
#: Exercise ids starting with this are placeholders written by ``course new-lesson``.

# ---------------------------------------------------------------- normalisation


def _is_solution_cell(cell) -> bool:
    nbgrader = cell.metadata.get("nbgrader", {})
    return SOLUTION_TAG in cell.metadata.get("tags", []) or bool(
        isinstance(nbgrader, dict) and nbgrader.get("solution")
    )


def _cell_metadata(metadata, *, learner: bool) -> dict:
    keep = {key: metadata[key] for key in KEEP_CELL_METADATA if key in metadata}
    tags = [tag for tag in keep.pop("tags", []) if not (learner and tag == SOLUTION_TAG)]
    if tags:
        keep["tags"] = tags
    if not learner and "nbgrader" in metadata:
        keep["nbgrader"] = metadata["nbgrader"]
    return keep


def _notebook(nb, name: str, cells_with_sources, *, learner: bool, keep_outputs) -> dict:
    """Rebuild ``nb`` with new sources, normalised metadata, stable ids and (maybe) no outputs."""
    out = v4.new_notebook(metadata={**copy.deepcopy(NOTEBOOK_METADATA), "course": {"lesson": name}})
    out.nbformat_minor = NBFORMAT_MINOR
    seen: set[str] = set()
    for index, (cell, source) in enumerate(cells_with_sources):
        cell_id = cell.get("id")
        if not (isinstance(cell_id, str) and _CELL_ID.match(cell_id)) or cell_id in seen:
            cell_id = f"cell-{index}"
            while cell_id in seen:
                cell_id += "-b"
        seen.add(cell_id)
        metadata = _cell_metadata(cell.metadata, learner=learner)
        if cell.cell_type == "code":
            new = v4.new_code_cell(source=source, metadata=metadata)
            if keep_outputs(cell):
                new.outputs = cell.get("outputs", [])
                new.execution_count = cell.get("execution_count")
        elif cell.cell_type == "markdown":
            new = v4.new_markdown_cell(source=source, metadata=metadata)
        else:
            new = v4.new_raw_cell(source=source, metadata=metadata)
        if cell.get("attachments") and cell.cell_type != "code":
            new.attachments = cell.attachments
        new.id = cell_id
        out.cells.append(new)
    return out


def learner_notebook(nb, name: str, *, where: str | None = None):
    """The learner version of solution notebook ``nb`` for lesson ``name`` (a new notebook)."""
    where = where or name
    sources = []
    for index, cell in enumerate(nb.cells):
        place = where_text(where, index, cell.source)
        whole = _is_solution_cell(cell)
        if cell.cell_type == "code":
            source = strip_code(cell.source, whole_cell=whole, where=place)
        elif cell.cell_type == "markdown":
            source = strip_markdown(cell.source, whole_cell=whole, where=place)
        else:
            source = cell.source
        sources.append((cell, source))
    return _notebook(nb, name, sources, learner=True, keep_outputs=lambda cell: False)


def clean_solution(nb, name: str):
    """Solution notebook ``nb`` normalised (sources untouched); outputs kept only in cells
    tagged ``nbval-check-output``, whose outputs the solution tests compare."""
    return _notebook(
        nb,
        name,
        [(cell, cell.source) for cell in nb.cells],
        learner=False,
        keep_outputs=lambda cell: CHECK_OUTPUT_TAG in cell.metadata.get("tags", []),
    )


def render(nb) -> str:
    """The exact text written for ``nb`` (validated; nbformat's layout; final newline)."""
    nbformat.validate(nb)
    text = nbformat.writes(nb, version=4)
    return text if text.endswith("\n") else text + "\n"
