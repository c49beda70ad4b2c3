"""Hand-graded answers: markdown cells tagged ``manual``.

In a solution notebook, a written question's answer is a markdown cell tagged ``manual`` (its
model answer between ``### BEGIN SOLUTION`` / ``### END SOLUTION``; the learner's copy says "YOUR
ANSWER HERE"). Optional cell metadata ``{"points": 2}`` (default 1) and ``{"question": "q1"}``.

::

    course manual collect SUBMISSION... [--solutions solutions/] [--out manual/]
    course manual merge grades/ manual/scores.csv

``collect`` writes ``manual/<question>.html``, one page per question with the model answer and
every learner's answer (shown as plain text: learner text is never rendered as HTML), and
``manual/scores.csv`` (submission, question, max, score, comment) for the instructor to fill in;
running it again keeps the scores already entered. ``merge`` (or ``course grade --manual
scores.csv``) adds the scores and comments to the gradebook and the feedback pages
(:mod:`course.instructor.course_admin.adjust`).
"""

from __future__ import annotations

import csv
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

from ...authoring.strip import MARKDOWN_STUB, region_text
from .. import quoting
from . import adjust

__all__ = ["Question", "questions", "answers", "collect", "read_scores", "add_arguments", "run"]

TAG = "manual"
MAX_ANSWER_CHARS = 20_000


@dataclass(frozen=True)
class Question:
    id: str  # "<lesson>.<question>"
    lesson: str
    cell_id: str
    points: float
    model_answer: str
    prompt: str  # the markdown cell just above the answer cell, where there is one


def _read(path):
    from ..pipeline.records import NotGraded, read_submission

    try:  # a regular file only (no link, FIFO or device), bounded; no echo of its bytes
        return nbformat.reads(read_submission(path).decode("utf-8"), as_version=4)
    except NotGraded as exc:
        raise ValueError(f"{path}: {exc}") from None
    except Exception as exc:  # a malformed learner notebook: reported, never fatal
        raise ValueError(f"{path}: not a readable notebook ({type(exc).__name__})") from None


def questions(solution_path) -> list[Question]:
    """The ``manual`` cells of one solution notebook, in order."""
    nb = _read(solution_path)
    lesson = Path(solution_path).stem
    out = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown" or TAG not in cell.get("metadata", {}).get("tags", []):
            continue
        meta = cell.get("metadata", {})
        qid = str(meta.get("question") or f"q{len(out) + 1}")
        above = nb.cells[i - 1] if i > 0 else None
        prompt = above.source if above is not None and above.cell_type == "markdown" and not _hidden(above) else ""
        out.append(Question(f"{lesson}.{qid}", lesson, str(cell.get("id", "")), float(meta.get("points", 1)),
                            model_answer(cell.source), prompt))
    return out


def _hidden(cell) -> bool:
    """A cell the build strips from the learner notebook (tagged ``solution`` or ``manual``)."""
    return bool({"solution", TAG} & set(cell.get("metadata", {}).get("tags", [])))


def model_answer(source: str) -> str:
    """The model answer of an answer cell: the text between the solution markers, else the cell."""
    return region_text(source)


def learner_answer(source: str) -> str:
    """A learner's answer cell as written; the untouched stub is no answer."""
    text = source.strip()
    return "" if text == MARKDOWN_STUB else text


def answers(submission_path, qs: list[Question]) -> dict[str, str]:
    """``{question id: the learner's answer}``: the cell with the same cell id, else the k-th cell
    tagged ``manual``. A question with no such cell gets ``""``."""
    nb = _read(submission_path)
    by_id = {str(c.get("id", "")): c for c in nb.cells if c.cell_type == "markdown"}
    tagged = [c for c in nb.cells if c.cell_type == "markdown" and TAG in c.get("metadata", {}).get("tags", [])]
    out = {}
    for k, q in enumerate(qs):
        cell = by_id.get(q.cell_id) if q.cell_id else None
        if cell is None and k < len(tagged):
            cell = tagged[k]
        out[q.id] = learner_answer(cell.source if cell is not None else "")[:MAX_ANSWER_CHARS]
    return out


def read_scores(path) -> dict[str, list[dict]]:
    """``{submission: [{question, score, max, comment}]}`` from a scores CSV; a blank score is
    "not graded yet". ValueError names the line of a malformed score."""
    out: dict[str, list[dict]] = {}
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        need = {"submission", "question", "max", "score"}
        if not reader.fieldnames or not need <= set(reader.fieldnames):
            raise ValueError(f"{path}: a scores file needs the columns {sorted(need)} (and comment); "
                             f"found {reader.fieldnames}")
        for line, row in enumerate(reader, start=2):
            try:
                top = float(row["max"])
                score = float(row["score"]) if (row.get("score") or "").strip() else None
            except ValueError:
                raise ValueError(f"{path}, line {line}: score {row.get('score')!r} / max {row.get('max')!r} "
                                 "is not a number") from None
            if score is not None and not 0 <= score <= top:
                raise ValueError(f"{path}, line {line}: score {score:g} is outside 0..{top:g} "
                                 f"for {row['submission']} {row['question']}")
            item = {"question": row["question"], "score": score, "max": top,
                    "comment": (row.get("comment") or "").strip()}
            out.setdefault(quoting.csv_uncell(row["submission"]), []).append(item)
    return out


