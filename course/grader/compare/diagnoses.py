"""The diagnosis table: every diagnosis the grader can name, in the order the compare phase tries them.

Each :class:`Entry` says *when* it applies (its phase, the protocols and output kinds it is for),
*what* it tests (``test``: a function of the case or of one output), and *what it says*
(``says``: the gist of its message; the exact words come from ``test``, which knows the
shapes and numbers). :mod:`course.grader.compare` walks :data:`TABLE` from top to bottom and
calls nothing else: a diagnosis that is not in the table is never made.

Phases, in order (``PHASES``)
-----------------------------
Output level: one output of one case, a :class:`~course.grader.compare.findings.Slot` ``s`` with
``s.got``, ``s.expected``, ``s.arr``/``s.exp`` (as arrays), ``s.label`` ("Your dW"), ``s.case``,
``s.exercise`` and ``s.tol`` (the tolerances values are compared with). ``test(s)`` returns the
message (a ``str``) or ``None``.

- ``structure``: is the output something that can be compared at all (None, a list, a string)?
- ``shape``: its shape, and NaN/inf where the expected values are finite.
- ``precision``: its dtype (a finding fails the output; values are then compared at that dtype).
- ``values``: reached only when the values differ: what is wrong with them.

Case level: one whole case, a :class:`~course.grader.compare.findings.Context` ``ctx`` with
``ctx.exercise``, ``ctx.case``, ``ctx.outcome`` (the learner's, plain data), ``ctx.reference``
(the reference's; ``ctx.reference.extra["variants"]`` holds the variants' outputs),
``ctx.passed`` and ``ctx.failing`` (names of outputs that did not match). ``test(ctx)``
returns a :class:`~course.grader.compare.findings.Diagnosis`, a list of them, or ``None``.

- ``error``: the learner's function raised; a finding ends the case.
- ``verdict``: how the outputs are judged. The first entry whose test returns a verdict
  ``(ok, diagnoses, checks)`` (not ``None``) decides, and the rest of the phase is skipped:
  the exercise's ``judge``, an optimizer's ``trajectory``, ``count`` (too many or too few
  values returned), and last ``outputs``, output by output through the output-level phases
  (dicts and lists are compared item by item, ``grads['W']``, with their own "type"/"count"
  messages for a missing key or a wrong length).
- ``call``: facts about the call (inputs changed in place, different results on a second call).
  ``ctx.passed`` is set after this phase.
- ``after``: findings that need the verdict: named variants, forward vs backward, an
  optimizer's remarks, the exercise's own diagnoses.

``then`` says what a finding does to the walk: ``"go"`` (on to the next entry), ``"skip"``
(skip the rest of this phase), ``"stop"`` (end the walk: the output, or the case, fails).
A case or output passes when no finding with ``fails=True`` was made and the values match.

Adding a diagnosis
------------------
1. Write its test: ``def diag_xxx(s) -> str | None`` for one output (put it in
   :mod:`course.grader.compare.output_checks`), or ``def diag_xxx(ctx) -> Diagnosis | list | None``
   for a whole case (in :mod:`course.grader.compare.case_checks`, or a module of its own under
   ``course/grader/`` for a family of them). It reads data only: never call learner code or a
   reference here (what needs running belongs in the run phase, :mod:`course.grader.run.runner`,
   and reaches the test through ``ctx.outcome.extra`` or ``ctx.reference.extra``).
   Output tests return ``None`` when the diagnosis does not apply; keep them cheap.
2. Add ONE ``Entry(name, phase, test, says, ...)`` to :data:`TABLE`, in its phase's block
   (entries of a phase stay together), before the entries it should win over: the walk is in
   table order, and a ``"skip"``/``"stop"`` entry hides the ones after it. Give
   ``protocols=("backward",)`` etc. (the ``kind`` of :mod:`course.grader.run.protocols`) or
   ``outputs=("array",)`` / ``("number",)`` when it applies to those only.
3. Add ONE test in ``tests/test_diagnoses_table.py`` (or your own ``tests/test_diagnoses_*.py``)
   that plants the mistake in a fresh function, runs ``check`` and asserts the name and the words.
   ``tests/test_diagnoses_table.py`` checks the table's own invariants (phases in order, every
   entry says what it tests).

What a diagnosis needs from running code (probes: the learner's function called on designed
inputs) is computed in the run phase and stored as plain data in ``Outcome.extra`` (in the
protocol's ``run`` in :mod:`course.grader.run.protocols`, or in :func:`course.grader.run.runner.run` for
every protocol). Instructor grading runs that phase in the learner's sandboxed kernel and sends
``extra`` back through ``course/instructor/sandbox/inside/wire.py``: arrays, numbers, strings, tuples, lists and
dicts only, and treat it as untrusted (read trusted facts from ``ctx.reference.extra``).

An exercise adds its own findings as *data* read by entries of this table, never as a new
place that is called: ``register(variants=...)`` (read by ``variants``), ``diagnoses=``
(read by ``exercise``), ``judge=`` (read by ``judge``), ``factor_hints=`` (read by ``factor``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from . import case_checks as C
from . import engine as E
from . import output_checks as O
from . import trajectory_checks as T
from .findings import Diagnosis
from .output_compare import compare_outputs, count_problem

__all__ = ["Entry", "TABLE", "PHASES", "OUTPUT_PHASES", "CASE_PHASES", "entries", "names"]

OUTPUT_PHASES = ("structure", "shape", "precision", "values")
CASE_PHASES = ("error", "verdict", "call", "after")
PHASES = OUTPUT_PHASES + CASE_PHASES


@dataclass(frozen=True)
class Entry:
    """One diagnosis: its name, phase, test and the gist of what it says (see the module doc)."""

    name: str
    phase: str
    test: Callable
    says: str
    protocols: tuple = ()  # protocol kinds it applies to; () = all
    outputs: tuple = ()  # output kinds ("array", "number") it applies to; () = all (output phases)
    then: str = "go"  # "go", "skip" (the rest of the phase) or "stop" (the walk)

    @property
    def level(self) -> str:
        return "output" if self.phase in OUTPUT_PHASES else "case"

    def applies(self, protocol: str, output: str | None = None) -> bool:
        if self.protocols and protocol not in self.protocols:
            return False
        return not (self.outputs and output is not None and output not in self.outputs)


def _verdict_count(ctx):
    """A failing verdict when the function returns too many or too few values."""
    msg = count_problem(ctx.exercise, ctx.reference.outputs, ctx.outcome.outputs)
    return None if msg is None else (False, [Diagnosis("count", msg)], [])


def _verdict_outputs(ctx):
    """The usual verdict: every graded output through the output-level entries."""
    ex = ctx.exercise
    return compare_outputs(ex, ctx.case, ctx.reference.outputs, ctx.outcome.outputs, entries("output"))


#: The table, walked from top to bottom.
TABLE: tuple[Entry, ...] = (
    # -- one output: can it be compared? -------------------------------------------------------
    Entry("none", "structure", O.diag_none, "the output is None: a missing `return`", then="stop"),
    Entry("type", "structure", O.diag_type,
          "a list, a number or another type where an array (or a number) is expected", then="stop"),
    Entry("type", "structure", O.diag_unreadable, "the output cannot be read as an array", then="stop"),
    Entry("type", "structure", O.diag_not_numeric, "an array of strings or objects", then="stop"),
    # -- its shape -------------------------------------------------------------------------------
    Entry("transposed", "shape", O.diag_transposed, "shape (M, N) where (N, M) is expected: swapped operands "
          "of @ or a missing .T", outputs=("array",), then="stop"),
    Entry("shape", "shape", O.diag_shape, "another shape, with the likely cause (keepdims, the axis summed "
          "over, a reshape)", then="stop"),
    Entry("nan", "shape", O.diag_nan, "NaN or inf where the expected values are finite, and why", then="stop"),
    # -- its dtype ------------------------------------------------------------------------------
    Entry("dtype", "precision", O.diag_dtype, "float32 where float64 is expected, or integers for floats"),
    # -- its values (only when they differ) -----------------------------------------------------
    Entry("transposed", "values", O.diag_transposed_square, "a square output equal to the expected one "
          "transposed", outputs=("array",), then="skip"),
    Entry("sign", "values", O.diag_sign, "exactly -1 times the expected values", then="skip"),
    Entry("factor", "values", O.diag_factor, "a constant factor off (N: the batch mean; the exercise's "
          "factor_hints)", then="skip"),
    Entry("values", "values", O.diag_values, "how many entries differ, and the largest difference"),
    Entry("region", "values", O.diag_region, "wrong exactly where x < 0, <= 0, > 0, >= 0 or == 0",
          outputs=("array",)),
    # -- a case: did the call raise? -----------------------------------------------------------
    Entry("shape_error", "error", E.explained_error, "a NumPy broadcasting or matmul error named by the operands' "
          "shapes beside the contract's (N, D), (D, M), and which one is oriented the other way; a plain "
          "number where a Value belongs; a missing reflected operator"),
    Entry("exception", "error", C.diag_error, "the exception and where (or 'not attempted yet', or the "
          "protocol's own message: not_attempted, type, ...)", then="stop"),
    # -- the verdict ------------------------------------------------------------------------------
    Entry("judge", "verdict", C.judge_declared, "the exercise's own judge (register(judge=...))", then="skip"),
    Entry("trajectory", "verdict", T.judge_trajectory, "the first step where the path leaves the expected one",
          protocols=("trajectory",), then="skip"),
    Entry("count", "verdict", _verdict_count, "too many or too few values returned (a missing cache, a "
          "tuple where one value is expected)", then="skip"),
    Entry("outputs", "verdict", _verdict_outputs, "output by output, through the output phases", then="skip"),
    # -- facts about the call -------------------------------------------------------------------
    Entry("mutated", "call", C.diag_mutated, "an input changed in place"),
    Entry("nondeterministic", "call", C.diag_nondeterministic, "two calls on the same inputs disagree"),
    # -- after the verdict ------------------------------------------------------------------------
    Entry("variants", "after", C.diag_variants, "the outputs match a registered wrong variant: its own "
          "name and message (register(variants=...))"),
    Entry("forward_backward", "after", C.diag_forward_backward, "finite differences of the learner's "
          "forward say whether the forward or the backward is wrong", protocols=("backward", "call")),
    Entry("none", "after", T.diag_returned_none, "an update that returns None", protocols=("trajectory",)),
    Entry("not_in_place", "after", T.diag_not_in_place, "an update that returns a new array",
          protocols=("trajectory",)),
    Entry("state_names", "after", T.diag_state_names, "state buffers under other names",
          protocols=("trajectory",)),
    Entry("exercise", "after", C.diag_exercise, "the exercise's own diagnoses (register(diagnoses=...))"),
    # -- the diagnosis engine (course.grader.compare.engine): the function reasoned about, from probes and
    #    candidates of the run phase; each names the term at fault in the learner's words
    Entry("value_op", "after", E.value_op, "a Value op's fault, from the case's designed graph: out.grad "
          "ignored, = for +=, the input's value where the output's belongs, a sign, a power",
          protocols=("value_op",)),
    Entry("value_graph", "after", E.value_graph, "backward(): the op at fault, each op probed alone with a "
          "non-unit upstream gradient; or the order of the _backward calls", protocols=("value_backward",)),
    Entry("trajectory_fault", "after", E.trajectory_fault, "an optimizer's term at fault, from probes (a "
          "fresh first step, g = 0, a doubled lr): lr/decay/eps placement, bias-correction power, m vs "
          "m_hat, g vs g*g, state lost, order of updates", protocols=("trajectory",)),
    Entry("probe_path", "after", E.probe_path, "a path that is right on the test function but not on designed "
          "gradients (the test function hid the fault): fails the case, and names the term when it can",
          protocols=("trajectory",)),
    Entry("schedule_fault", "after", E.schedule_fault, "a schedule's slip: an argument off by one or "
          "ignored, another rounding, base or unit", protocols=("sweep",)),
    Entry("structure", "after", E.structure, "the reference over another axis or on a scaled input, 1 minus "
          "the expected values, or the sub-block that differs (a row, a column, the label entries)",
          protocols=("call", "backward")),
    Entry("argument", "after", E.argument, "an argument ignored (the default's result), or a number returned "
          "that is one of the arguments", protocols=("call",)),
    Entry("formula", "after", E.formula, "the exercise's usual formula slips (e.g. a bias-correction power)",
          protocols=("call",)),
    Entry("backward", "after", E.backward, "a backward not linear in dout (the dout = 0 probe), one that "
          "mixes entries (a single entry of dout set to 1), or another function's local derivative",
          protocols=("backward",)),
    Entry("mutation", "after", E.mutation, "an input left changed by about h: a perturbation not put back",
          protocols=("call",)),
    Entry("nonfinite", "after", E.nonfinite, "NaN/inf by the operation NumPy reports (exp overflow, log of 0, "
          "sqrt of a negative, 0/0) and the learner's line"),
)


_SELECTED: dict = {"table": None}


def entries(level: str | None = None, phase: str | None = None) -> tuple[Entry, ...]:
    """The entries of one level ("output" or "case") or one phase, in table order (kept for the
    table they were selected from: a test may swap ``TABLE`` for a longer one)."""
    if _SELECTED["table"] is not TABLE:  # holding the table itself: identity, never a reused id
        _SELECTED.clear()
        _SELECTED["table"] = TABLE
    key = (level, phase)
    found = _SELECTED.get(key)
    if found is None:
        found = _SELECTED[key] = tuple(
            e for e in TABLE if (level is None or e.level == level) and (phase is None or e.phase == phase)
        )
    return found


def names() -> list[str]:
    """Every diagnosis name an entry gives itself (variants and exercises add their own)."""
    return list(dict.fromkeys(e.name for e in TABLE))
