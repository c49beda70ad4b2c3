"""``course gradescope``: the zip Gradescope's autograder takes, built instead of assembled by hand.

::

    course gradescope [--repo .] [--out autograder.zip] [--lesson NN_topic] [--hidden hidden.json]

The zip holds ``setup.sh`` and ``run_autograder`` at its top (from ``gradescope/``, with
``COURSE_LESSON`` set when ``--lesson`` is given), the repository as ``course/`` (package,
``pyproject.toml``, ``solutions/``: the grader reads its check cells) and, when given, the hidden
tests as ``hidden.json``, checked first like ``course grade --hidden`` checks them.
"""

from __future__ import annotations

import sys
from pathlib import Path

from .release import _files, _repo, _zip

__all__ = ["gradescope_zip", "add_arguments", "run"]


def gradescope_zip(repo=".", out="autograder.zip", lesson=None, hidden=None) -> Path:
    """Build Gradescope's autograder zip; returns its path."""
    root = _repo(repo)
    gs = root / "gradescope"
    if not (gs / "setup.sh").is_file() or not (gs / "run_autograder").is_file():
        raise ValueError(f"{gs}: setup.sh and run_autograder are missing")
    if lesson is not None and not (root / "solutions" / f"{lesson}.ipynb").is_file():
        known = ", ".join(sorted(p.stem for p in (root / "solutions").glob("*.ipynb")))
        raise ValueError(f"--lesson {lesson}: no solutions/{lesson}.ipynb (lessons: {known})")
    entries: list[tuple[str, Path | bytes]] = [("setup.sh", gs / "setup.sh")]
    script = (gs / "run_autograder").read_text(encoding="utf-8")
    if lesson is not None:
        script = script.replace("set -uo pipefail\n", f'set -uo pipefail\n: "${{COURSE_LESSON:={lesson}}}"\n', 1)
    entries.append(("run_autograder", script.encode("utf-8")))
    if hidden is not None:
        from ..pipeline import hidden as hidden_tests

        hidden_tests.load(hidden)  # a malformed file stops here, with its own message
        entries.append(("hidden.json", Path(hidden)))
    for rel in ("course", "solutions", "pyproject.toml", "README.md"):
        for p in _files(root, rel):
            entries.append((f"course/{p.relative_to(root).as_posix()}", p))
    return _zip(Path(out), entries)


def add_arguments(p) -> None:
    p.add_argument("--repo", default=".", help="the course repository (default .)")
    p.add_argument("--out", default="autograder.zip", help="the zip to write (default autograder.zip)")
    p.add_argument("--lesson", help="the lesson this assignment grades, e.g. 03_backprop")
    p.add_argument("--hidden", help="hidden tests to include (checked first)")


def run(args) -> int:
    from ..pipeline.hidden import HiddenError

    try:
        path = gradescope_zip(args.repo, args.out, args.lesson, args.hidden)
    except (OSError, ValueError, HiddenError) as exc:
        print(f"course gradescope: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {path}: upload it as the assignment's autograder (Configure Autograder > Zip file upload)")
    return 0
