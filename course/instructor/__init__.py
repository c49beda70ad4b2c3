"""Instructor grading: ``course grade`` turns a class's notebooks into a gradebook.

Learner code is hostile input, so it runs only inside a sandbox where no reference exists. The
tools, by role:

- :mod:`course.instructor.grade`: the command and the batch (``grade_options``: its options for
  late work and hand-graded answers);
- :mod:`course.instructor.sandbox`: the trust boundary. ``sandbox/inside/`` is what runs in the
  sandbox (the driver ``box``, the frames ``channel``, the ``wire`` format, read back with
  limits and without pickle); ``view`` builds the grading view of ``course`` (no references);
  ``host`` and ``bwrap`` start one bubblewrap sandbox per submission; ``guard`` protects the
  instructor's files;
- :mod:`course.instructor.pipeline`: the batch. ``plan`` (per lesson, before any learner code
  runs: cases, reference outcomes, what is sent into the sandbox), ``stages`` (one submission:
  read -> lesson -> scan -> run -> collect -> score), ``extract``, ``copies`` (near copies of
  the reference or of classmates), ``hidden`` (hidden tests), ``records`` and ``store`` (grades
  kept between runs, ``--resume``), ``batch`` and ``executors`` (where sandboxes run),
  ``outputs`` (gradebook.csv, grades.json, feedback pages, Gradescope JSON);
- :mod:`course.instructor.course_admin`: the tools around a deadline: ``release``, ``collect``,
  ``late``, ``manual``, ``adjust``, ``class_report``, ``gradescope_zip``.
"""

from __future__ import annotations

from .grade import ExerciseGrade, GradingError, SubmissionGrade, collect_submissions, grade_batch
from .sandbox.host import Limits

__all__ = ["grade_batch", "collect_submissions", "GradingError", "SubmissionGrade", "ExerciseGrade", "Limits"]
