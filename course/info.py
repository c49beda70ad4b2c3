"""``course info``: what is installed and where the lessons are."""

from __future__ import annotations

import os
import platform

from . import __version__


def add_arguments(parser) -> None:
    parser.add_argument("--backend", action="store_true", help="also try to load the configured backend")


def run(args) -> int:
    print(f"backprop-course {__version__} on Python {platform.python_version()}")
    name = os.environ.get("COURSE_BACKEND", "numpy")
    print(f"array backend: {name} (set COURSE_BACKEND=cupy or call course.backend.use('cupy') for a GPU)")
    if args.backend:
        from . import backend

        module = backend.current()
        print(f"loaded: {module.__name__} {module.__version__}")
    return 0
