"""``course new-lesson``: a new solution notebook with the course's cells (what you will learn, an
exercise with its check cell, a recap), numbered after the last lesson."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from nbformat import v4

from ..lessons import LESSON_FILE
from .build import write_text
from .normalise import clean_solution, render
from .strip import AuthoringError

PLACEHOLDER_PREFIX = "TODO-register-me."

# ---------------------------------------------------------------- new lesson


def slugify(title: str) -> str:
    """``"Batch normalisation!"`` -> ``"batch_normalisation"`` (ASCII, lower case, ``_``)."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "_", ascii_title.lower()).strip("_")
    if not slug:
        raise AuthoringError(f"lesson title must contain letters or digits, got {title!r}")
    return slug


def _lesson_cells(title: str, slug: str) -> list:
    exercise_id = f"{PLACEHOLDER_PREFIX}{slug}.double"
    md, code = v4.new_markdown_cell, v4.new_code_cell
    return [
        md(
            f"# {title}\n\n"
            "_Replace this paragraph: the question this lesson answers and how it builds on "
            "the previous lesson._"
        ),
        md(
            "## What you will learn\n\n"
            "- _objective 1 (one line each, two to four objectives)_\n"
            "- _objective 2_\n"
            "- _objective 3_"
        ),
        code("import numpy as np\n\nfrom course.grader import check"),
        md(
            "## The idea\n\n"
            "_Explain the concept with a small worked example before asking for code. "
            "Formulas in LaTeX, e.g. $\\text{out} = 2x$, and state the shapes "
            "(N batch, D features)._"
        ),
        md(
            "## Exercise 1: `double`\n\n"
            "Implement `double(x)`, which returns `2 * x` for an array `x` of shape (N, D).\n\n"
            "Then run the check cell below it: it tells you whether your function is right "
            "and, if not, what to look at."
        ),
        code(
            "def double(x):\n"
            '    """Return 2 * x.\n\n'
            "    - x: (N, D). Returns out: (N, D).\n"
            '    """\n'
            "    ### BEGIN SOLUTION  (hint: arrays support * like numbers)\n"
            "    return 2 * x\n"
            "    ### END SOLUTION"
        ),
        code(
            "# TODO (instructor): register this exercise in course/grader/topics/<id prefix>.py, then\n"
            "# replace the placeholder id below with the registered one and delete these two lines.\n"
            f'check("{exercise_id}", double)'
        ),
        md(
            "## Recap\n\n"
            "- _what the learner can now do, one line per objective_\n"
            "- _where the next lesson goes from here_"
        ),
    ]


def new_lesson(title: str, solutions_dir) -> Path:
    """Create ``solutions_dir/NN_slug.ipynb`` from the lesson template with the next free number."""
    solutions_dir = Path(solutions_dir)
    slug = slugify(title)
    numbers = []
    for path in sorted(solutions_dir.glob("*.ipynb")) if solutions_dir.is_dir() else []:
        match = LESSON_FILE.match(path.name)
        if match:
            numbers.append(int(match["number"]))
            if match["topic"] == slug:
                raise AuthoringError(f"a lesson on {slug!r} exists already: {path}")
    number = max(numbers, default=-1) + 1
    if number > 99:
        raise AuthoringError(f"{solutions_dir} has lesson 99 already; lessons are numbered 00-99")
    name = f"{number:02d}_{slug}"
    nb = v4.new_notebook(cells=_lesson_cells(title.strip(), slug))
    solutions_dir.mkdir(parents=True, exist_ok=True)
    path = solutions_dir / f"{name}.ipynb"
    write_text(path, render(clean_solution(nb, name)))
    return path
