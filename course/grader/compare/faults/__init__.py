"""The diagnosis engine's finders: which fault explains the learner's numbers (compare phase).

- :mod:`~course.grader.compare.faults.terms`: a term off, matched against the grader's candidates;
- :mod:`~course.grader.compare.faults.structural`: another axis, a complement, a sub-block;
- :mod:`~course.grader.compare.faults.derivatives`: backward passes read as derivatives;
- :mod:`~course.grader.compare.faults.autograd`: a ``Value`` op's faulty rule;
- :mod:`~course.grader.compare.faults.explain`: exceptions and non-finite results explained.
"""
