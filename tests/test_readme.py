"""The README's lesson table and exercise counts say what the course holds: the lessons of
solutions/ (number and title, from each notebook's heading) and the registry's exercises, so a new
lesson that the README does not list, or a count a new exercise makes stale, fails here."""

from __future__ import annotations

import re
from pathlib import Path

from course.authoring.build import find_lessons
from course.grader import exercises

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")


def _table_rows() -> list[tuple[str, str]]:
    part = README.split("\n## Lessons\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| (\d\d) \| ([^|]+?) \|", part, re.MULTILINE)


def test_the_lesson_table_lists_every_lesson_with_its_title():
    lessons = find_lessons(REPO / "solutions")
    expected = [(f"{l.number:02d}", l.title.split(" · ", 1)[-1]) for l in lessons]
    assert _table_rows() == expected, "README ## Lessons: one row per solutions/NN_topic.ipynb, its heading"


def test_the_exercise_count_is_the_registrys():
    """The README states no count of exercises that a new one would make stale ("N exercises" is
    the registry's number wherever it is written)."""
    counts = [int(n) for n in re.findall(r"\b(\d+)\s+(?:graded\s+)?exercises\b", README)]
    assert all(n == len(exercises()) for n in counts), (counts, len(exercises()))
