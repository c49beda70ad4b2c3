"""Your progress through the course: which exercises pass, and your score per lesson.

Every :func:`course.grader.check` records its result here (best score kept). The record is a
small JSON file:

- ``$COURSE_PROGRESS_FILE`` when that variable is set (``off`` or an empty value: record nothing);
- otherwise ``~/.backprop-course/progress.json``.

While pytest runs (``PYTEST_CURRENT_TEST`` is set) and no ``COURSE_PROGRESS_FILE`` is given,
nothing is recorded, so tests never write to your home directory. Nor is anything recorded for a
notebook of the course's ``solutions/`` folder (it holds the file :data:`SOLUTIONS_MARKER`): an
instructor who runs a solution notebook in Jupyter does not collect a learner's progress. The
notebook's folder is read from ``$JPY_SESSION_NAME`` (Jupyter sets it to the notebook's path)
or else is the kernel's working directory, which Jupyter sets to the notebook's folder.

See it with ``course.progress.show()`` in a notebook, or ``course progress`` in a terminal.
"""

from __future__ import annotations

import datetime as _dt
import html
import json
import os
import tempfile
from pathlib import Path

__all__ = [
    "SOLUTIONS_MARKER", "in_solutions", "progress_file", "load", "record", "reset", "summary", "table", "show",
    "add_arguments", "run",
]

_VERSION = 1

#: A file with this name marks a folder of solution notebooks: checks run there are not recorded.
SOLUTIONS_MARKER = ".course-solutions"


def in_solutions() -> bool:
    """Whether this kernel runs a notebook of a solutions folder (one holding SOLUTIONS_MARKER)."""
    places = []
    session = os.environ.get("JPY_SESSION_NAME")
    if session:
        places.append(Path(session).expanduser().parent)
    places.append(Path.cwd())
    try:
        return any((place / SOLUTIONS_MARKER).is_file() for place in places)
    except OSError:
        return False


def progress_file() -> Path | None:
    """Where progress is kept (see the module docstring); ``None`` when recording is off."""
    env = os.environ.get("COURSE_PROGRESS_FILE")
    if env is not None:
        if env.strip().lower() in ("", "off", "none", "0"):
            return None
        return Path(env).expanduser()
    if os.environ.get("PYTEST_CURRENT_TEST") or in_solutions():
        return None
    return Path.home() / ".backprop-course" / "progress.json"


def load(path: str | os.PathLike | None = None) -> dict:
    """The recorded exercises: ``{exercise id: entry}``; empty when there is no (readable) file.

    Each entry: lesson, title, best_score, max_score, passed, attempts, status (of the last
    check), first_attempt, last_attempt and (once passed) first_passed, as ISO timestamps.
    """
    path = Path(path) if path is not None else progress_file()
    if path is None or not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    entries = data.get("exercises", {}) if isinstance(data, dict) else {}
    return {k: v for k, v in entries.items() if isinstance(v, dict)}


def _write(path: Path, entries: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"version": _VERSION, "exercises": entries}, indent=1, sort_keys=True)
    fd, tmp = tempfile.mkstemp(prefix=".progress-", suffix=".json", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)  # atomic: a crash never leaves half a file
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def record(result, path: str | os.PathLike | None = None) -> dict | None:
    """Record a check's result (a :class:`course.grader.Result` or its ``to_dict()``).

    Keeps the best score, counts attempts, remembers when the exercise first passed. Returns the
    updated entry, or ``None`` when recording is off.
    """
    path = Path(path) if path is not None else progress_file()
    if path is None:
        return None
    r = result.to_dict() if hasattr(result, "to_dict") else dict(result)
    entries = load(path)
    now = _dt.datetime.now().isoformat(timespec="seconds")
    old = entries.get(r["exercise"], {})
    passed = bool(r["passed"]) or bool(old.get("passed"))
    entry = {
        "lesson": r["lesson"],
        "title": r.get("title", ""),
        "best_score": max(float(r["score"]), float(old.get("best_score", 0.0))),
        "max_score": float(r["max_score"]),
        "passed": passed,
        "attempts": int(old.get("attempts", 0)) + 1,
        "status": r.get("status", "passed" if r["passed"] else "failed"),
        "first_attempt": old.get("first_attempt", now),
        "last_attempt": now,
    }
    first = old.get("first_passed") or (now if r["passed"] else None)
    if first:
        entry["first_passed"] = first
    entries[r["exercise"]] = entry
    _write(path, entries)
    return entry


def reset(path: str | os.PathLike | None = None) -> None:
    """Forget all recorded progress (deletes the file)."""
    path = Path(path) if path is not None else progress_file()
    if path is not None and path.exists():
        path.unlink()


