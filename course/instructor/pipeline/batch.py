"""The batch loop of ``course grade``: every submission through the stages, ``jobs`` at a time.

Submissions recorded in the output folder's store (``--resume``) are taken from there; each one
graded is recorded and the gradebook so far rewritten the moment it finishes
(:mod:`course.instructor.pipeline.store`); a ``tqdm`` bar shows done, running and failed, with an ETA.
"""

from __future__ import annotations

import sys
import threading
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from . import stages
from .plan import LessonPlan
from .records import SubmissionGrade

__all__ = ["grade_all", "grader_failure"]


def grader_failure(works) -> str | None:
    """The cause, when every submission (more than one) ended the same way before any learner's
    code ran (its sandbox stopped before it took its job, or the grader raised on it): the
    grader cannot run here, and a class of zeros would hide it."""
    causes = set()
    for w in works:
        box = w.box
        if box is not None and box.status == "crashed" and "job" not in box.timing:
            causes.add((box.log.strip().splitlines() or [f"exit code {box.returncode}"])[-1][:300])
        elif box is None and w.sub.status == "crashed" and w.sub.notes:
            causes.add(w.sub.notes[0])
        else:
            return None
    if len(works) < 2 or len(causes) != 1:
        return None
    return (f"every submission's sandbox stopped before any learner's code ran, with the same cause: "
            f"{causes.pop()}; the grader cannot run here (nothing was graded)")


def grade_all(grader, submissions, jobs: int, progress: bool, store=None, out=None) -> list:
    """Grade every submission (those recorded in ``store`` come from there), writing each record
    and the gradebook so far the moment a submission is graded."""
    from . import outputs

    works, todo = [], []
    for name, path in submissions:
        record = store.load(name, path) if store is not None else None
        if record is not None:
            sub, shapes = record
            works.append(stages.Work(sub, Path(path), grader, attempted_shapes=shapes))
        else:
            todo.append((name, path))
    columns = {"exercises": [ex.id for p in grader.plans.values() if isinstance(p, LessonPlan) for ex in p.exercises]}
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(submissions), initial=len(works), desc="grading", unit="notebook", file=sys.stderr)
    failed = running = 0
    lock = threading.Lock()

    def one(name, path):
        nonlocal running
        with lock:
            running += 1
        try:
            return grader.work(name, path)
        finally:
            with lock:
                running -= 1

    with ThreadPoolExecutor(max_workers=max(1, int(jobs))) as pool:
        futures = {pool.submit(one, name, path): (name, path) for name, path in todo}
        for fut in as_completed(futures):
            name, path = futures[fut]
            try:
                w = fut.result()
            except Exception as exc:  # a bug here must not lose the rest of the batch
                note = f"the grader failed on this notebook: {type(exc).__name__}: {exc}"
                w = stages.Work(SubmissionGrade(name, str(path), status="crashed", notes=[note]), Path(path), grader)
            works.append(w)
            failed += w.sub.status not in ("graded", "empty")
            if store is not None and w.sub.status != "crashed":
                store.save(name, path, (w.sub, w.attempted_shapes))
            if out is not None:  # the gradebook so far: always consistent, whatever happens next
                outputs.write_csv(Path(out) / "gradebook.csv", sorted((x.sub for x in works), key=lambda g: g.name),
                                  columns)
            if bar is not None:
                bar.update(1)
                bar.set_postfix_str(f"running {running}, failed {failed}")
    if bar is not None:
        bar.close()
    return works
