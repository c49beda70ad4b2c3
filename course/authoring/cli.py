"""The command line of ``course build`` and ``course new-lesson``."""

from __future__ import annotations

import sys
from pathlib import Path

from .build import build, out_of_date
from .scaffold import PLACEHOLDER_PREFIX, new_lesson
from .strip import AuthoringError

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
        "  2. register each exercise in course/grader/topics/<id prefix>.py and put its id in the\n"
        f"     check cell in place of the placeholder id '{PLACEHOLDER_PREFIX}<lesson>.<function>'\n"
        "     (the lesson itself needs no registering: the grader finds it in solutions/)\n"
        "  3. run `course build` to generate the learner notebook in notebooks/\n"
        "  4. run `pytest -m notebooks -k <NN>_` to execute the solution and learner notebooks"
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
