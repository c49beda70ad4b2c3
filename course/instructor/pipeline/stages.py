"""Grading one submission as a pipeline of small stages (in the manner of nbgrader's preprocessors).

Each stage takes the submission's :class:`Work` and returns ``True`` to go on, ``False`` when the
submission's grade is settled::

    read -> lesson -> scan -> run (in the sandbox) -> collect -> score

The batch then adds copy detection across submissions and writes the outputs
(:mod:`course.instructor.grade`, :mod:`course.instructor.pipeline.outputs`). Only :func:`run` starts
learner code, and only inside the sandbox; every other stage runs in the grader's process on
data: the notebook's text, and what came back from the sandbox (untrusted, quoted when shown).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from ...grader.compare.core import compare
from ...grader.report import Result
from ...grader.run.runner import ErrorInfo, Outcome
from ..sandbox import host as sandbox
from . import attribution, copies, extract
from .plan import LessonPlan
from .records import ExerciseGrade, SetGrade, SubmissionGrade, read_notebook

__all__ = ["Work", "PIPELINE", "GRADER_BUDGET", "OverBudget", "run_pipeline",
           "quote", "read", "lesson", "scan", "run", "collect", "score"]


def quote(text, n: int = 200) -> str:
    """Learner-produced text as it may be shown: one line, cut, in quotes, marked as the learner's."""
    t = " ".join(str(text).split())
    t = t if len(t) <= n else t[: n - 3] + "..."
    return "learner output " + json.dumps(t, ensure_ascii=False)


@dataclass
class Work:
    """One submission on its way through the stages."""

    sub: SubmissionGrade
    path: Path
    config: object  # the Grader: plans, limits, the sandbox batch, the expected lesson, the guard
    nb: object = None
    plan: LessonPlan | None = None
    cells: list = field(default_factory=list)
    findings: object = None
    box: sandbox.SandboxResult | None = None
    shapes: object = field(default_factory=dict)  # copies.NotebookShapes: name -> the Shapes answering it
    attempted_shapes: dict = field(default_factory=dict)  # exercise id -> tuple of Shapes (attempted ones)
    deadline: float = float("inf")  # time.monotonic() past which the grader's own work stops (run_pipeline)


def _fill(w: Work, status: str, note: str) -> None:
    for ex in w.plan.exercises:
        w.sub.exercises[ex.id] = ExerciseGrade(ex.id, ex.title, ex.points, 0.0, status, notes=[note])


def read(w: Work) -> bool:
    w.nb, problem = read_notebook(w.path)
    if w.nb is not None:
        if problem:
            w.sub.remarks.append(problem)
        return True
    w.sub.status = "invalid"
    w.sub.notes.append(problem)
    expected = w.config.expected and w.config.plan(w.config.expected)
    if isinstance(expected, LessonPlan):
        w.sub.lesson, w.plan = expected.name, expected
        _fill(w, "not_graded", "not a notebook")
    return False


def lesson(w: Work) -> bool:
    name, how = extract.notebook_lesson(w.nb, w.path, w.config.known)
    w.sub.lesson = name
    if name is None:
        w.sub.status = "unknown_lesson"
        w.sub.notes.append(how)
        return False
    if w.config.expected and name != w.config.expected:
        w.sub.status = "lesson_mismatch"
        w.sub.notes.append(f"this is lesson {name} ({how}), not {w.config.expected}")
        plan = w.config.plan(w.config.expected)
        if isinstance(plan, LessonPlan):
            w.plan = plan
            _fill(w, "not_graded", "lesson mismatch")
        return False
    plan = w.config.plan(name)
    if isinstance(plan, str):
        w.sub.status = "unknown_lesson"
        w.sub.notes.append(plan)
        return False
    w.plan = plan
    w.cells = extract.code_cells(w.nb)
    if not any(src.strip() for _, src in w.cells):
        w.sub.status = "empty"
        w.sub.notes.append("empty notebook: no code")
        _fill(w, "missing", "empty notebook")
        return False
    return True


def scan(w: Work) -> bool:
    """The learner's source, read here: uses of the reference (by name, or a near copy of its
    source), writes into the grader, remarks."""
    exercises = {ex.id: ex for ex in w.plan.exercises}
    f = extract.scan(w.cells, w.plan.bindings, exercises)
    w.shapes = copies.notebook_shapes(w.cells)  # every function, whatever its name; aliases resolved
    for ex_id, why in copies.reference_copies(w.shapes, w.plan.bindings, exercises).items():
        w.sub.copies.append(f"{ex_id}: {why}")
    w.findings = f
    w.sub.remarks += f.remarks
    if f.syntax_errors:
        w.sub.remarks.append("syntax errors in cells " + ", ".join(str(i + 1) for i in f.syntax_errors))
    if f.tampering:
        w.sub.status = "tampering"
        w.sub.notes.append("graded 0: the notebook " + "; ".join(f.tampering) + " (review by hand)")
        _fill(w, "not_graded", "the notebook modifies the grader")
        return False
    return True


