"""Instructor grading: ``course grade`` turns a class's notebooks into a gradebook.

Learner code is hostile input, so it runs only inside a sandbox where no reference exists:

- :mod:`course.instructor.grade`: the command and the batch;
- :mod:`course.instructor.plan`: per lesson, before any learner code runs: cases, reference
  outcomes, and the data sent into the sandbox (every reference-computed input as arrays);
- :mod:`course.instructor.stages`: one submission as a pipeline: read -> lesson -> scan -> run ->
  collect -> score;
- :mod:`course.instructor.view`: the grading view of ``course`` (no references) mounted in the sandbox;
- :mod:`course.instructor.bwrap`, :mod:`course.instructor.sandbox`: one bubblewrap sandbox per
  submission (user, PID, network, IPC namespaces; read-only Python and view; a size-capped tmpfs;
  hard limits); :mod:`course.instructor.box` is its driver inside;
- :mod:`course.instructor.channel`, :mod:`course.instructor.wire`: what comes back, as frames
  on a pipe and outcomes without pickle, read with limits;
- :mod:`course.instructor.copies`: near copies of the reference or of classmates (AST fingerprint);
- :mod:`course.instructor.outputs`: gradebook.csv, grades.json, feedback/*.md, Gradescope JSON;
- :mod:`course.instructor.hidden`: instructor-supplied hidden tests (``--hidden FILE``).
"""

from __future__ import annotations

from .grade import ExerciseGrade, GradingError, SubmissionGrade, collect_submissions, grade_batch
from .sandbox import Limits

__all__ = ["grade_batch", "collect_submissions", "GradingError", "SubmissionGrade", "ExerciseGrade", "Limits"]
