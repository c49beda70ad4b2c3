#!/usr/bin/env bash
# Gradescope autograder setup: runs once when the autograder image is built.
# The autograder zip holds this folder's files plus the course repository as course/ (see README,
# "Grading a class"), so the package and its solution notebooks sit in /autograder/source/course.
set -euo pipefail
cd /autograder/source/course
python3 -m pip install --no-cache-dir .
python3 -m ipykernel install --sys-prefix --name python3 >/dev/null
