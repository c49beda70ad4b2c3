"""Interactive ipywidgets for the lessons; each widget lives in its own module.

- :mod:`course.widgets.learning_rate`: re-run gradient descent as a learning-rate slider moves (lesson 05).
- :mod:`course.widgets.optimizer_race`: optimizers racing on a test function's contour plot (lesson 07).

Each widget is a small class that owns its controls and an ``update()`` method that re-runs and
re-plots; notebooks and tests drive it by setting the controls' ``value``.
"""
