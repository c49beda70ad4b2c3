"""The compare phase: no code runs here; the run phase's plain data against the reference's.

- :mod:`~course.grader.compare.core`: :func:`compare`, case by case down the table, then the
  findings reconciled across cases;
- :mod:`~course.grader.compare.diagnoses`: the diagnosis table, the one place where diagnoses
  are declared (order, conditions, gist, precedence);
- :mod:`~course.grader.compare.findings`: what the phase produces and reads (plain data);
- the table's tests: :mod:`~course.grader.compare.case_checks`,
  :mod:`~course.grader.compare.output_checks`, :mod:`~course.grader.compare.output_compare`,
  :mod:`~course.grader.compare.trajectory_checks`, :mod:`~course.grader.compare.training_checks`;
- the diagnosis engine: :mod:`~course.grader.compare.engine` (consistent findings) and its
  finders in :mod:`~course.grader.compare.faults`.
"""

from .core import *  # noqa: F403  (the phase's entry points, as before the phases were folders)
from .core import __all__  # noqa: F401
