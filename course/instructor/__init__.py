"""Instructor grading: ``course grade`` turns a class's notebooks into a gradebook.

The learner's code is untrusted, so it never runs in the grader's process:

- :mod:`course.instructor.sandbox`: one child process and one fresh Jupyter kernel per submission
  (nbclient), with a wall-clock timeout, per-cell timeouts and limits on memory, CPU time and file
  size; outputs are discarded (nothing printed counts).
- :mod:`course.instructor.kernel`: inside that kernel, after the learner's cells, the grader's run
  phase calls the learner's functions on the grader's cases (other seeds than the learner's).
- :mod:`course.instructor.wire`: the outcomes come back as JSON plus ``.npy`` arrays, read with
  ``allow_pickle=False`` (nothing learner-written is ever unpickled).
- :mod:`course.instructor.extract`: the exercise -> function mapping from the *solution*
  notebook's check cells, the lesson of a submission, and a scan of the learner's source for the
  reference implementation or writes into the grader.
- :mod:`course.instructor.grade`: the command; references and comparison in the grader's process.
- :mod:`course.instructor.outputs`: gradebook.csv, grades.json, feedback/*.md, Gradescope JSON.
- :mod:`course.instructor.hidden`: instructor-supplied hidden tests (``--hidden FILE``).
"""

from __future__ import annotations

from .grade import ExerciseGrade, GradingError, SubmissionGrade, collect_submissions, grade_batch
from .sandbox import Limits

__all__ = ["grade_batch", "collect_submissions", "GradingError", "SubmissionGrade", "ExerciseGrade", "Limits"]