def run(w: Work) -> bool:
    """The learner's cells and the run phase, in the sandbox."""
    to_run = [(i, src) for i, src in w.cells if src.strip() and not extract.is_check_only(src)]
    guard = w.config.guard
    if guard is not None:
        guard.begin(w.sub.name)
    try:
        sandboxes = w.config.sandboxes  # here, or on a Dask worker (course.instructor.pipeline.executors)
        if sandboxes is None:
            w.box = sandbox.run_notebook(to_run, w.plan.tasks, w.config.limits, batch=w.config.batch)
        else:
            w.box = sandboxes(to_run, w.plan.tasks, w.config.limits)
    finally:
        touched, suspects = guard.end(w.sub.name) if guard is not None else ([], 0)
    if touched:
        what = "; ".join(touched[:5])
        if suspects == 1:
            w.sub.status = "tampering"
            w.sub.notes.append(f"graded 0: the notebook wrote to the grader's files ({what}); check them")
            _fill(w, "not_graded", "wrote to the grader's files")
            return False
        w.sub.notes.append(f"the grader's files were modified while this and {suspects - 1} other notebook(s) "
                           f"ran ({what}); check them; grade again with --jobs 1 to tell which")
    return True


def collect(w: Work) -> bool:
    """What the sandbox said about the learner's cells (errors, skipped cells, how it ended)."""
    box, sub = w.box, w.sub
    sub.timing = dict(box.timing)
    errors = box.cells.get("errors", {})
    sub.cell_failures, sub.expected_cell_errors = attribution.failures(
        w.cells, errors, w.plan.course_cells if w.plan is not None else frozenset(), quote)
    sub.cell_errors = {f.cell: f.error for f in sub.cell_failures}
    for k, why in sorted(box.cells.get("skipped", {}).items()):
        sub.notes.append(f"cell {int(k) + 1} {why}: skipped, the sandbox was started again without it")
    if box.status == "timeout":
        sub.status = "timeout"
        sub.notes.append(f"ran out of time ({w.config.limits.timeout:g} s): exercises not reached score 0")
    elif box.status == "crashed":
        sub.status = "crashed"
        last = (box.log.strip().splitlines() or ["no message"])[-1]
        why = f"; {box.problem}" if box.problem else ""
        if box.hidden_phase:  # its exit code and last words could carry the hidden cases out
            sub.notes.append("the sandbox stopped after the hidden tests had started (how it ended is not shown)")
        else:
            sub.notes.append(f"the sandbox stopped (exit code {box.returncode}{why}); its last words: {quote(last)}")
    return True


def _compare(ex, ts, outcomes: list, deadline: float = float("inf")) -> Result:
    """The compare phase of one test set: the same :func:`~course.grader.compare.core.compare` as a
    learner's ``check`` (reconciled across the set's cases). Missing outcomes fail their cases, a
    malformed one fails its case, never the batch; past the submission's deadline it stops."""
    if time.monotonic() > deadline:
        raise OverBudget()
    outcomes = list(outcomes)[: len(ts.cases)]
    while len(outcomes) < len(ts.cases):
        outcomes.append(Outcome(error=ErrorInfo("exception", "NoResult", "no result for this case")))
    results = compare(ex, ts.cases, outcomes, ts.references)
    return Result(ex.id, ex.title, ex.lesson, ex.points, results, ex.hints, ts.seed)


