"""Every graded exercise is followed directly by its check cell, in every lesson.

Derived from the solution notebooks and the registry: a check cell is a code cell that calls
``check("id", fn, ...)``; the cell right before it must be the exercise, a code cell with a
solution region that defines ``fn`` (or, in lesson 02, adds a method to it); every exercise the
registry lists for the lesson has such a check cell; and every code cell with a solution region is
followed by one (an exercise without a check is not graded).
"""

from __future__ import annotations

import json
import re

import pytest

from course import lessons
from course.grader import exercises, get

CHECK = re.compile(r'^check\(\s*"(?P<id>[^"]+)",\s*(?P<fn>\w+)', re.M)
LESSONS = lessons.from_directory(None)


def _cells(lesson):
    cells = json.loads((lessons.solutions_dir() / f"{lesson}.ipynb").read_text(encoding="utf-8"))["cells"]
    return [(c["cell_type"], "".join(c["source"]), c.get("metadata", {}).get("tags", [])) for c in cells]


def _is_exercise(cell) -> bool:
    kind, source, tags = cell
    return kind == "code" and ("### BEGIN SOLUTION" in source or "solution" in tags)


def _defines(source, name) -> bool:
    return re.search(rf"^(def|class) {name}\b", source, re.M) is not None or re.search(rf"\b{name}\b", source) is not None


@pytest.mark.skipif(not LESSONS, reason="needs the solutions/ folder of a checkout")
@pytest.mark.parametrize("lesson", LESSONS)
def test_every_exercise_is_followed_by_its_check(lesson):
    cells = _cells(lesson)
    checked = {}
    for i, (kind, source, _) in enumerate(cells):
        for match in CHECK.finditer(source) if kind == "code" else ():
            ex_id, fn = match["id"], match["fn"]
            assert get(ex_id).lesson == lesson, f"{lesson}: check {ex_id!r} belongs to lesson {get(ex_id).lesson}"
            before = cells[i - 1] if i else ("", "", [])
            assert _is_exercise(before) and _defines(before[1], fn), (
                f"{lesson}: the check of {ex_id} (cell {i}) does not follow the exercise that defines {fn}; "
                f"the cell before it is {before[1][:80]!r}")
            checked[ex_id] = i
    registered = {ex.id for ex in exercises(lesson)}
    assert registered == set(checked), f"{lesson}: registered without a check cell: {registered - set(checked)}; " \
        f"checked but not registered: {set(checked) - registered}"
    for i, cell in enumerate(cells):
        if _is_exercise(cell):
            after = cells[i + 1][1] if i + 1 < len(cells) else ""
            assert CHECK.search(after), f"{lesson}: the exercise in cell {i} ({cell[1][:60]!r}) has no check cell after it"


def test_a_check_away_from_its_exercise_is_found(tmp_path, monkeypatch):
    # the test above on a lesson whose check follows a demo cell instead of the exercise
    nb = {"cells": [
        {"cell_type": "code", "metadata": {}, "source": "def relu_forward(x):\n    ### BEGIN SOLUTION\n    return x\n"
                                                         "    ### END SOLUTION"},
        {"cell_type": "code", "metadata": {}, "source": "print(relu_forward(1))"},
        {"cell_type": "code", "metadata": {}, "source": 'check("layers.relu_forward", relu_forward)'},
    ]}
    lesson = get("layers.relu_forward").lesson
    (tmp_path / f"{lesson}.ipynb").write_text(json.dumps(nb))
    monkeypatch.setattr(lessons, "solutions_dir", lambda: tmp_path)
    with pytest.raises(AssertionError, match="does not follow the exercise"):
        test_every_exercise_is_followed_by_its_check(lesson)
