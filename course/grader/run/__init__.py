"""The run phase: everything the sandbox holds and runs.

Every call into learner code happens here (:mod:`~course.grader.run.runner` through the
exercises' protocols), and what comes out is plain data (:mod:`~course.grader.run.outcome`).
This folder is copied whole into the grading view (:mod:`course.instructor.sandbox.view`), so it
imports nothing from the compare phase, the topics or the grader's bug models (a test says so).
"""
