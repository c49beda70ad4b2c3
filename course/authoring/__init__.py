"""Lesson authoring: ``course build`` and ``course new-lesson``.

Instructors write each lesson once, as a *solution notebook* ``solutions/NN_topic.ipynb``
(``NN`` is the two-digit lesson number, ``topic`` lower-case words joined by ``_``; the
title is the first heading of the first markdown cell). ``course build`` regenerates the
*learner notebook* ``notebooks/NN_topic.ipynb`` from it. Never edit ``notebooks/`` by hand:
a test fails when it is out of date with ``solutions/``.

Solution regions (the nbgrader convention)
------------------------------------------
In a code cell, the lines between the markers become one ``raise NotImplementedError``
at the marker's indentation; everything else in the cell stays as written. This cell in
``solutions/``::

    def relu_forward(x):
        # ReLU: out = max(0, x), element-wise
        ### BEGIN SOLUTION  (hint: np.maximum)
        return np.maximum(0, x)
        ### END SOLUTION

becomes, in ``notebooks/``::

    def relu_forward(x):
        # ReLU: out = max(0, x), element-wise
        raise NotImplementedError("write your solution here (replace this line). Hint: np.maximum")

The hint after the marker is optional. A whole code cell is a solution when it has the
tag ``solution`` (or nbgrader's ``solution`` flag) and no markers: its leading comment
lines (the task, in words) stay and the rest becomes the ``raise``. In a markdown cell, a
marked region or a whole ``solution``-tagged cell becomes ``YOUR ANSWER HERE``. A line
that mentions BEGIN/END SOLUTION but is not exactly a marker is an error, so that a typo
can never leak a solution; so are unbalanced markers (the message names file and cell).

Normalisation (what else ``course build`` does)
-----------------------------------------------
Outputs and execution counts are cleared; cell metadata keeps only ``tags`` (without
``solution``), ``editable``, ``deletable`` and ``jupyter`` (hidden source/outputs);
notebook metadata is a fixed kernelspec and language plus
``metadata["course"] = {"lesson": "NN_topic"}``, which tells the grader which lesson a
submitted notebook is; cell ids are the solution's (or ``cell-<index>`` where missing);
the file is nbformat 4.5 written by :mod:`nbformat`. Building twice gives byte-identical
files.

Solution notebooks are only read. ``course build --clean-solutions`` also normalises them
in place (outputs cleared except in cells tagged ``nbval-check-output``, metadata trimmed
the same way but ``solution`` tags and nbgrader metadata kept) so the repository stays
small and diffs show only real changes; run it before committing.

A learner notebook that someone has run (it has outputs) is never overwritten without
``--force``: it may be a learner's work.
"""

from __future__ import annotations

from ..lessons import LESSON_FILE
from .build import BuildReport, Lesson, build, expected_notebooks, find_lessons, lesson_name, out_of_date
from .cli import add_arguments, run
from .normalise import clean_solution, learner_notebook, render
from .scaffold import PLACEHOLDER_PREFIX, new_lesson, slugify
from .strip import AuthoringError, strip_code, strip_markdown

__all__ = [
    "AuthoringError",
    "Lesson",
    "BuildReport",
    "LESSON_FILE",
    "lesson_name",
    "find_lessons",
    "strip_code",
    "strip_markdown",
    "learner_notebook",
    "clean_solution",
    "render",
    "expected_notebooks",
    "out_of_date",
    "build",
    "new_lesson",
    "slugify",
    "PLACEHOLDER_PREFIX",
    "add_arguments",
    "run",
]
