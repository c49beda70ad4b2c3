"""What ``course grade`` writes under ``--out``.

- ``gradebook.csv`` (format ``csv``): one row per submission, sorted by name; columns
  ``submission, lesson, <one per exercise id, in course order>, total, max, status, notes``.
- ``grades.json`` (format ``json``): the batch (seed, limits, exercises) and, per submission,
  per exercise and per test set, per case: passed, the diagnoses (name and message) and the
  error of the learner's code, if any.
- ``feedback/<submission>.md`` (always): a page the learner can read: score, what is wrong in
  words, per exercise; hidden tests shown according to their visibility.
- Gradescope (format ``gradescope``): ``results.json`` in Gradescope's autograder format
  (``score``, ``tests[]`` with ``name``, ``score``, ``max_score``, ``status``, ``output``,
  ``visibility``) when one submission was graded, and ``gradescope/<submission>.json`` for each.
"""

from __future__ import annotations

import csv
import io
import json
import time
from pathlib import Path

from ...grader.report import case_json
from .. import quoting
from .feedback_words import CELL_HEADINGS, page_notes
from .feedback_words import STATUS_WORDS as _STATUS_WORDS
from .store import atomic_write_bytes

__all__ = ["write_all", "write_csv", "write_json", "feedback_markdown", "gradescope_results", "summary"]

_file_name = quoting.file_name


def _num(x: float) -> str:
    return f"{x:g}"


def exercise_columns(grades, info) -> list[str]:
    ids = list(info.get("exercises") or [])
    for g in grades:
        for i in g.exercises:
            if i not in ids:
                ids.append(i)
    return ids


def _notes(g) -> str:
    return "; ".join(g.notes)


_cell = quoting.csv_cell


def write_csv(path, grades, info) -> None:
    """The gradebook, written atomically (it is rewritten after every graded submission)."""
    ids = exercise_columns(grades, info)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["submission", "lesson", *ids, "total", "max", "status", "copies", "notes"])
    for g in grades:
        cells = [_num(g.exercises[i].score) if i in g.exercises else "" for i in ids]
        w.writerow([_cell(g.name), _cell(g.lesson or ""), *cells, _num(g.score), _num(g.max_score), _cell(g.status),
                    _cell("; ".join(getattr(g, "copies", []))), _cell(_notes(g))])
    atomic_write_bytes(Path(path), buf.getvalue().encode("utf-8", "replace"))


def _case_json(c) -> dict:
    return case_json(c)  # the grader's own form of a case (course.grader.report)


def _exercise_json(e) -> dict:
    return {
        "title": e.title,
        "status": e.status,
        "score": e.score,
        "max_score": e.points,
        "cases": e.n_cases,
        "passed_cases": e.n_passed,
        "notes": e.notes,
        "sets": [
            {
                "label": s.label,
                "hidden": s.hidden,
                "visibility": s.visibility,
                "seed": s.seed,
                "cases": s.n_cases,
                "passed_cases": s.n_passed,
                "note": s.note,
                "diagnoses": [{"name": d.name, "message": d.message}
                              for d in (s.result.diagnoses if s.result is not None else [])],
                "case_results": [_case_json(c) for c in (s.result.cases if s.result is not None else [])],
            }
            for s in e.sets
        ],
    }


def submission_json(g) -> dict:
    return {
        "submission": g.name,
        "path": g.path,
        "lesson": g.lesson,
        "status": g.status,
        "score": g.score,
        "max_score": g.max_score,
        "notes": g.notes,
        "remarks": g.remarks,
        "copies": list(getattr(g, "copies", [])),
        "cell_errors": {str(k): v for k, v in g.cell_errors.items()},
        "cell_failures": [f.to_json() for f in getattr(g, "cell_failures", [])],
        "expected_cell_errors": getattr(g, "expected_cell_errors", 0),
        "seconds": g.seconds,
        "timing": dict(getattr(g, "timing", {})),
        "exercises": {i: _exercise_json(e) for i, e in g.exercises.items()},
    }


def write_json(path, grades, info) -> None:
    doc = {"batch": info, "submissions": [submission_json(g) for g in grades]}
    atomic_write_bytes(Path(path), json.dumps(doc, indent=1, default=str).encode("utf-8"))


# ---------------------------------------------------------------------------------------------
# Feedback for the learner




