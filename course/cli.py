"""The ``course`` command line.

Each sub-command lives in the module that owns its concept; that module provides
``add_arguments(parser)`` and ``run(args) -> int``. Register a new one in ``COMMANDS``.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys

from . import __version__

# name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "info": ("course.info", "show the installed version, the array backend and the lessons"),
    "build": ("course.authoring", "regenerate the learner notebooks in notebooks/ from solutions/"),
    "new-lesson": ("course.authoring", "scaffold a new solution notebook in solutions/"),
    "progress": ("course.progress", "show your passed exercises and scores per lesson"),
    "lite": ("course.lite", "build the course as a static JupyterLite site (runs in the browser)"),
    "grade": ("course.instructor.grade", "grade a class's notebooks into a gradebook (instructors)"),
    "report": ("course.instructor.course_admin.class_report",
               "what the class got wrong, and who: an HTML page and a CSV"),
    "collect": ("course.instructor.course_admin.collect",
                "unpack an LMS bulk download (Canvas, Moodle) into one notebook each"),
    "manual": ("course.instructor.course_admin.manual",
               "hand-graded answers: collect them per question, merge the scores"),
    "release": ("course.instructor.course_admin.release", "build the learners' copy of the course (no solutions)"),
    "gradescope": ("course.instructor.course_admin.gradescope_zip", "build the Gradescope autograder zip"),
}


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # a parent package is missing
        return False


def _available():
    for name, (module, help_text) in COMMANDS.items():
        if _installed(module):
            yield name, module, help_text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="course",
        description="backprop-course: tools for learners and instructors.",
    )
    parser.add_argument("--version", action="version", version=f"backprop-course {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for name, module, help_text in _available():
        p = sub.add_parser(name, help=help_text, description=help_text)
        importlib.import_module(module).add_arguments(p)
        p.set_defaults(_module=module)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 0
    return int(importlib.import_module(args._module).run(args) or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
