"""Exercise declarations, one module per topic.

Every module here (names not starting with "_") is imported the first time the registry is
used, and declares its exercises with :func:`course.grader.register`. To add a topic, add a
module; to add an exercise, add one ``register(...)`` call next to its siblings.
"""
