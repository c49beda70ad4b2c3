"""Adjustments applied after autograding: late penalties and hand-graded scores.

``course grade`` writes its outputs first; then, when ``--deadline`` or ``--manual`` is given (or
``course manual merge`` runs later), :func:`apply` adds to every learner's row:

- ``gradebook.csv``: the columns ``manual`` (hand-graded points), ``manual_max``, ``submitted_at``,
  ``time_source``, ``hours_late``, ``late_factor`` and ``final`` = (total + manual) x late_factor,
  out of ``final_max`` = max + manual_max;
- ``grades.json``: per submission, ``late`` and ``manual`` entries and ``final_score``;
- ``feedback/<learner>.md``: a "Written answers" section (score and the grader's comment per
  question) and a "Late submission" section.

Applying again replaces the earlier adjustment; the autograded columns are never changed.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from ..pipeline.outputs import _file_name
from ..pipeline.store import atomic_write_bytes

__all__ = ["apply", "atomic_write"]

EXTRA = ["manual", "manual_max", "submitted_at", "time_source", "hours_late", "late_factor", "final", "final_max"]
_MARK = "\n<!-- adjustments -->\n"


def atomic_write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that a reader never sees half a file."""
    atomic_write_bytes(Path(path), text.encode("utf-8"))


def _num(x) -> str:
    return f"{x:g}" if isinstance(x, float | int) else str(x)


def _feedback_section(late, manual) -> str:
    lines = []
    if manual:
        got = sum(m["score"] for m in manual if m["score"] is not None)
        lines += ["## Written answers", "", f"Hand-graded: {_num(got)} / {_num(sum(m['max'] for m in manual))}", ""]
        for m in manual:
            score = "not graded yet" if m["score"] is None else f"{_num(m['score'])} / {_num(m['max'])}"
            lines.append(f"- **{m['question']}**: {score}" + (f". {m['comment']}" if m["comment"] else ""))
        lines.append("")
    if late is not None and late.get("hours_late", 0) > 0:
        lines += ["## Late submission", "", f"- {late['note']}", ""]
    return "\n".join(lines)


def apply(out, lateness: dict | None = None, manual: dict | None = None) -> None:
    """Add late penalties (``{submission: Lateness}``) and hand-graded scores (``{submission:
    [{question, score, max, comment}]}``) to the outputs under ``out`` (see the module docstring).
    ``None`` keeps what an earlier call recorded in ``grades.json``."""
    out = Path(out)
    gj = out / "grades.json"
    doc = json.loads(gj.read_text(encoding="utf-8")) if gj.is_file() else None
    per = {}
    for sub in (doc or {}).get("submissions", []):
        name = sub["submission"]
        late = sub.get("late")  # an earlier adjustment is kept unless this one replaces it
        if lateness is not None and name in lateness:
            lt = lateness[name]
            late = {"submitted_at": lt.submitted_at.isoformat(timespec="seconds") if lt.submitted_at else "",
                    "time_source": lt.time_source, "hours_late": lt.hours_late, "late_factor": lt.factor,
                    "note": lt.note}
        m = manual.get(name, []) if manual is not None else sub.get("manual", [])
        man = sum(x["score"] for x in m if x["score"] is not None)
        factor = float(late["late_factor"]) if late else 1.0
        entry = {"manual": man, "manual_max": sum(x["max"] for x in m),
                 "final": round((float(sub["score"]) + man) * factor, 4)}
        entry["final_max"] = round(float(sub["max_score"]) + entry["manual_max"], 4)
        if late:
            entry.update(late)
            sub["late"] = late
        sub["manual"] = m
        sub["final_score"] = entry["final"]
        per[name] = (entry, m)
    if doc is not None:
        atomic_write(gj, json.dumps(doc, indent=1, default=str))
    book = out / "gradebook.csv"
    if book.is_file():
        with open(book, newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
        header = [h for h in rows[0] if h not in EXTRA]
        keep = [i for i, h in enumerate(rows[0]) if h not in EXTRA]
        lines = [header + EXTRA]
        for r in rows[1:]:
            base = [r[i] for i in keep]
            e = per.get(base[0], ({}, []))[0]
            lines.append(base + [_num(e.get(k, "")) for k in EXTRA])
        buf = io.StringIO()
        csv.writer(buf).writerows(lines)
        atomic_write(book, buf.getvalue())
    for name, (entry, m) in per.items():
        page = out / "feedback" / f"{_file_name(name)}.md"
        if not page.is_file():
            continue
        text = page.read_text(encoding="utf-8").split(_MARK)[0]
        section = _feedback_section(entry if "note" in entry else None, m)
        if section:
            text = text.rstrip("\n") + "\n" + _MARK + section
            if entry["final"] != entry.get("final_max"):
                text += f"\n**Final score:** {_num(entry['final'])} / {_num(entry['final_max'])}\n"
        atomic_write(page, text)
