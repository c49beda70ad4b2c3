"""The sandbox: the trust boundary of grading.

- :mod:`~course.instructor.sandbox.inside`: what runs inside the sandbox (the driver, the frames,
  the wire format), copied with the grader's run phase into the grading view;
- :mod:`~course.instructor.sandbox.view`: the grading view, the only ``course`` learner code sees;
- :mod:`~course.instructor.sandbox.host`: the grader's side: starts a sandbox, reads its frames
  with limits, gives up on time;
- :mod:`~course.instructor.sandbox.bwrap`: the bubblewrap command line;
- :mod:`~course.instructor.sandbox.guard`: the instructor's files that no submission may touch.
"""