def score_exercise(w: Work, ex, t: int) -> ExerciseGrade:
    g = ExerciseGrade(ex.id, ex.title, ex.points)
    binding, box = w.plan.bindings[ex.id], w.box
    meta = box.meta.get(t)
    timed_out = False
    for s, ts in enumerate(w.plan.sets[ex.id]):
        sg = SetGrade(ts.label, ts.hidden, ts.visibility, ts.seed, len(ts.cases))
        g.sets.append(sg)
        got = box.outcomes.get((t, s))
        if got is None:
            sg.note = box.missing.get((t, s), "no result")
            continue
        outcomes, set_meta = got
        timed_out = timed_out or bool(set_meta.get("timed_out"))
        sg.result = _compare(ex, ts, outcomes, w.deadline)
        sg.n_passed = sg.result.n_passed
    if meta is None:
        g.status = "no_result"
        why = "the notebook ran out of time" if box.status == "timeout" else "the sandbox stopped"
        g.notes.append(f"no result: {why} before this exercise was graded")
        return g
    if not meta.get("found"):
        g.status = "missing"
        g.notes.append(f"no `{binding.function}` defined after running the notebook")
        return g
    if not meta.get("callable"):
        g.status = "missing"
        g.notes.append(f"`{binding.function}` is not a function (its type: {quote(meta.get('type'), 40)})")
        return g
    why = w.findings.uses_reference.get(ex.id)
    if why is not None:
        g.status = "uses_reference"
        g.notes.append(f"uses the course's reference implementation ({why}): graded 0")
        return g
    total, passed = g.n_cases, g.n_passed
    g.score = round(ex.points * passed / total, 4) if total else 0.0
    statuses = [s.result.status for s in g.sets if s.result is not None]
    if total and passed == total:
        g.status = "passed"
    elif "not_attempted" in statuses:
        g.status = "not_attempted"
        g.notes.append("not attempted")
    elif statuses and all(s == "error" for s in statuses):
        g.status = "error"
    else:
        g.status = "failed" if statuses else "no_result"
    g.notes += [f"{s.label}: {s.note}" for s in g.sets if s.result is None]
    if timed_out:
        g.notes.append(f"timed out after {w.config.limits.exercise_timeout:g} s")
    return g


def score(w: Work) -> bool:
    sub = w.sub
    for t, ex in enumerate(w.plan.exercises):
        sub.exercises[ex.id] = score_exercise(w, ex, t)
    attempted = [e for e in sub.exercises.values() if e.status != "not_attempted"]
    if not attempted:
        sub.notes.append("not attempted: every exercise still raises NotImplementedError")
    else:
        missing = [e.id for e in sub.exercises.values() if e.status == "not_attempted"]
        if missing:
            sub.notes.append("not attempted: " + ", ".join(missing))
    for e in sub.exercises.values():
        if e.status in ("uses_reference", "missing", "no_result"):
            sub.notes.append(f"{e.id}: {e.notes[0]}")
        elif any(n.startswith("timed out after") for n in e.notes):
            sub.notes.append(f"{e.id}: timed out after {w.config.limits.exercise_timeout:g} s (an endless loop?)")
    _explain_cells(w)
    w.attempted_shapes = {ex.id: w.shapes[b.function] for ex in w.plan.exercises
                          if (b := w.plan.bindings[ex.id]).function in w.shapes
                          and sub.exercises[ex.id].status in ("passed", "failed", "error")}
    return True


def _explain_cells(w: Work) -> None:
    """Each failed cell's consequence for the grade; the learner's own go first into the notes."""
    sources = dict(w.cells)
    graded = {w.plan.bindings[ex.id].function: w.sub.exercises[ex.id].status != "missing" for ex in w.plan.exercises}
    for f in w.sub.cell_failures:
        f.consequence = attribution.consequence(f, sources.get(f.cell - 1, ""), graded, w.config.limits.cell_timeout)
    w.sub.notes[:0] = attribution.as_notes(w.sub.cell_failures)


PIPELINE = (read, lesson, scan, run, collect, score)


GRADER_BUDGET = 120.0  # seconds of the grader's own work on one submission (the sandbox's time not counted)


class OverBudget(Exception):
    """The grader's own work on one submission (scan, transform, decode, compare, write) ran past
    :data:`GRADER_BUDGET`."""


def _over_budget(w: Work, where: str) -> None:
    w.sub.status = "invalid"
    w.sub.notes.append(f"not graded: the grader's own work on this notebook ({where}) took more than "
                       f"{GRADER_BUDGET:g} s; review it by hand")
    if w.plan is not None:
        _fill(w, "not_graded", "not graded: over the grader's time budget")


def run_pipeline(w: Work, stages=PIPELINE, budget: float | None = None) -> Work:
    """The stages in order, each stopping the pipeline by returning ``False``. The time the grader
    spends outside the sandbox is bounded by ``budget`` (default :data:`GRADER_BUDGET`): past it
    the submission is "invalid" with the reason, and the batch goes on."""
    budget = GRADER_BUDGET if budget is None else budget
    spent = 0.0
    for stage in stages:
        start = time.monotonic()
        if stage is not run:
            w.deadline = start + budget - spent
        try:
            go = stage(w)
        except OverBudget:
            _over_budget(w, stage.__name__)
            break
        if stage is not run:
            spent += time.monotonic() - start
            if spent > budget:
                _over_budget(w, stage.__name__)
                break
        if not go:
            break
    return w
