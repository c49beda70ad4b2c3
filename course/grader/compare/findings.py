"""What the compare phase produces and reads: findings, per-output checks, per-case results,
and the two views the diagnoses look at (:class:`Slot`: one output of one case; :class:`Context`:
one whole case). Plain data classes, no behaviour beyond lazily read arrays."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...backend import is_array, to_numpy
from ..cases import Case
from ..run.outcome import ErrorInfo, Outcome

__all__ = ["Diagnosis", "OutputCheck", "CaseResult", "Context", "Slot"]


@dataclass
class Diagnosis:
    """A named finding. ``fails`` is False for a remark that costs no points.

    ``facts``: what the finding found, as data for the rest of the compare phase (``{"factor":
    2.0, "exact": True}``), never to be read back out of the message. ``supersedes``: the names of
    the generic findings this one explains on its case (declared by its entry of the table,
    :attr:`course.grader.compare.diagnoses.Entry.supersedes`). Neither takes part in equality."""

    name: str
    message: str
    fails: bool = True
    facts: dict | None = field(default=None, compare=False)
    supersedes: tuple = field(default=(), compare=False)


@dataclass
class OutputCheck:
    """One output of one case: whether it matches, and small previews of expected and got."""

    name: str
    ok: bool
    expected: str = ""
    got: str = ""


@dataclass
class CaseResult:
    index: int
    note: str
    passed: bool
    diagnoses: list = field(default_factory=list)
    outputs: list = field(default_factory=list)
    error: ErrorInfo | None = None
    plot: dict | None = None


@dataclass
class Context:
    """Everything the case-level diagnoses may look at: the exercise, the case, the learner's
    outcome and the reference's (whose ``extra["variants"]`` holds the variants' outputs)."""

    exercise: Any
    case: Case
    outcome: Outcome
    reference: Outcome
    passed: bool = False
    failing: list = field(default_factory=list)  # names of outputs that did not match
    said: set = field(default_factory=set)  # names the exercise's own judge gave (not said again)
    plot: dict | None = None

    @property
    def protocol(self) -> str:
        return self.exercise.protocol.kind


@dataclass
class Slot:
    """One output of one case, as the per-output diagnoses see it.

    ``rtol``/``atol`` are the tolerances of the expected dtype; ``tol`` the ones values are
    compared with (a lower-precision float output is compared at its own dtype's tolerance, once
    the dtype diagnosis has said so). ``arr`` and ``exp`` are got and expected as NumPy arrays
    (reading ``arr`` raises for output that is not array-like: the "type" entries run first).
    """

    name: str
    label: str  # "Your dW" / "Your output"
    expected: Any
    got: Any
    case: Case
    exercise: Any
    rtol: float = 1e-6
    atol: float = 1e-9
    _arr: np.ndarray | None = field(default=None, repr=False)
    _tol: tuple | None = field(default=None, repr=False)

    def __post_init__(self):
        self.exp = np.asarray(self.expected)
        #: the output kind in the diagnosis table: "number" (0-d expected) or "array"
        self.kind = "number" if self.exp.ndim == 0 else "array"

    @property
    def arr(self) -> np.ndarray:
        if self._arr is None:
            self._arr = np.asarray(to_numpy(self.got) if is_array(self.got) else self.got)
        return self._arr

    @property
    def tol(self) -> tuple[float, float]:
        if self._tol is None:
            e, a = self.exp, self.arr
            if e.dtype == np.float64 and a.dtype in (np.float32, np.float16):
                self._tol = self.exercise.tolerance(str(a.dtype))
            else:
                self._tol = (self.rtol, self.atol)
        return self._tol