def _page(q: Question, rows: list[tuple[str, str]]) -> str:
    esc = quoting.html_text
    parts = ["<!DOCTYPE html><html><head><meta charset='utf-8'>", f"<title>{esc(q.id)}</title><style>",
             "body{font-family:system-ui,sans-serif;max-width:900px;margin:2em auto;padding:0 1em}"
             ".a{white-space:pre-wrap;border:1px solid #d0d7de;padding:.6em;margin:.3em 0 1.2em;background:#f6f8fa}"
             "</style></head><body>", f"<h1>{esc(q.id)} ({q.points:g} points)</h1>",
             f"<h2>Question</h2><div class='a'>{esc(q.prompt)}</div>",
             f"<h2>Model answer</h2><div class='a'>{esc(q.model_answer)}</div>", f"<h2>{len(rows)} answers</h2>"]
    for name, text in rows:
        parts.append(f"<h3>{esc(name)}</h3><div class='a'>{esc(text) or '<em>(no answer)</em>'}</div>")
    return "\n".join(parts + ["</body></html>"])


def collect(submissions: list, solutions, out) -> list[Path]:
    """Write one page per question and ``scores.csv`` (keeping scores already entered)."""
    from ..pipeline.records import collect_submissions

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    solutions = Path(solutions)
    all_q = {p.stem: questions(p) for p in sorted(solutions.glob("*.ipynb"))}
    scores_path = out / "scores.csv"
    previous = {}
    if scores_path.is_file():
        for name, items in read_scores(scores_path).items():
            for it in items:
                previous[(name, it["question"])] = it
    pages: dict[str, list] = {}
    rows = []
    for name, path in collect_submissions(submissions):
        try:
            nb = _read(path)
        except ValueError as exc:
            print(quoting.terminal(f"course manual: skipped {exc}", 600), file=sys.stderr)
            continue
        lesson = str(nb.metadata.get("course", {}).get("lesson", "")) if isinstance(nb.metadata.get("course"),
                                                                                      dict) else ""
        lesson = lesson if lesson in all_q else next((k for k in all_q if k in Path(path).stem), "")
        qs = all_q.get(lesson) or (next(iter(all_q.values())) if len(all_q) == 1 else [])
        for qid, text in answers(path, qs).items():
            q = next(x for x in qs if x.id == qid)
            pages.setdefault(qid, (q, []))[1].append((name, text))
            old = previous.get((name, qid), {})
            rows.append({"submission": quoting.csv_cell(name), "question": qid, "max": f"{q.points:g}",
                         "score": "" if old.get("score") is None else f"{old['score']:g}",
                         "comment": old.get("comment", "")})
    written = []
    for qid, (q, answered) in pages.items():
        page = out / f"{qid}.html"
        adjust.atomic_write(page, _page(q, sorted(answered)))
        written.append(page)
    with open(scores_path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=["submission", "question", "max", "score", "comment"])
        w.writeheader()
        w.writerows(rows)
    return [*written, scores_path]


def add_arguments(p) -> None:
    sub = p.add_subparsers(dest="manual_command", metavar="ACTION", required=True)
    c = sub.add_parser("collect", help="one page per written question, and scores.csv to fill in")
    c.add_argument("submissions", nargs="+", help="notebooks or folders of notebooks")
    c.add_argument("--solutions", default="solutions", help="the solution notebooks (default ./solutions)")
    c.add_argument("--out", default="manual", help="where to write the pages and scores.csv (default ./manual)")
    m = sub.add_parser("merge", help="add the scores of scores.csv to a graded batch")
    m.add_argument("grades", help="the folder course grade wrote")
    m.add_argument("scores", help="the filled-in scores.csv")


def run(args) -> int:
    try:
        if args.manual_command == "collect":
            written = collect(args.submissions, args.solutions, args.out)
            print(f"wrote {len(written) - 1} question pages and {written[-1]}: fill in the score column, then "
                  f"`course manual merge GRADES {written[-1]}`")
        else:
            adjust.apply(args.grades, manual=read_scores(args.scores))
            print(f"merged hand-graded scores into {args.grades}")
    except (OSError, ValueError) as exc:
        print(quoting.terminal(f"course manual: {exc}", 2000), file=sys.stderr)
        return 2
    return 0
