"""Lesson authoring: ``course build`` and ``course new-lesson``.

Instructors write each lesson once, as a *solution notebook* ``solutions/NN_topic.ipynb``
(``NN`` is the two-digit lesson number, ``topic`` lower-case words joined by ``_``; the
title is the first heading of the first markdown cell). ``course build`` regenerates the
*learner notebook* ``notebooks/NN_topic.ipynb`` from it. Never edit ``notebooks/`` by hand:
a test fails when it is out of date with ``solutions/``.

Solution regions (the nbgrader convention)
------------------------------------------
In a code cell, the lines between the markers become one ``raise NotImplementedError``
at the marker's indentation; everything else in the cell stays as written. This cell in
``solutions/``::

    def relu_forward(x):
        # ReLU: out = max(0, x), element-wise
        ### BEGIN SOLUTION  (hint: np.maximum)
        return np.maximum(0, x)
        ### END SOLUTION

becomes, in ``notebooks/``::

    def relu_forward(x):
        # ReLU: out = max(0, x), element-wise
        raise NotImplementedError("write your solution here (replace this line). Hint: np.maximum")

The hint after the marker is optional. A whole code cell is a solution when it has the
tag ``solution`` (or nbgrader's ``solution`` flag) and no markers: its leading comment
lines (the task, in words) stay and the rest becomes the ``raise``. In a markdown cell, a
marked region or a whole ``solution``-tagged cell becomes ``YOUR ANSWER HERE``. A line
that mentions BEGIN/END SOLUTION but is not exactly a marker is an error, so that a typo
can never leak a solution; so are unbalanced markers (the message names file and cell).

Normalisation (what else ``course build`` does)
-----------------------------------------------
Outputs and execution counts are cleared; cell metadata keeps only ``tags`` (without
``solution``), ``editable``, ``deletable`` and ``jupyter`` (hidden source/outputs);
notebook metadata is a fixed kernelspec and language plus
``metadata["course"] = {"lesson": "NN_topic"}``, which tells the grader which lesson a
submitted notebook is; cell ids are the solution's (or ``cell-<index>`` where missing);
the file is nbformat 4.5 written by :mod:`nbformat`. Building twice gives byte-identical
files.

Solution notebooks are only read. ``course build --clean-solutions`` also normalises them
in place (outputs cleared except in cells tagged ``nbval-check-output``, metadata trimmed
the same way but ``solution`` tags and nbgrader metadata kept) so the repository stays
small and diffs show only real changes; run it before committing.

A learner notebook that someone has run (it has outputs) is never overwritten without
``--force``: it may be a learner's work.
"""

from __future__ import annotations

import copy
import json
import re
import sys
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat import v4

__all__ = [
    "AuthoringError",
    "Lesson",
    "BuildReport",
    "lesson_name",
    "find_lessons",
    "strip_code",
    "strip_markdown",
    "learner_notebook",
    "clean_solution",
    "render",
    "expected_notebooks",
    "out_of_date",
    "build",
    "new_lesson",
    "slugify",
    "PLACEHOLDER_PREFIX",
]

