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


def test_every_module_run_with_python_m_exists():
    """`python -m course.…` in the README, the Gradescope script and CI names a module that exists
    (a moved module must not leave a command behind that silently fails)."""
    import importlib.util

    texts = [README] + [(REPO / p).read_text(encoding="utf-8") for p in ("gradescope/run_autograder", ".ci/run")
                        if (REPO / p).is_file()]
    named = {m for t in texts for m in re.findall(r"-m (course(?:\.\w+)*)", t)}
    assert "course.instructor.sandbox.bwrap" in named
    missing = sorted(m for m in named if importlib.util.find_spec(m) is None)
    assert not missing, missing
