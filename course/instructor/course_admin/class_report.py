"""``course report``: what the class got wrong, and who, the morning after a deadline.

::

    course report grades/ [--out DIR] [--progress DIR]

Reads ``grades.json`` written by ``course grade`` and aggregates the *named* diagnoses over the
class: for every exercise, the share of the learners who attempted it whose answer showed each
diagnosis ("optim.adam: 41% no_bias_correction"), and who they are. Exercises are ranked by
failure rate. With ``--progress DIR`` (the learners' shared ``progress.json`` files, one per
learner, named after the learner), it adds how many check attempts, and how long, passing took.

Writes ``class_report.html`` (one offline page, plots embedded as PNG) and ``class_report.csv``
(one row per exercise and diagnosis) next to the grades, or under ``--out``. Every text that came
from a submission (diagnosis messages can quote learner output) is escaped and shortened.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

from .. import quoting
from ..quoting import one_line as _one_line
from .class_sections import class_sections

__all__ = ["ExerciseSummary", "summarise", "time_to_pass", "write_report", "add_arguments", "run"]

#: Statuses that mean the learner did not hand in an attempt at this exercise.
UNATTEMPTED = ("not_attempted", "missing", "not_graded")
#: Diagnoses that say *that* something is wrong, not *what*: kept out of the ranking.
GENERIC = ("values", "values_differ", "not_attempted", "wrong_values")
#: Diagnoses that only restate the error a case raised (the error names the mistake once).
ERROR_DIAGNOSES = ("exception",)
#: The mistake a timeout is (one, whether the case timed out or was not run after it).
TIMED_OUT = "timed out (an endless loop?)"
#: Where a failing answer goes when no specific mistake was recognised.
UNNAMED = "unnamed (values differ)"


@dataclass
class ExerciseSummary:
    """The class's results on one exercise."""

    id: str
    title: str
    submissions: int = 0
    attempted: int = 0
    passed: int = 0
    mean_score: float = 0.0
    max_score: float = 0.0
    #: diagnosis name -> learners (submission names) whose failing answer showed it
    who: dict = field(default_factory=dict)
    #: diagnosis name -> one message, as an example
    example: dict = field(default_factory=dict)

    @property
    def failed(self) -> int:
        return self.attempted - self.passed

    @property
    def failure_rate(self) -> float:
        return self.failed / self.attempted if self.attempted else 0.0

    def ranked(self) -> list[tuple[str, int, float]]:
        """(diagnosis, learners, share of those who attempted), most frequent first."""
        rows = [(name, len(set(ws)), len(set(ws)) / self.attempted if self.attempted else 0.0)
                for name, ws in self.who.items()]
        return sorted(rows, key=lambda r: (-r[1], r[0]))


def error_mistake(err: dict) -> str:
    """The name of the mistake an error is: a timeout, or "raised <type>"."""
    if str(err.get("type", "")) == "Timeout":
        return TIMED_OUT
    return f"raised {_one_line(err.get('type', 'an error'), 40)}"


def _diagnoses_of(exercise: dict) -> dict[str, str]:
    """{name: message} of the diagnoses on the failing cases of one exercise's answer."""
    found: dict[str, str] = {}
    for s in exercise.get("sets", []):
        for c in s.get("case_results", []):
            if c.get("passed"):
                continue
            err = c.get("error")
            raised = isinstance(err, dict) and err.get("kind") not in (None, "not_attempted")
            for d in c.get("diagnoses", []):
                name = str(d.get("name", ""))
                if name and name not in GENERIC and not (raised and name in ERROR_DIAGNOSES):
                    found.setdefault(name, str(d.get("message", "")))
            if raised:  # one mistake: the error itself (the "exception" diagnosis only repeats it)
                found.setdefault(error_mistake(err), _one_line(err.get("message", ""), 200))
    return found or {UNNAMED: "wrong values; the grader recognised no specific mistake"}


def summarise(doc: dict) -> list[ExerciseSummary]:
    """One summary per exercise of ``grades.json``'s document, ranked by failure rate."""
    order = list(doc.get("batch", {}).get("exercises") or [])
    out: dict[str, ExerciseSummary] = {}
    scores: dict[str, list] = {}
    for sub in doc.get("submissions", []):
        who = str(sub.get("submission", "?"))
        for eid, e in (sub.get("exercises") or {}).items():
            if eid not in order:
                order.append(eid)
            s = out.setdefault(eid, ExerciseSummary(eid, str(e.get("title", ""))))
            s.submissions += 1
            s.max_score = float(e.get("max_score", 0.0))
            scores.setdefault(eid, []).append(float(e.get("score", 0.0)))
            status = e.get("status", "")
            if status in UNATTEMPTED:
                continue
            s.attempted += 1
            if status == "passed":
                s.passed += 1
                continue
            for name, message in _diagnoses_of(e).items():
                s.who.setdefault(name, []).append(who)
                s.example.setdefault(name, message)
    for eid, s in out.items():
        s.mean_score = sum(scores[eid]) / len(scores[eid]) if scores[eid] else 0.0
    rank = {eid: i for i, eid in enumerate(order)}
    return sorted(out.values(), key=lambda s: (-s.failure_rate, rank.get(s.id, 0)))