def _set_details(s, lines: list) -> None:
    """A test set's details. For hidden sets no learner-produced text (messages, outputs,
    tracebacks): it could carry the hidden cases out; only which cases are wrong."""
    r = s.result
    if r is None:
        lines.append(f"- {s.label}: {s.note}")
        return
    lines.append(f"- {s.label}: {s.n_passed} of {s.n_cases} cases correct")
    if r.passed:
        return
    if s.hidden:
        lines += [f"  - case {c.index + 1}{f' ({c.note})' if c.note else ''}: wrong" for c in r.cases if not c.passed]
        return
    for d in r.diagnoses:
        lines.append(f"  - **{_md(d.name)}**: {_md(d.message, 600)}")
    if any(d.name == "not_attempted" for d in r.diagnoses):
        return  # every case raised NotImplementedError: the cases would only repeat it
    unrun = not_run_cases(r)
    for c in r.cases:
        if c.passed or c.index + 1 in unrun:
            continue
        note = f" ({c.note})" if c.note else ""
        lines.append(f"  - case {c.index + 1}{note}: wrong")
        for o in c.outputs:
            if not o.ok:
                lines.append(f"    - {_md(o.name)}: expected {_code(o.expected)}, got {_code(o.got)}")
        if c.error is not None and c.error.traceback:
            body = [ln[:200] for ln in c.error.traceback.splitlines()[-12:]]
            fence = "`" * max(3, _longest_run("\n".join(body)) + 1)
            lines += ["", "    " + fence, *["    " + ln for ln in body], "    " + fence]
    if unrun:
        lines.append(f"  - case{'s' if len(unrun) > 1 else ''} {', '.join(map(str, unrun))}: not run "
                     "(the exercise ran out of time)")


def not_run_cases(r) -> list[int]:
    """The case numbers a timeout left unrun (the grader's own words in the error, not the learner's)."""
    return [c.index + 1 for c in r.cases if not c.passed and c.error is not None and c.error.type == "Timeout"
            and c.error.message.startswith("not run: the exercise ran out of time")]


# Learner-produced text reaches the feedback page inside grader text (exception messages in
# diagnoses, quoted cell errors, the repr of a returned object): it must stay one line of plain
# text there, never HTML, a heading or the end of a code span or block (course.instructor.quoting).
_one_line, _md, _code, _longest_run = quoting.one_line, quoting.md_text, quoting.md_code, quoting.longest_run


def feedback_markdown(g, info) -> str:
    """The learner's feedback page (Markdown)."""
    lines = [f"# Feedback: {_md(g.name)}", ""]
    pct = f" ({100 * g.score / g.max_score:.0f}%)" if g.max_score else ""
    lines.append(f"**Lesson:** {g.lesson or 'unknown'}  ")
    lines.append(f"**Score:** {_num(g.score)} / {_num(g.max_score)}{pct}  ")
    lines.append(f"**Graded:** {time.strftime('%Y-%m-%d %H:%M')} (batch {info.get('id', '')})")
    lines.append("")
    lines += cell_failures_markdown(g, yours=True)
    notes = page_notes(g)
    if notes:
        lines.append("## Notes")
        lines += [f"- {_md(n, 2000)}" for n in notes]
        lines.append("")
    if g.remarks:
        lines += ["## Remarks", *[f"- {_md(r, 2000)}" for r in g.remarks], ""]
    for e in g.exercises.values():
        lines.append(f"## {e.id}: {e.title} ({_num(e.score)} / {_num(e.points)})")
        lines.append("")
        lines.append(_STATUS_WORDS.get(e.status, e.status))
        lines.append("")
        lines += [f"- {_md(n, 2000)}" for n in e.notes]
        for s in e.sets:
            if s.hidden and s.visibility == "hidden":
                lines.append(f"- {s.label}: hidden tests were run; their results are not shown")
            elif s.hidden and s.visibility != "visible":
                lines.append(f"- {s.label}: {s.n_passed} of {s.n_cases} cases correct (details hidden)")
            else:
                _set_details(s, lines)
        lines.append("")
    lines += cell_failures_markdown(g, yours=False)
    lines.append("_Printed output does not count: grades come from what your functions return on the grader's "
                 "own cases (other seeds than the ones in the notebook)._")
    return "\n".join(lines) + "\n"


def cell_failures_markdown(g, yours: bool) -> list[str]:
    """The failed cells of one kind (course.instructor.pipeline.attribution), as a Markdown section."""
    fails = [f for f in getattr(g, "cell_failures", []) if f.yours == yours]
    if not fails:
        return []
    return [f"## {CELL_HEADINGS[yours]}", *[f"- {_md(f.sentence, 600)}" for f in fails], ""]


# ---------------------------------------------------------------------------------------------
# Gradescope


def _test_output(e, s) -> str:
    lines: list = []
    for n in e.notes:
        lines.append(_md(n, 2000))
    _set_details(s, lines)
    return "\n".join(lines)


