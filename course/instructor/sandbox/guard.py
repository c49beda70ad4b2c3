"""Without the OS sandbox (``--isolation process``): notice writes to the grader's files.

In a bubblewrap sandbox the grader's files are not even visible; a plain child process runs as
the grader's user and could write to them, so the batch checks them after each submission.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

__all__ = ["FileGuard"]


class FileGuard:
    """Notices when a submission writes to the grader's files (the solutions, the hidden tests,
    the ``course`` package). It only reports: it never writes or deletes anything (the grades of
    this batch are safe anyway: the grader read everything it needs before any learner code ran).
    Files inside a git checkout are left to git (people edit them while tests run).

    Submissions are checked as they finish; a change is blamed on every submission that ran
    since the last clean check (one, with ``--jobs 1``).
    """

    def __init__(self, roots):
        self.roots = [Path(r) for r in roots if r is not None and Path(r).exists() and not _in_checkout(Path(r))]
        self.lock = threading.Lock()
        self.active: set = set()
        self.window: set = set()
        self.flags: dict = {}  # submission -> (problems, number of suspects)
        self.files = self._state()

    def _walk(self):
        for root in self.roots:
            if root.is_file():
                yield root
                continue
            for path in root.rglob("*"):
                if "__pycache__" not in path.parts and (path.is_file() or path.is_symlink()):
                    yield path

    def _state(self) -> dict:
        state = {}
        for path in self._walk():
            try:
                state[path] = "link" if path.is_symlink() and not path.is_file() else hashlib.sha256(
                    path.read_bytes()).hexdigest()
            except OSError:
                state[path] = "unreadable"
        return state

    def _check(self) -> list[str]:
        now = self._state()
        problems = [f"changed {p}" for p, h in self.files.items() if p in now and now[p] != h]
        problems += [f"removed {p}" for p in self.files if p not in now]
        problems += [f"added {p}" for p in now if p not in self.files]
        self.files = now  # report each change once
        return problems

    def begin(self, name: str) -> None:
        with self.lock:
            self.active.add(name)
            self.window.add(name)

    def end(self, name: str) -> tuple[list, int]:
        """``(problems, number of suspects)`` for the submission that just finished."""
        with self.lock:
            problems = self._check()
            if problems:
                for suspect in self.window:
                    old, _ = self.flags.get(suspect, ([], 0))
                    self.flags[suspect] = (old + problems, len(self.window))
            self.active.discard(name)
            self.window = set(self.active)
            return self.flags.pop(name, ([], 0))


def _in_checkout(path: Path) -> bool:
    return any((p / ".git").exists() for p in [path.resolve(), *path.resolve().parents])
