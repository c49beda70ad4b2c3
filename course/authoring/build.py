"""``course build``: every learner notebook regenerated from its solution notebook; what is out of
date; lesson notebooks found by name (:mod:`course.lessons`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from ..lessons import LESSON_FILE, Lesson, find_lessons  # noqa: F401 (find_lessons: course.authoring's API)
from .normalise import clean_solution, learner_notebook, render
from .strip import AuthoringError


def lesson_name(path) -> str:
    """``solutions/03_backprop.ipynb`` -> ``"03_backprop"``; other file names are an error."""
    path = Path(path)
    if not LESSON_FILE.match(path.name):
        raise AuthoringError(
            f"{path}: lesson files are named NN_topic.ipynb (two digits, then lower-case words "
            f"joined by '_', e.g. 03_backprop.ipynb), got {path.name!r}"
        )
    return path.stem


# ---------------------------------------------------------------- build


def _read(path: Path):
    try:
        return nbformat.read(path, as_version=4)
    except Exception as exc:  # nbformat raises several kinds for a broken file
        raise AuthoringError(f"{path}: not a readable notebook ({exc})") from exc


def _solution_paths(solutions_dir: Path) -> list[Path]:
    if not solutions_dir.is_dir():
        return []
    paths = sorted(solutions_dir.glob("*.ipynb"))
    for path in paths:
        lesson_name(path)
    return paths


def expected_notebooks(solutions_dir) -> dict[str, str]:
    """File name -> text of every learner notebook that ``solutions_dir`` builds."""
    result = {}
    for path in _solution_paths(Path(solutions_dir)):
        nb = learner_notebook(_read(path), path.stem, where=str(path))
        result[path.name] = render(nb)
    return result


def _stale(notebooks_dir: Path, expected) -> list[Path]:
    if not notebooks_dir.is_dir():
        return []
    return [
        path
        for path in sorted(notebooks_dir.glob("*.ipynb"))
        if LESSON_FILE.match(path.name) and path.name not in expected
    ]


def out_of_date(solutions_dir, notebooks_dir) -> list[str]:
    """What is wrong with ``notebooks_dir`` compared with a fresh build (empty: up to date)."""
    solutions_dir, notebooks_dir = Path(solutions_dir), Path(notebooks_dir)
    expected = expected_notebooks(solutions_dir)
    problems = []
    for name, text in expected.items():
        target = notebooks_dir / name
        if not target.exists():
            problems.append(f"{target} is missing (built from {solutions_dir / name})")
        elif target.read_text(encoding="utf-8") != text:
            problems.append(f"{target} differs from what {solutions_dir / name} builds")
    for path in _stale(notebooks_dir, expected):
        problems.append(f"{path} has no {solutions_dir / path.name} (lesson renamed or removed?)")
    return problems


def _has_work(path: Path) -> bool:
    """True when the notebook at ``path`` has been run (outputs or execution counts)."""
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception:
        return False
    return any(
        cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)
        for cell in nb.cells
    )


@dataclass
class BuildReport:
    """What :func:`build` did, as lists of paths."""

    written: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    refused: list[Path] = field(default_factory=list)  # has outputs: maybe a learner's work
    stale: list[Path] = field(default_factory=list)  # no solution notebook any more
    cleaned: list[Path] = field(default_factory=list)  # solution notebooks normalised


def write_text(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8", newline="\n")


def build(solutions_dir, notebooks_dir, *, force=False, clean_solutions=False) -> BuildReport:
    """Regenerate the learner notebooks in ``notebooks_dir`` from ``solutions_dir``.

    Files that would not change are not touched; a learner notebook with outputs is only
    overwritten with ``force``; stale lesson notebooks are reported, never deleted.
    With ``clean_solutions`` the solution notebooks are normalised in place first.
    """
    solutions_dir, notebooks_dir = Path(solutions_dir), Path(notebooks_dir)
    report = BuildReport()
    if clean_solutions:
        for path in _solution_paths(solutions_dir):
            text = render(clean_solution(_read(path), path.stem))
            if path.read_text(encoding="utf-8") != text:
                write_text(path, text)
                report.cleaned.append(path)
    expected = expected_notebooks(solutions_dir)
    notebooks_dir.mkdir(parents=True, exist_ok=True)
    for name, text in expected.items():
        target = notebooks_dir / name
        if target.exists() and target.read_text(encoding="utf-8") == text:
            report.unchanged.append(target)
        elif target.exists() and not force and _has_work(target):
            report.refused.append(target)
        else:
            write_text(target, text)
            report.written.append(target)
    report.stale = _stale(notebooks_dir, expected)
    return report
