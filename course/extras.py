"""The optional extras of the course (``pip install "backprop-course[torch]"``), in one sentence.

Kept apart so that both a lesson cell (:func:`course.notebook.needs_extra`) and the grading
sandbox's run phase (:mod:`course.grader.run.torch_protocols`) can say it without importing more.
"""

__all__ = ["extra_message"]


def extra_message(extra: str, what: str = "cell") -> str:
    """The one line shown where a cell (or a check) needs an optional extra that is not installed."""
    return f'This {what} needs the [{extra}] extra: pip install "backprop-course[{extra}]", then restart the kernel.'