NBFORMAT_MINOR = 5
LESSON_FILE = re.compile(r"^(?P<number>\d{2})_(?P<topic>[a-z0-9]+(?:_[a-z0-9]+)*)\.ipynb$")
DEFAULT_POINTER = "write your solution here (replace this line)"
MARKDOWN_STUB = "YOUR ANSWER HERE"
SOLUTION_TAG = "solution"
CHECK_OUTPUT_TAG = "nbval-check-output"
KEEP_CELL_METADATA = ("tags", "editable", "deletable", "jupyter")
NOTEBOOK_METADATA = {
    "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}
#: Exercise ids starting with this are placeholders written by ``course new-lesson``.
PLACEHOLDER_PREFIX = "TODO-register-me."

_BEGIN = re.compile(r"^(?P<indent>[ \t]*)### BEGIN SOLUTION\b(?P<rest>.*)$")
_END = re.compile(r"^[ \t]*### END SOLUTION[ \t\r]*$")
_LOOKS_LIKE_MARKER = re.compile(r"(BEGIN|END)[ \t_]*SOLUTION", re.IGNORECASE)
_CELL_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


class AuthoringError(ValueError):
    """A solution notebook cannot be turned into a learner notebook (the message says where)."""


@dataclass(frozen=True)
class Lesson:
    """One lesson: ``name`` "03_backprop", ``number`` 3, ``title`` from its first heading."""

    name: str
    number: int
    title: str
    path: Path


def lesson_name(path) -> str:
    """``solutions/03_backprop.ipynb`` -> ``"03_backprop"``; other file names are an error."""
    path = Path(path)
    if not LESSON_FILE.match(path.name):
        raise AuthoringError(
            f"{path}: lesson files are named NN_topic.ipynb (two digits, then lower-case words "
            f"joined by '_', e.g. 03_backprop.ipynb), got {path.name!r}"
        )
    return path.stem


def _title(nb, name: str) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.strip():
                    return line.strip().lstrip("#").strip()
            break
    return LESSON_FILE.match(name + ".ipynb")["topic"].replace("_", " ").capitalize()


def find_lessons(directory) -> list[Lesson]:
    """The lessons in ``directory`` (solutions/ or notebooks/), by number; other files ignored."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    lessons = []
    for path in sorted(directory.glob("*.ipynb")):
        match = LESSON_FILE.match(path.name)
        if match:
            nb = _read(path)
            lessons.append(Lesson(path.stem, int(match["number"]), _title(nb, path.stem), path))
    return lessons


# ---------------------------------------------------------------- solution regions


def _where(where: str, index: int, source: str) -> str:
    first = next((line.strip() for line in source.splitlines() if line.strip()), "")
    first = first if len(first) <= 40 else first[:37] + "..."
    return f"{where}, cell {index + 1} (counting from 1, starting {first!r})"


def _pointer(rest: str) -> str:
    """The hint written after ``### BEGIN SOLUTION``, e.g. ``(hint: use np.maximum)``."""
    hint = rest.strip()
    if hint.startswith("(") and hint.endswith(")"):
        hint = hint[1:-1].strip()
    hint = re.sub(r"^hint\s*:\s*", "", hint, flags=re.IGNORECASE)
    return f"{DEFAULT_POINTER}. Hint: {hint}" if hint else DEFAULT_POINTER


def _regions(source: str, where: str):
    """Yield ``(begin, end, indent, pointer)`` line numbers of each marked region."""
    lines = source.split("\n")
    begin = None
    for number, line in enumerate(lines):
        start, stop = _BEGIN.match(line), _END.match(line)
        if start:
            if begin is not None:
                raise AuthoringError(
                    f"{where}: ### BEGIN SOLUTION on line {number + 1} comes before the "
                    f"### END SOLUTION of the one on line {begin[0] + 1}"
                )
            begin = (number, start["indent"], _pointer(start["rest"]))
        elif stop:
            if begin is None:
                raise AuthoringError(
                    f"{where}: ### END SOLUTION on line {number + 1} has no ### BEGIN SOLUTION before it"
                )
            yield begin[0], number, begin[1], begin[2]
            begin = None
        elif _LOOKS_LIKE_MARKER.search(line):
            raise AuthoringError(
                f"{where}: line {number + 1} looks like a solution marker but is not one: "
                f"{line.strip()!r}; write exactly '### BEGIN SOLUTION' or '### END SOLUTION' "
                "at the start of the line"
            )
    if begin is not None:
        raise AuthoringError(
            f"{where}: ### BEGIN SOLUTION on line {begin[0] + 1} has no ### END SOLUTION"
        )


def _replace_regions(source: str, where: str, stub) -> tuple[str, bool]:
    lines = source.split("\n")
    out, position, found = [], 0, False
    for begin, end, indent, pointer in _regions(source, where):
        out += lines[position:begin]
        out.append(stub(indent, pointer))
        position, found = end + 1, True
    out += lines[position:]
    return "\n".join(out), found


def _raise_line(indent: str, pointer: str) -> str:
    return f"{indent}raise NotImplementedError({json.dumps(pointer, ensure_ascii=False)})"


def strip_code(source: str, *, whole_cell: bool = False, where: str = "cell") -> str:
    """A code cell's learner version: each solution region becomes a ``raise NotImplementedError``.

    With ``whole_cell`` (a cell tagged ``solution``) and no markers, the leading comment and
    blank lines stay and the rest of the cell becomes the ``raise``.
    """
    stripped, found = _replace_regions(source, where, _raise_line)
    if found or not whole_cell:
        return stripped
    lines = source.split("\n")
    keep = 0
    while keep < len(lines) and (not lines[keep].strip() or lines[keep].lstrip().startswith("#")):
        keep += 1
    head = "\n".join(lines[:keep]).rstrip()
    stub = _raise_line("", DEFAULT_POINTER)
    return f"{head}\n{stub}" if head else stub


def strip_markdown(source: str, *, whole_cell: bool = False, where: str = "cell") -> str:
    """A markdown cell's learner version: each marked region (or the whole tagged cell) becomes
    ``YOUR ANSWER HERE``."""
    stripped, found = _replace_regions(source, where, lambda indent, pointer: MARKDOWN_STUB)
    if found or not whole_cell:
        return stripped
    return MARKDOWN_STUB


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
        place = _where(where, index, cell.source)
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


def _write(path: Path, text: str) -> None:
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
                _write(path, text)
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
            _write(target, text)
            report.written.append(target)
    report.stale = _stale(notebooks_dir, expected)
    return report


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
            "# TODO (instructor): register this exercise in course.grader, then replace the\n"
            "# placeholder id below with the registered one and delete these two lines.\n"
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
    _write(path, render(clean_solution(nb, name)))
    return path


# ---------------------------------------------------------------- command line


def add_arguments(parser) -> None:
    # One module serves two commands; the sub-parser's prog ends with the command's name.
    if parser.prog.split()[-1] == "new-lesson":
        parser.add_argument("title", help='the lesson title, e.g. "Batch normalisation"')
        parser.add_argument(
            "--dir", default="solutions", help="solution notebooks folder (default: solutions)"
        )
        return
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; list out-of-date learner notebooks and exit 1 if there are any",
    )
    parser.add_argument(
        "--clean-solutions",
        action="store_true",
        help="also normalise the solution notebooks in place (clear outputs, trim metadata)",
    )
    parser.add_argument(
        "--force", action="store_true", help="overwrite learner notebooks even if they have outputs"
    )
    parser.add_argument("--solutions", default="solutions", metavar="DIR", help="default: solutions")
    parser.add_argument("--notebooks", default="notebooks", metavar="DIR", help="default: notebooks")