def gradescope_results(g, info) -> dict:
    """Gradescope's results.json for one submission: one test per exercise and test set (the
    exercise's points split over its test sets by their number of cases). An exercise whose
    score the batch set to 0 afterwards (``--on-copy zero``) scores 0 in every one of its tests."""
    tests = []
    for e in g.exercises.values():
        total = e.n_cases or 1
        for s in e.sets:
            max_score = round(e.points * s.n_cases / total, 4)
            score = 0.0 if e.status in ("uses_reference", "missing", "not_graded") or not e.score else round(
                e.points * s.n_passed / total, 4)
            name = f"{e.id}: {e.title}" + (f" ({s.label})" if s.hidden else "")
            tests.append({
                "name": name,
                "score": score,
                "max_score": max_score,
                "status": "passed" if s.n_cases and s.n_passed == s.n_cases and score == max_score else "failed",
                "output": _test_output(e, s),
                "output_format": "md",
                "visibility": s.visibility if s.hidden else "visible",
            })
        if not e.sets:
            tests.append({"name": f"{e.id}: {e.title}", "score": 0.0, "max_score": e.points, "status": "failed",
                          "output": "\n".join(_md(n, 2000) for n in e.notes), "output_format": "md",
                          "visibility": "visible"})
    header = [f"Lesson {g.lesson or 'unknown'}: {_num(g.score)} / {_num(g.max_score)}"]
    header += [_md(n, 2000) for n in g.notes]
    return {
        "score": round(sum(t["score"] for t in tests), 4),  # what Gradescope shows: the sum of the tests
        "execution_time": int(round(g.seconds)),
        "output": "\n\n".join(header),
        "output_format": "md",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }


# ---------------------------------------------------------------------------------------------


def write_all(out, grades, info, formats) -> list[Path]:
    out = Path(out)
    written = []
    if "csv" in formats:
        write_csv(out / "gradebook.csv", grades, info)
        written.append(out / "gradebook.csv")
    if "json" in formats:
        write_json(out / "grades.json", grades, info)
        written.append(out / "grades.json")
    fb = out / "feedback"
    fb.mkdir(exist_ok=True)
    from .feedback_html import feedback_html

    for g in grades:
        (fb / f"{_file_name(g.name)}.md").write_text(feedback_markdown(g, info), encoding="utf-8", errors="replace")
        (fb / f"{_file_name(g.name)}.html").write_text(feedback_html(g, info), encoding="utf-8", errors="replace")
    written.append(fb)
    if "gradescope" in formats:
        gs = out / "gradescope"
        gs.mkdir(exist_ok=True)
        for g in grades:
            (gs / f"{_file_name(g.name)}.json").write_text(json.dumps(gradescope_results(g, info), indent=1))
        if len(grades) == 1:
            (out / "results.json").write_text(json.dumps(gradescope_results(grades[0], info), indent=1))
            written.append(out / "results.json")
        written.append(gs)
    return written


def summary(grades, info, written=()) -> str:
    ran = [g for g in grades if g.ran]
    failed = [g for g in grades if not g.ran]
    pcts = [100 * g.score / g.max_score for g in grades if g.max_score and g.status != "invalid"]
    mean = f"{sum(pcts) / len(pcts):.1f}%" if pcts else "n/a"
    n = len(grades)
    lines = [
        f"graded {len(ran)} of {n} submission{'s' if n != 1 else ''} in {info.get('seconds', 0):.1f} s "
        f"({info.get('seconds', 0) / max(n, 1):.2f} s per submission, --jobs {info.get('jobs', 1)}); "
        f"mean score {mean}; test seed {info.get('seed')}",
    ]
    if failed:
        lines.append(f"could not grade {len(failed)}:")
        lines += [f"  {quoting.terminal(g.name, 120)}: {g.status}: {quoting.terminal('; '.join(g.notes), 200)}"
                  for g in failed]
    odd = [g for g in ran if g.status != "graded"]
    if odd:
        lines.append("graded with problems:")
        lines += [f"  {quoting.terminal(g.name, 120)}: {g.status}: {quoting.terminal('; '.join(g.notes), 200)}"
                  for g in odd]
    flagged = [g for g in grades if getattr(g, "copies", None)]
    if flagged:
        lines.append(f"near copies flagged in {len(flagged)} submission(s) (gradebook column 'copies', "
                     f"--on-copy {info.get('on_copy', 'flag')})")
    if info.get("isolation") == "process":
        lines.append("WARNING: graded with --isolation process: learner code ran without the OS sandbox, as "
                     "the grader's user (see the README, 'Threat model')")
    if written:
        lines.append("wrote " + ", ".join(quoting.terminal(p, 400) for p in written))
    return "\n".join(lines)
