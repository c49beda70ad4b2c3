"""Getting work out: ``course release``, the learners' copy of the course.

::

    course release [--repo .] [--out dist/]

``release`` writes ``dist/backprop-course-release.zip`` (and the same tree unpacked beside it): the
learner notebooks, the package (its data included), README, ``pyproject.toml`` and ``binder/``;
never ``solutions/``, hidden tests, tests or grades. It refuses to release when ``notebooks/`` is
out of date with ``solutions/`` or when any released file still holds a solution marker.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

__all__ = ["release", "add_arguments", "run"]

_SKIP_DIRS = {"__pycache__", ".ipynb_checkpoints", ".pytest_cache", ".git"}
_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")


def _files(root: Path, rel: str):
    base = root / rel
    if base.is_file():
        yield base
        return
    for p in sorted(base.rglob("*")):
        if p.is_file() and not _SKIP_DIRS & set(p.relative_to(root).parts) and p.suffix not in (".pyc",):
            yield p


def _repo(path) -> Path:
    root = Path(path).resolve()
    for need in ("course", "pyproject.toml"):
        if not (root / need).exists():
            raise ValueError(f"{root}: not the course repository (no {need}); pass --repo")
    return root


def _zip(target: Path, entries: list[tuple[str, Path | bytes]]) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".part")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, src in entries:
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            info.external_attr = (0o755 if name.endswith(("setup.sh", "run_autograder")) else 0o644) << 16
            data = src if isinstance(src, bytes) else src.read_bytes()
            zf.writestr(info, data, zipfile.ZIP_DEFLATED)
    tmp.replace(target)
    return target


def release(repo=".", out="dist") -> Path:
    """Build the learners' distribution; returns the zip's path. ValueError says why it refuses."""
    root = _repo(repo)
    check = subprocess.run([sys.executable, "-m", "course", "build", "--check"], cwd=root,
                           capture_output=True, text=True)
    if check.returncode != 0:
        raise ValueError("notebooks/ is out of date with solutions/: run `course build` first\n"
                         + (check.stdout + check.stderr).strip()[-600:])
    parts = ["notebooks", "course", "pyproject.toml", "README.md", "binder", "LICENSE"]
    entries = []
    for rel in parts:
        if (root / rel).exists():
            for p in _files(root, rel):
                r = p.relative_to(root).as_posix()
                if "solutions" in r.split("/") or Path(r).name.startswith("hidden"):
                    continue
                if p.suffix == ".ipynb" and any(m in p.read_text("utf-8", "replace") for m in _MARKERS):
                    raise ValueError(f"{r} still holds a solution marker: it must not be released")
                entries.append((f"backprop-course/{r}", p))
    return _zip(Path(out) / "backprop-course-release.zip", entries)


def add_arguments(p) -> None:
    p.add_argument("--repo", default=".", help="the course repository (default .)")
    p.add_argument("--out", default="dist", help="folder for backprop-course-release.zip (default dist/)")


def run(args) -> int:
    try:
        path = release(args.repo, args.out)
    except (OSError, ValueError) as exc:
        print(f"course release: {exc}", file=sys.stderr)
        return 2
    with zipfile.ZipFile(path) as zf:
        n = len(zf.namelist())
    print(f"wrote {path} ({n} files: learner notebooks and the package; no solutions)")
    return 0
