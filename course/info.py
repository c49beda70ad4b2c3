"""``course info``: what is installed, which backend is in use, and where the lessons are."""

from __future__ import annotations

import os
import platform

from . import __version__


def add_arguments(parser) -> None:
    parser.add_argument("--backend", action="store_true", help="also try to load the configured backend")
    parser.add_argument("--notebooks", default="notebooks", metavar="DIR", help="lesson folder (default: notebooks)")


def run(args) -> int:
    print(f"backprop-course {__version__} on Python {platform.python_version()}")
    name = os.environ.get("COURSE_BACKEND", "numpy")
    print(f"array backend: {name} (set COURSE_BACKEND=cupy or call course.backend.use('cupy') for a GPU)")
    if args.backend:
        from . import backend

        module = backend.current()
        print(f"loaded: {module.__name__} {module.__version__}")
    from .lessons import find_lessons

    lessons = find_lessons(args.notebooks)
    if lessons:
        print(f"lessons in {args.notebooks}/ (open them with: jupyter lab {args.notebooks}/):")
        for lesson in lessons:
            print(f"  {lesson.path.name:32} {lesson.title}")
    else:
        print(f"no lessons found in {args.notebooks}/: run this from the course folder, or pass --notebooks DIR")
    return 0
