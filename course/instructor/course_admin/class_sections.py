"""The class report's sections about submissions rather than exercises: flagged copies and
failing cells (read from ``grades.json``; every learner-derived text escaped and shortened)."""

from __future__ import annotations

import html

from ..pipeline.outputs import _one_line

__all__ = ["copies_rows", "cell_rows", "class_sections"]


def copies_rows(doc: dict) -> list[tuple[str, str]]:
    """``(learner, what was flagged)`` per flagged copy, in submission order."""
    return [(str(s.get("submission", "?")), str(c)) for s in doc.get("submissions", [])
            for c in s.get("copies") or []]


def cell_rows(doc: dict) -> list[tuple[str, dict]]:
    """``(learner, failure)`` per failed cell (the learner's own first, as grading recorded them)."""
    return [(str(s.get("submission", "?")), f) for s in doc.get("submissions", [])
            for f in s.get("cell_failures") or [] if isinstance(f, dict)]


def class_sections(doc: dict) -> list[str]:
    """HTML: "Flagged copies" and "Failing cells", each a table or a sentence saying there is none."""
    esc = html.escape
    parts = ['<h2 id="copies">Flagged copies</h2>']
    copies = copies_rows(doc)
    if copies:
        parts.append("<table><tr><th>learner</th><th>exercise: near copy of</th></tr>")
        parts += [f"<tr><td>{esc(who)}</td><td>{esc(_one_line(what, 400))}</td></tr>" for who, what in copies]
        parts.append("</table>")
    else:
        parts.append("<p>No near copies were flagged.</p>")
    parts.append('<h2 id="cells">Failing cells</h2>')
    cells = cell_rows(doc)
    if cells:
        parts.append("<p>Failures of the course's own cells that need a withheld reference are expected and not "
                     "listed.</p><table><tr><th>learner</th><th>cell</th><th>whose</th><th>error</th>"
                     "<th>consequence</th></tr>")
        for who, f in cells:
            whose = "the learner's" if f.get("yours") else "the lesson's (running the learner's functions)"
            what = " (timed out)" if f.get("timed_out") else ""
            parts.append(f"<tr><td>{esc(who)}</td><td>{esc(str(f.get('cell', '?')))}{what}</td><td>{whose}</td>"
                         f"<td>{esc(_one_line(f.get('error', ''), 300))}</td>"
                         f"<td>{esc(_one_line(f.get('consequence', ''), 300))}</td></tr>")
        parts.append("</table>")
    else:
        parts.append("<p>No learner's cell failed.</p>")
    return parts
