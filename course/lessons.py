"""Lesson names, written once: ``NN_topic`` (two digits, then lower-case words joined by ``_``).

A lesson *is* its solution notebook ``solutions/NN_topic.ipynb`` (``course new-lesson`` creates
one); its number gives its place in the course. Nothing else lists the lessons: the grader's
registry derives them from the solutions and from the lessons its exercises name
(:func:`course.grader.lessons`), authoring finds them with the same pattern.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["LESSON_NAME", "LESSON_FILE", "is_lesson", "number", "topic_words", "ordered", "solutions_dir",
           "from_directory"]

_PATTERN = r"(?P<number>\d{2})_(?P<topic>[a-z0-9]+(?:_[a-z0-9]+)*)"

#: A lesson name, e.g. "03_backprop".
LESSON_NAME = re.compile(rf"^{_PATTERN}$")
#: A lesson's notebook file name, e.g. "03_backprop.ipynb".
LESSON_FILE = re.compile(rf"^{_PATTERN}\.ipynb$")


def is_lesson(name) -> bool:
    """True for a lesson name such as ``"03_backprop"``."""
    return isinstance(name, str) and LESSON_NAME.match(name) is not None


def number(name: str) -> int:
    """``"03_backprop"`` -> 3."""
    return int(name[:2])


def topic_words(name: str) -> str:
    """``"04_gradient_checking"`` -> ``"Gradient checking"`` (a title when the notebook has none)."""
    return LESSON_NAME.match(name)["topic"].replace("_", " ").capitalize()


def ordered(names) -> list[str]:
    """Lesson names without repeats, in course order (by number, then name)."""
    return sorted(set(names), key=lambda n: (number(n), n))


def solutions_dir() -> Path | None:
    """The ``solutions/`` folder beside the package in a checkout of the course (None when the
    package is installed without it)."""
    path = Path(__file__).resolve().parent.parent / "solutions"
    return path if path.is_dir() else None


def from_directory(directory) -> list[str]:
    """The lessons whose notebooks are in ``directory`` (``solutions/`` by default), in order."""
    directory = solutions_dir() if directory is None else Path(directory)
    if directory is None or not directory.is_dir():
        return []
    return ordered(p.stem for p in directory.glob("*.ipynb") if LESSON_FILE.match(p.name))


@dataclass(frozen=True)
class Lesson:
    """One lesson: ``name`` "03_backprop", ``number`` 3, ``title`` from its first heading."""

    name: str
    number: int
    title: str
    path: Path


def _title(path: Path, name: str) -> str:
    """The first line of the notebook's first markdown cell (read as JSON: no nbformat, no
    validation, so ``course info`` starts fast), else the topic's words."""
    try:
        cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
    except (OSError, ValueError, AttributeError):
        return topic_words(name)
    for cell in cells if isinstance(cells, list) else []:
        if isinstance(cell, dict) and cell.get("cell_type") == "markdown":
            src = cell.get("source", "")
            for line in ("".join(src) if isinstance(src, list) else str(src)).splitlines():
                if line.strip():
                    return line.strip().lstrip("#").strip()
            break
    return topic_words(name)


def find_lessons(directory) -> list[Lesson]:
    """The lessons in ``directory`` (solutions/ or notebooks/), by number; other files ignored."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    lessons = []
    for path in sorted(directory.glob("*.ipynb")):
        match = LESSON_FILE.match(path.name)
        if match:
            lessons.append(Lesson(path.stem, int(match["number"]), _title(path, path.stem), path))
    return lessons
