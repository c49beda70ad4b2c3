"""What ``course grade`` keeps in its output folder between runs, so that a batch survives.

``OUT/.course/`` (the instructor's; no sandbox ever sees it):

- ``secret.json``: the assignment's secret, drawn the first time a batch is graded into ``OUT``.
  The cases are drawn from a seed derived from it, so regrading gives the same scores and a
  learner cannot know the cases in advance (feedback pages never show the seed). ``--seed N``
  overrides it for one run.
- ``records/<key>.pkl``: each submission's grade, written the moment it is graded. ``--resume``
  skips every submission whose record matches its notebook's bytes, the seed, the solutions and
  the hidden tests; an interrupted batch of thousands goes on where it stopped. These files are
  written by the grader itself, never by learner code (pickle: only load a folder you wrote).
  Records written before the grader's modules were arranged in folders load under the new module
  names (:data:`RENAMED`); a record that cannot be read is graded again.

``gradebook.csv`` is rewritten (atomically: a reader never sees half a file) after every
submission, so it is always consistent with what has been graded so far.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import secrets
import shutil
import tempfile
from pathlib import Path

__all__ = ["Store", "atomic_write_bytes", "RENAMED"]

#: Modules of the classes a record holds, as they were named before the grader and the instructor
#: tools were arranged in folders -> their names now (so that ``--resume`` reads older records).
RENAMED = {
    "course.instructor.records": "course.instructor.pipeline.records",
    "course.grader.findings": "course.grader.compare.findings",
    "course.grader.outcome": "course.grader.run.outcome",
}


class _Records(pickle.Unpickler):
    def find_class(self, module, name):
        return super().find_class(RENAMED.get(module, module), name)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _file_digest(path) -> str:
    from .records import NotGraded, read_submission

    h = hashlib.sha256()
    try:
        h.update(read_submission(path))  # a regular file only: a FIFO or a link is never read
    except NotGraded as exc:
        h.update(b"unreadable: " + str(exc).encode("utf-8", "replace"))
    return h.hexdigest()


class Store:
    """The private folder ``OUT/.course`` of one output folder (see the module docstring)."""

    def __init__(self, out, resume: bool = False):
        self.root = Path(out) / ".course"
        self.records = self.root / "records"
        if not resume and self.records.exists():
            shutil.rmtree(self.records)
        self.records.mkdir(parents=True, exist_ok=True)
        self.context = ""

    def seed(self) -> int:
        """The assignment's grading seed, from its secret (drawn and saved the first time)."""
        path = self.root / "secret.json"
        secret = None
        if path.is_file():
            try:
                secret = str(json.loads(path.read_text(encoding="utf-8"))["secret"])
            except (OSError, ValueError, KeyError, TypeError):
                secret = None
        if not secret:
            secret = secrets.token_hex(16)
            atomic_write_bytes(path, json.dumps({"secret": secret}).encode())
        return int.from_bytes(hashlib.sha256(secret.encode()).digest()[:4], "big") % (2**31 - 2) + 1

    def bind(self, *parts) -> None:
        """What else a record must match: the seed, the solutions, the hidden tests, the limits."""
        self.context = hashlib.sha256(json.dumps([str(p) for p in parts]).encode()).hexdigest()

    def key(self, name: str, path) -> str:
        return hashlib.sha256(f"{self.context}\0{name}\0{_file_digest(path)}".encode()).hexdigest()[:32]

    def load(self, name: str, path):
        """The record of this submission as it is now, or ``None`` (none yet, or one that cannot be
        read: the submission is then graded again)."""
        f = self.records / f"{self.key(name, path)}.pkl"
        if not f.is_file():
            return None
        try:
            with open(f, "rb") as fh:
                return _Records(fh).load()  # the grader's own record (see the module docstring)
        except Exception:
            return None

    def save(self, name: str, path, record) -> None:
        atomic_write_bytes(self.records / f"{self.key(name, path)}.pkl", pickle.dumps(record))
