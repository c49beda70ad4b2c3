"""The grader's bug models, run on the grader's side only (never in the sandbox).

- :mod:`~course.grader.models.reference`: the reference's outcomes, with its variants' outputs
  and the candidates as data beside them;
- :mod:`~course.grader.models.candidates`: what the diagnosis engine compares a failing answer
  with (another axis, a formula slip, an optimizer fault...);
- :mod:`~course.grader.models.optim_models`: each optimizer family's update with switches for one
  fault at a time.
"""
