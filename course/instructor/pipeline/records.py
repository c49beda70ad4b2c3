"""What a grade is made of, and how submissions are found and read (no learner code runs here).

- :class:`SubmissionGrade` > :class:`ExerciseGrade` > :class:`SetGrade`: one submission, its
  exercises, their test sets;
- :func:`collect_submissions`: the notebooks to grade and their names;
- :func:`read_notebook`: a submission's file as a notebook, or the reason it is not one.
"""

from __future__ import annotations

import errno
import os
import stat
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ...grader.report import Result

__all__ = ["GradingError", "SetGrade", "ExerciseGrade", "SubmissionGrade", "collect_submissions", "read_notebook",
           "read_submission", "NotGraded", "MAX_NOTEBOOK_BYTES"]

MAX_NOTEBOOK_BYTES = 50 * 2**20


class NotGraded(OSError):
    """A submission's file that is not read: not a regular file, too large, unreadable (the reason)."""


def read_submission(path, limit: int = MAX_NOTEBOOK_BYTES) -> bytes:
    """The bytes of a submission's file: only a regular file, never through a symbolic link (a link
    to the solutions would be graded as the learner's), never a FIFO or a device (a read that never
    ends), at most ``limit`` bytes. Raises :class:`NotGraded` with the reason."""
    path = Path(path)
    try:
        before = os.lstat(path)
    except OSError as exc:
        raise NotGraded(f"cannot read {path.name} ({exc.strerror})") from None
    if stat.S_ISLNK(before.st_mode):
        raise NotGraded(f"{path.name} is a symbolic link (only regular files are graded)")
    if not stat.S_ISREG(before.st_mode):
        raise NotGraded(f"{path.name} is not a regular file (a FIFO, a device or a folder; only regular files "
                        "are graded)")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        why = "it became a symbolic link" if exc.errno == errno.ELOOP else exc.strerror
        raise NotGraded(f"cannot read {path.name} ({why})") from None
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode) or (st.st_dev, st.st_ino) != (before.st_dev, before.st_ino):
            raise NotGraded(f"{path.name} changed while it was read (only regular files are graded)")
        if st.st_size > limit:
            raise NotGraded(f"{path.name} is {st.st_size / 2**20:.0f} MB (more than {limit >> 20} MB)")
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise NotGraded(f"{path.name} is more than {limit >> 20} MB")
    return data


class GradingError(RuntimeError):
    """The grader itself cannot run (bad option, missing solutions, a reference that fails)."""


@dataclass
class SetGrade:
    """One test set of one exercise: the cases of one seed, or the hidden ones."""

    label: str
    hidden: bool
    visibility: str
    seed: int
    n_cases: int
    n_passed: int = 0
    result: Result | None = None
    note: str = ""


@dataclass
class ExerciseGrade:
    """status: passed, failed, not_attempted, error, missing, uses_reference, no_result, not_graded."""

    id: str
    title: str
    points: float
    score: float = 0.0
    status: str = "not_graded"
    sets: list = field(default_factory=list)
    notes: list = field(default_factory=list)

    @property
    def n_cases(self) -> int:
        return sum(s.n_cases for s in self.sets)

    @property
    def n_passed(self) -> int:
        return sum(s.n_passed for s in self.sets)


@dataclass
class SubmissionGrade:
    """status: graded, timeout, crashed, invalid, empty, unknown_lesson, lesson_mismatch, tampering."""

    name: str
    path: str
    lesson: str | None = None
    status: str = "graded"
    exercises: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)
    remarks: list = field(default_factory=list)
    cell_errors: dict = field(default_factory=dict)
    cell_failures: list = field(default_factory=list)  # attribution.CellFailure, the learner's first
    expected_cell_errors: int = 0  # course cells that needed a withheld reference (not reported)
    copies: list = field(default_factory=list)
    timing: dict = field(default_factory=dict)  # the sandbox: seconds to ready, cells done, done
    seconds: float = 0.0

    @property
    def score(self) -> float:
        return round(sum(e.score for e in self.exercises.values()), 4)

    @property
    def max_score(self) -> float:
        return round(sum(e.points for e in self.exercises.values()), 4)

    @property
    def ran(self) -> bool:
        """The grader could run this submission's code (whatever its score)."""
        return self.status in ("graded", "timeout", "tampering", "empty")


def collect_submissions(paths) -> list[tuple[str, Path]]:
    """``(name, path)`` per submission, sorted by name: files as given, folders searched for
    ``*.ipynb`` (checkpoints skipped). The name is the path inside the folder without ``.ipynb``
    (a file's own name for a file); names found more than once get their folder's name in front
    (``solutions/03_backprop`` and ``notebooks/03_backprop``). A path that does not exist raises
    :class:`GradingError`."""
    found: list[tuple[str, str, Path]] = []  # (name, qualifier, path)
    for p in map(Path, paths):
        if p.is_dir():
            for nb in sorted(p.rglob("*.ipynb")):
                if ".ipynb_checkpoints" in nb.parts or (nb.is_dir() and not nb.is_symlink()):
                    continue  # links, FIFOs and devices stay: each gets a row saying it was not read
                found.append((nb.relative_to(p).with_suffix("").as_posix(), p.resolve().name, nb))
        elif p.exists() or p.is_symlink():
            found.append((p.stem if p.suffix == ".ipynb" else p.name, p.resolve().parent.name, p))
        else:
            raise GradingError(f"{p}: no such file or folder")
    seen: set = set()
    found = [f for f in found if not ((a := os.path.abspath(f[2])) in seen or seen.add(a))]  # no link is followed
    counts: dict[str, int] = {}
    for name, _, _ in found:
        counts[name] = counts.get(name, 0) + 1
    out, used = [], set()
    for name, qualifier, path in found:
        if counts[name] > 1:
            name = f"{qualifier}/{name}" if qualifier else name
        base, k = name, 1
        while name in used:
            k += 1
            name = f"{base}-{k}"
        used.add(name)
        out.append((name, path))
    return sorted(out, key=lambda item: item[0])


def read_notebook(path: Path):
    """``(notebook, remark)``, or ``(None, reason)`` for a file that is not a usable notebook."""
    sys.modules.setdefault("rfc3987_syntax", None)  # jsonschema's URI formats: 2 s to import, not used
    import nbformat

    try:
        text = read_submission(path).decode("utf-8")
    except NotGraded as exc:
        return None, f"not graded: {exc}"
    except UnicodeDecodeError:
        return None, f"not a notebook: {path.name} is not UTF-8 text"
    if not text.strip():
        return None, f"not a notebook: {path.name} is empty (0 cells)"
    try:
        nb = nbformat.reads(text, as_version=4)
    except Exception as exc:  # NotJSONError, bad versions, ...
        return None, f"not a notebook: {path.name} is not notebook JSON ({type(exc).__name__})"  # no echo of it
    if not isinstance(nb.get("cells"), list):
        return None, f"not a notebook: {path.name} has no cells"
    try:
        nbformat.validate(nb)
    except Exception as exc:
        return nb, f"the notebook does not validate ({type(exc).__name__}); graded anyway"
    return nb, ""