def _run_new_lesson(args) -> int:
    path = new_lesson(args.title, args.dir)
    print(f"created {path}")
    print(
        "next:\n"
        "  1. write the lesson in Jupyter; put solution code between '### BEGIN SOLUTION' and\n"
        "     '### END SOLUTION' lines (the learner version gets a NotImplementedError there)\n"
        "  2. register each exercise in course.grader and put its id in the check cell in place\n"
        f"     of the placeholder id '{PLACEHOLDER_PREFIX}<lesson>.<function>'\n"
        "  3. run `course build` to generate the learner notebook in notebooks/\n"
        "  4. run `pytest -m notebooks` to execute the solution and learner notebooks"
    )
    return 0


def _run_build(args) -> int:
    solutions = Path(args.solutions)
    if not solutions.is_dir():
        print(
            f"no {solutions}/ folder here: run from the repository root or pass --solutions DIR",
            file=sys.stderr,
        )
        return 1
    if args.check:
        problems = out_of_date(solutions, args.notebooks)
        for problem in problems:
            print(problem)
        if problems:
            print("run `course build` to regenerate the learner notebooks")
            return 1
        print(f"{args.notebooks}/ is up to date with {solutions}/")
        return 0
    report = build(solutions, args.notebooks, force=args.force, clean_solutions=args.clean_solutions)
    for path in report.cleaned:
        print(f"cleaned {path}")
    for path in report.written:
        print(f"wrote {path}")
    print(f"{len(report.unchanged)} learner notebook(s) already up to date")
    for path in report.stale:
        print(f"note: {path} has no solution notebook; delete it if the lesson was renamed")
    for path in report.refused:
        print(
            f"not overwritten: {path} has outputs (someone's work?); use --force to replace it",
            file=sys.stderr,
        )
    return 1 if report.refused else 0


def run(args) -> int:
    try:
        if args.command == "new-lesson":
            return _run_new_lesson(args)
        return _run_build(args)
    except AuthoringError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