def _parse_time(text):
    try:
        return dt.datetime.fromisoformat(str(text))
    except ValueError:
        return None


def time_to_pass(progress_dir) -> dict[str, dict]:
    """From learners' progress files: per exercise, how many learners passed it, the median
    number of check attempts it took, and the median minutes from first attempt to first pass
    (where the file records both). Unreadable files are skipped."""
    attempts: dict[str, list] = {}
    minutes: dict[str, list] = {}
    for f in sorted(Path(progress_dir).glob("*.json")):
        try:
            entries = json.loads(f.read_text(encoding="utf-8")).get("exercises", {})
        except (OSError, ValueError, AttributeError):
            continue
        for eid, e in entries.items() if isinstance(entries, dict) else ():
            if not isinstance(e, dict) or not e.get("passed"):
                continue
            attempts.setdefault(eid, []).append(int(e.get("attempts", 1)))
            a, b = _parse_time(e.get("first_attempt", "")), _parse_time(e.get("first_passed", ""))
            if a and b and b >= a:
                minutes.setdefault(eid, []).append((b - a).total_seconds() / 60)

    def median(xs):
        xs = sorted(xs)
        return (xs[(len(xs) - 1) // 2] + xs[len(xs) // 2]) / 2 if xs else None

    return {eid: {"learners": len(a), "median_attempts": median(a), "median_minutes": median(minutes.get(eid, []))}
            for eid, a in attempts.items()}


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _plots(summaries: list[ExerciseSummary], totals: list[float]) -> list[tuple[str, str]]:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    figures = []
    shown = [s for s in summaries if s.submissions][:25]
    if shown:
        fig, ax = plt.subplots(figsize=(8, 0.35 * len(shown) + 1.2))
        names = [quoting.plot_text(s.id, 60) for s in shown][::-1]  # learner text: never math text
        ax.barh(names, [100 * s.failure_rate for s in shown][::-1], color="#cf222e")
        ax.set(xlabel="% of learners who attempted it and did not pass", xlim=(0, 100),
               title="Exercises ranked by failure rate")
        figures.append(("Failure rate per exercise", _png(fig)))
        plt.close(fig)
    top = [(s.id, *r) for s in shown for r in s.ranked()[:3]][:15]
    if top:
        fig, ax = plt.subplots(figsize=(8, 0.35 * len(top) + 1.2))
        labels = [quoting.plot_text(f"{eid}: {name}", 80) for eid, name, _, _ in top][::-1]
        ax.barh(labels, [100 * share for *_, share in top][::-1], color="#9a6700")
        ax.set(xlabel="% of learners who attempted the exercise", xlim=(0, 100),
               title="The most frequent mistakes")
        figures.append(("The most frequent mistakes", _png(fig)))
        plt.close(fig)
    if totals:
        fig, ax = plt.subplots(figsize=(6, 3))
        ax.hist(totals, bins=min(20, max(5, len(totals))), range=(0, 100), color="#1a7f37")
        ax.set(xlabel="total score (%)", ylabel="learners", title="Score distribution")
        figures.append(("Score distribution", _png(fig)))
        plt.close(fig)
    return figures


def _html(summaries, doc, ttp, figures) -> str:
    esc = quoting.html_text
    subs = doc.get("submissions", [])
    batch = doc.get("batch", {})
    parts = ["<!DOCTYPE html><html><head><meta charset='utf-8'><title>Class report</title><style>",
             "body{font-family:system-ui,sans-serif;max-width:980px;margin:2em auto;padding:0 1em;color:#1f2328}",
             "table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #d0d7de;padding:4px 8px;"
             "text-align:left;vertical-align:top}th{background:#f6f8fa}.who{font-size:.85em;color:#57606a}"
             "img{max-width:100%}</style></head><body>",
             f"<h1>Class report: {esc(', '.join(batch.get('lessons') or []) or 'grades')}</h1>",
             f"<p>{len(subs)} submissions, test seed {esc(str(batch.get('seed', '?')))}. Shares are of the learners "
             "who attempted the exercise; a learner can show several mistakes.</p>",
             "<h2>Exercises ranked by failure rate</h2><table><tr><th>exercise</th><th>attempted</th><th>passed</th>"
             "<th>failure rate</th><th>mean score</th><th>most frequent mistakes</th>"
             + ("<th>median attempts / minutes to pass</th>" if ttp else "") + "</tr>"]
    for s in summaries:
        mistakes = "<br>".join(f"{pct:.0%} {esc(name)} ({n})" for name, n, pct in s.ranked()[:3]) or "–"
        row = (f"<tr><td><a href='#{esc(s.id)}'>{esc(s.id)}</a><br><span class='who'>{esc(s.title)}</span></td>"
               f"<td>{s.attempted} of {s.submissions}</td><td>{s.passed}</td><td>{s.failure_rate:.0%}</td>"
               f"<td>{s.mean_score:.2f} / {s.max_score:g}</td><td>{mistakes}</td>")
        if ttp:
            t = ttp.get(s.id)
            row += (f"<td>{t['median_attempts']:g} / "
                    + (f"{t['median_minutes']:.0f} min" if t["median_minutes"] is not None else "–")
                    + f" ({t['learners']} learners)</td>") if t else "<td>–</td>"
        parts.append(row + "</tr>")
    parts.append("</table>")
    for title, png in figures:
        parts.append(f"<h2>{esc(title)}</h2><img alt='{esc(title)}' src='data:image/png;base64,{png}'>")
    parts.append("<h2>Who made which mistake</h2>")
    for s in summaries:
        if not s.who:
            continue
        parts.append(f"<h3 id='{esc(s.id)}'>{esc(s.id)}: {esc(s.title)}</h3><table>"
                     "<tr><th>mistake</th><th>share</th><th>example message</th><th>learners</th></tr>")
        for name, n, pct in s.ranked():
            who = ", ".join(sorted(set(s.who[name])))
            example = esc(_one_line(s.example[name], 200))
            parts.append(f"<tr><td>{esc(name)}</td><td>{pct:.0%} ({n})</td><td>{example}</td>"
                         f"<td class='who'>{esc(_one_line(who, 600))}</td></tr>")
        parts.append("</table>")
    parts += class_sections(doc)
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(grades_dir, out=None, progress=None) -> list[Path]:
    """Write ``class_report.html`` and ``class_report.csv``; returns their paths."""
    grades_dir = Path(grades_dir)
    source = grades_dir / "grades.json" if grades_dir.is_dir() else grades_dir
    doc = json.loads(source.read_text(encoding="utf-8"))
    out = Path(out) if out else source.parent
    out.mkdir(parents=True, exist_ok=True)
    summaries = summarise(doc)
    ttp = time_to_pass(progress) if progress else {}
    totals = [100 * float(s.get("score", 0)) / float(s["max_score"])
              for s in doc.get("submissions", []) if float(s.get("max_score") or 0) > 0]
    page = out / "class_report.html"
    page.write_text(_html(summaries, doc, ttp, _plots(summaries, totals)), encoding="utf-8")
    table = out / "class_report.csv"
    with open(table, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["exercise", "attempted", "passed", "failure_rate", "diagnosis", "learners", "share", "who"])
        for s in summaries:
            rows = s.ranked() or [("", 0, 0.0)]
            for name, n, pct in rows:
                who = " ".join(sorted(set(s.who.get(name, []))))
                w.writerow([quoting.csv_cell(s.id), s.attempted, s.passed, f"{s.failure_rate:.3f}",
                            quoting.csv_cell(name), n, f"{pct:.3f}", quoting.csv_cell(who)])
    return [page, table]


def headline(doc: dict, n: int = 3) -> list[str]:
    """A few lines for ``course grade``'s summary: the most frequent named mistakes."""
    lines = []
    for s in summarise(doc):
        ranked = s.ranked()
        if ranked and len(lines) < n:
            top = ", ".join(f"{pct:.0%} {name}" for name, _, pct in ranked[:2])
            lines.append(f"  {s.id}: {s.failure_rate:.0%} failed; {top}")
    return lines


def add_arguments(p) -> None:
    p.add_argument("grades", help="the folder course grade wrote (or its grades.json)")
    p.add_argument("--out", help="where to write class_report.html/.csv (default: next to grades.json)")
    p.add_argument("--progress", help="a folder of learners' progress.json files (optional)")


def run(args) -> int:
    import sys

    source = Path(args.grades)
    target = source / "grades.json" if source.is_dir() else source
    if not target.is_file():
        print(f"course report: {target} not found: run `course grade ... --format json` first "
              "(json is written by default)", file=sys.stderr)
        return 2
    try:
        written = write_report(source, args.out, args.progress)
    except (ValueError, KeyError, TypeError) as exc:
        print(f"course report: {target} is not a grades.json written by course grade: {exc}", file=sys.stderr)
        return 2
    doc = json.loads(target.read_text(encoding="utf-8"))
    print("\n".join(quoting.terminal(line, 400) for line in ["what the class got wrong:", *headline(doc, 10)]))
    print(quoting.terminal("wrote " + ", ".join(str(p) for p in written), 1000))
    return 0



def headline_from(out, n: int = 5) -> list[str]:
    """The summary's "what the class got wrong" lines from ``out/grades.json`` (none without it)."""
    path = Path(out) / "grades.json"
    if not path.is_file():
        return []
    lines = headline(json.loads(path.read_text(encoding="utf-8")), n)
    return ["what the class got wrong (course report for more):", *lines] if lines else []