def summary(path: str | os.PathLike | None = None) -> list[dict]:
    """One row per lesson with exercises: lesson, exercises, attempted, passed, score, max_score,
    and ``items``: one row per exercise (id, title, points, best_score, passed, attempts)."""
    from . import grader

    done = load(path)
    rows = []
    for lesson in grader.lessons():
        items = []
        for ex in grader.exercises(lesson):
            e = done.get(ex.id, {})
            items.append({
                "id": ex.id,
                "title": ex.title,
                "points": ex.points,
                "best_score": float(e.get("best_score", 0.0)),
                "passed": bool(e.get("passed", False)),
                "attempts": int(e.get("attempts", 0)),
                "status": e.get("status", "not attempted") if e else "not attempted",
            })
        rows.append({
            "lesson": lesson,
            "exercises": len(items),
            "attempted": sum(i["attempts"] > 0 for i in items),
            "passed": sum(i["passed"] for i in items),
            "score": round(sum(i["best_score"] for i in items), 2),
            "max_score": sum(i["points"] for i in items),
            "items": items,
        })
    return rows


def table(path: str | os.PathLike | None = None, *, details: bool = False) -> str:
    """Progress as a plain-text table (one line per lesson; per exercise with ``details``)."""
    rows = summary(path)

    def line(lesson, passed, score):  # every column right-aligned under its header
        return f"{lesson:<24} {passed:>9} {score:>13}"

    head = line("lesson", "passed", "score")
    lines = [head, "-" * len(head)]
    total, total_max, n_pass, n_ex = 0.0, 0.0, 0, 0
    for r in rows:
        lines.append(line(r["lesson"], f"{r['passed']}/{r['exercises']}", f"{r['score']:g}/{r['max_score']:g}"))
        if details:
            for i in r["items"]:
                mark = "✔" if i["passed"] else ("✘" if i["attempts"] else "·")
                lines.append(f"  {mark} {i['id']:<44} {i['best_score']:g}/{i['points']:g}")
        total += r["score"]
        total_max += r["max_score"]
        n_pass += r["passed"]
        n_ex += r["exercises"]
    lines.append("-" * len(head))
    lines.append(line("total", f"{n_pass}/{n_ex}", f"{round(total, 2):g}/{total_max:g}"))
    where = progress_file() if path is None else Path(path)
    lines.append(f"(progress file: {where if where is not None else 'recording is off'})")
    return "\n".join(lines)


class _ProgressView:
    """Shows itself as an HTML table in Jupyter and as text elsewhere."""

    def __init__(self, path=None):
        self.path = path

    def __repr__(self):
        return table(self.path, details=True)

    def _repr_html_(self):
        parts = ['<div style="font-family: sans-serif; font-size: 13px">']
        for r in summary(self.path):
            pct = 100.0 * r["score"] / r["max_score"] if r["max_score"] else 0.0
            parts.append(
                f"<details><summary><b>{html.escape(r['lesson'])}</b>: {r['passed']}/{r['exercises']} "
                f"passed, {r['score']:g}/{r['max_score']:g} points "
                f'<span style="display: inline-block; width: 120px; height: 8px; background: #eee">'
                f'<span style="display: block; width: {pct:.0f}%; height: 8px; background: #1a7f37">'
                "</span></span></summary><table>"
            )
            for i in r["items"]:
                mark = "✔" if i["passed"] else ("✘" if i["attempts"] else "·")
                parts.append(
                    f"<tr><td>{mark}</td><td><code>{html.escape(i['id'])}</code></td>"
                    f"<td>{html.escape(i['title'])}</td><td>{i['best_score']:g}/{i['points']:g}</td></tr>"
                )
            parts.append("</table></details>")
        where = progress_file() if self.path is None else Path(self.path)
        parts.append(f'<div style="color: #666">progress file: {html.escape(str(where))}</div></div>')
        return "".join(parts)


def show(path: str | os.PathLike | None = None):
    """Your progress per lesson: an HTML table in Jupyter (the returned object displays itself),
    a text table when printed."""
    return _ProgressView(path)


# ---------------------------------------------------------------------------------------------
# `course progress`


def add_arguments(parser) -> None:
    parser.add_argument("--file", help="progress file (default: $COURSE_PROGRESS_FILE or "
                        "~/.backprop-course/progress.json)")
    parser.add_argument("--details", action="store_true", help="one line per exercise")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument("--reset", action="store_true", help="forget all recorded progress")


def run(args) -> int:
    path = args.file
    if args.reset:
        reset(path)
        print("progress reset")
        return 0
    if args.json:
        print(json.dumps(summary(path), indent=1))
    else:
        print(table(path, details=args.details))
    return 0
