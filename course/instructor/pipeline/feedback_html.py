"""The learner's feedback page as one self-contained HTML file (``feedback/<submission>.html``),
beside the Markdown one (:func:`course.instructor.outputs.feedback_markdown`) and saying the same.

It looks like the check report in the notebook: each visible test set is shown by the report's
own :func:`course.grader.report.render_html` (the verdict, the named mistakes, the expected-vs-got
preview of each wrong case). Hidden sets show only what their visibility allows, never text that
the learner's code produced. Every learner-derived text is escaped with :func:`html.escape`; the
page has no script and loads nothing.
"""

from __future__ import annotations

import time

from ...grader.report import render_html
from .. import quoting
from .feedback_words import CELL_HEADINGS, STATUS_WORDS, page_notes

__all__ = ["feedback_html"]

_PAGE_CSS = (
    "body{font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;font-size:14px;max-width:920px;"
    "margin:1.5em auto;padding:0 1em;color:#1f2328}"
    "h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #d0d7de;padding-bottom:.2em}"
    ".score{font-size:1.1em}.bar{height:8px;background:#eaeef2;border-radius:4px;max-width:320px}"
    ".bar>div{height:8px;border-radius:4px;background:#1a7f37}"
    ".box{border-left:5px solid #cf222e;background:#fff5f5;padding:6px 12px;margin:6px 0}"
    ".box.lesson{border-color:#9a6700;background:#fffbea}.box.note{border-color:#0969da;background:#f6f8fa}"
    ".verdict{font-weight:bold}.passed{color:#1a7f37}.failed{color:#cf222e}.other{color:#9a6700}"
    "code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.92em;background:#f6f8fa;padding:0 .2em;"
    "white-space:pre-wrap;overflow-wrap:anywhere}"
    "pre{white-space:pre;overflow-x:auto;word-break:normal}"
    ".foot{color:#57606a;font-size:.9em;margin-top:2em}"
)


def _e(text) -> str:
    return quoting.html_text(text)


def _cells(g, yours: bool) -> list[str]:
    fails = [f for f in getattr(g, "cell_failures", []) if f.yours == yours]
    if not fails:
        return []
    kind = "" if yours else " lesson"
    out = [f"<h2>{_e(CELL_HEADINGS[yours])}</h2>"]
    for f in fails:
        what = "timed out" if f.timed_out else "failed"
        out.append(f'<div class="box{kind}" data-cell="{f.cell}"><b>cell {f.cell} {what}</b>: '
                   f"<code>{_e(f.error)}</code>" + (f"<div>{_e(f.consequence)}</div>" if f.consequence else "")
                   + "</div>")
    return out


def _verdict(status: str) -> str:
    cls = "passed" if status == "passed" else ("other" if status in ("not_attempted", "not_graded") else "failed")
    return f'<div class="verdict {cls}">{_e(STATUS_WORDS.get(status, status))}</div>'


def _set(s) -> str:
    """One test set: the check report for a visible one; for hidden ones only what may be shown."""
    if s.hidden and s.visibility == "hidden":
        return f"<p>{_e(s.label)}: hidden tests were run; their results are not shown</p>"
    if s.hidden and s.visibility != "visible":
        return f"<p>{_e(s.label)}: {s.n_passed} of {s.n_cases} cases correct (details hidden)</p>"
    if s.result is None:
        return f"<p>{_e(s.label)}: {_e(s.note)}</p>"
    if s.hidden:
        wrong = ", ".join(str(c.index + 1) for c in s.result.cases if not c.passed)
        return (f"<p>{_e(s.label)}: {s.n_passed} of {s.n_cases} cases correct"
                + (f"; wrong: case {wrong}" if wrong else "") + "</p>")
    return render_html(s.result)


def feedback_html(g, info) -> str:
    """The learner's feedback page (HTML, self-contained)."""
    pct = 100 * g.score / g.max_score if g.max_score else 0.0
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             f"<title>Feedback: {_e(g.name)}</title><style>{_PAGE_CSS}</style></head><body>",
             f"<h1>Feedback: {_e(g.name)}</h1>",
             f"<p><b>Lesson:</b> {_e(g.lesson or 'unknown')}<br>",
             f'<span class="score"><b>Score:</b> {g.score:g} / {g.max_score:g}'
             + (f" ({pct:.0f}%)" if g.max_score else "") + "</span><br>",
             f"<b>Graded:</b> {_e(time.strftime('%Y-%m-%d %H:%M'))} (batch {_e(info.get('id', ''))})</p>",
             f'<div class="bar"><div style="width:{max(0.0, min(100.0, pct)):.0f}%"></div></div>']
    parts += _cells(g, yours=True)
    notes = page_notes(g)
    if notes:
        parts.append("<h2>Notes</h2>" + "".join(f'<div class="box note">{_e(n)}</div>' for n in notes))
    if g.remarks:
        parts.append("<h2>Remarks</h2><ul>" + "".join(f"<li>{_e(r)}</li>" for r in g.remarks) + "</ul>")
    for e in g.exercises.values():
        parts.append(f'<h2 id="{_e(e.id)}">{_e(e.id)}: {_e(e.title)} ({e.score:g} / {e.points:g})</h2>')
        parts.append(_verdict(e.status))
        if e.notes:
            parts.append("<ul>" + "".join(f"<li>{_e(n)}</li>" for n in e.notes) + "</ul>")
        parts += [_set(s) for s in e.sets]
    parts += _cells(g, yours=False)
    parts.append('<p class="foot">Printed output does not count: grades come from what your functions return on '
                 "the grader's own cases (other seeds than the ones in the notebook).</p></body></html>")
    return "\n".join(parts) + "\n"
