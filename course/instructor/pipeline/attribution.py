"""Whose cell failed: the course's or the learner's (no learner code runs here).

A submission's code cells are either the **course's** (the lesson's own demo, setup and plot
cells, exactly as the solution notebook has them: no solution region, not tagged ``solution``)
or the **learner's** (an exercise cell, or a course cell the learner changed). In the sandbox the
course's reference implementations are withheld, so a course cell that calls one fails with
"... is not available while your notebook is graded": that failure is expected and is never
reported, nor is a later course cell's ``NameError`` for a name such a cell would have defined.
Every other failure is reported, the learner's own cells first, each with what it meant for the
grade (:func:`consequence`).
"""

from __future__ import annotations

import ast
import re
from dataclasses import asdict, dataclass

from ...grader.run.outcome import WITHHELD
from . import extract

__all__ = ["WITHHELD", "CellFailure", "course_cells", "normalise", "failures", "consequence", "as_notes"]



def normalise(source: str) -> str:
    """A cell's source without trailing spaces and blank lines at either end."""
    return "\n".join(line.rstrip() for line in str(source).strip().splitlines())


def course_cells(solution_nb) -> frozenset:
    """The normalised sources of the course's code cells in a solution notebook: the cells the
    build copies unchanged into the learner notebook (no solution region, no ``solution`` tag)."""
    out = set()
    for cell in solution_nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        src = cell.get("source", "")
        src = "".join(src) if isinstance(src, list) else str(src)
        tags = (cell.get("metadata") or {}).get("tags") or []
        if "solution" in tags or "BEGIN SOLUTION" in src:
            continue
        if src.strip():
            out.add(normalise(src))
    return frozenset(out)


@dataclass
class CellFailure:
    """One failed cell: ``cell`` counts every cell from 1 (as Jupyter shows them); ``yours``: the
    learner's cell (else the course's, failing through the learner's functions); ``error``: the
    quoted error text; ``timed_out``; ``consequence``: what it meant for the grade (words)."""

    cell: int
    yours: bool
    error: str
    timed_out: bool = False
    consequence: str = ""

    def to_json(self) -> dict:
        return asdict(self)

    @property
    def sentence(self) -> str:
        whose = "" if self.yours else " (the lesson's, running your functions)"
        what = "timed out" if self.timed_out else "failed"
        return f"cell {self.cell}{whose} {what}: {self.error}" + (f"; {self.consequence}" if self.consequence else "")


def failures(cells: list, errors: dict, course: frozenset, quote) -> tuple[list, int]:
    """``(failures, n_expected)`` from the sandbox's cell errors ``{index: text}`` (index into the
    notebook's cells, from 0); ``cells`` are ``(index, source)``; ``quote`` makes learner text
    showable. Expected failures (a course cell that needs a withheld reference) are only counted."""
    sources = dict(cells)
    out, expected, lost = [], 0, set()  # lost: names the expected failures left undefined
    for k, text in sorted(((int(k), str(v)) for k, v in errors.items())):
        is_course = normalise(sources.get(k, "")) in course
        missing = _NAME_ERROR.match(text)
        if is_course and (WITHHELD in text or (missing and missing[1] in lost)):
            expected += 1
            lost |= _bound(sources.get(k, ""))
            continue
        timed_out = text.startswith("Timeout:")
        out.append(CellFailure(k + 1, not is_course, quote(text, 300), timed_out))
    out.sort(key=lambda f: (not f.yours, f.cell))
    return out, expected


_NAME_ERROR = re.compile(r"NameError: name '([A-Za-z_][A-Za-z0-9_]*)' is not defined")


def _bound(source: str) -> set:
    """Every name a cell binds (assignments, definitions, imports, loop targets), at any depth."""
    tree = extract._parse(source)
    if tree is None:
        return set()
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return names


def _defined(source: str) -> list[str]:
    tree = extract._parse(source)
    if tree is None:
        return []
    return [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]


def consequence(failure: CellFailure, source: str, graded: dict, cell_timeout: float) -> str:
    """What a failed cell meant for the grade. ``graded``: exercise function name -> whether the
    grader found it defined after the notebook ran."""
    mine = [name for name in _defined(source) if name in graded]
    lost = [name for name in mine if not graded[name]]
    if lost:
        return (f"{', '.join(f'`{n}`' for n in lost)}, defined in it, {'was' if len(lost) == 1 else 'were'} "
                "not defined, so not graded")
    if failure.timed_out:
        return f"interrupted after {cell_timeout:g} s; the cells after it ran"
    if not failure.yours:
        return "the grade comes from your functions, not from this cell"
    if mine:
        return (f"the functions defined in it ({', '.join(f'`{n}`' for n in mine)}) were graded; in Jupyter, "
                "Run All stops at this cell")
    return "the cells after it ran anyway, but in Jupyter Run All stops at this cell"


def as_notes(fails: list) -> list[str]:
    """Gradebook notes: the learner's own failing cells (the lesson's cells go to the feedback page)."""
    return [f.sentence for f in fails if f.yours]
