"""What the run phase hands to the compare phase: plain data only.

An :class:`Outcome` holds arrays, numbers, tuples, dicts, :class:`Opaque` stand-ins for other
objects and an :class:`ErrorInfo`, so it can be computed in another process (instructor grading
runs learner code in an isolated kernel and sends outcomes back as data).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["ErrorInfo", "Outcome", "Opaque"]


@dataclass
class ErrorInfo:
    """An exception raised by the learner's code (or a mistake found while calling it).

    kind: "not_attempted" (NotImplementedError), "exception", or "mistake" (the message already
    says what is wrong, e.g. "your __mul__ returned a float, not a Value").
    """

    kind: str
    type: str
    message: str
    traceback: str = ""
    where: str = ""
    shapes: dict = field(default_factory=dict)  # array shapes alive in the learner's failing frame

    @property
    def not_implemented(self) -> bool:
        return self.kind == "not_attempted"


@dataclass
class Outcome:
    """What one call (or one trajectory) of a function gave: outputs or an error, and notes.

    ``extra`` holds what the protocol measured besides the outputs (``fd``: finite differences of
    the learner's forward; ``nondeterministic``; a trajectory's ``state``). A *reference* outcome
    made by :func:`~course.grader.models.reference.run_reference` also holds ``variants``: ``{name:
    outputs}`` of each deliberately wrong variant on the same case (``None`` where it failed).
    """

    outputs: Any = None
    error: ErrorInfo | None = None
    mutated: tuple = ()
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Opaque:
    """Stand-in for an object that is not plain data (keeps its type name and a short repr)."""

    type_name: str
    text: str

    def __repr__(self):
        return self.text
