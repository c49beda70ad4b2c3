"""The compare phase: the learner's outcomes against the reference's, and what is wrong, in words.

Nothing here runs code, neither the learner's nor the grader's variants: it reads the plain
data of the run phase (:mod:`course.grader.run.runner`) and walks the diagnosis table
(:mod:`course.grader.compare.diagnoses`) from top to bottom, case by case. The table is the one place
where diagnoses are declared, with the order, the conditions and the gist of each message.

Names a learner may see: those of the table's entries (``diagnoses.names()``: none, type,
transposed, shape, nan, dtype, sign, factor, region, values, exception, mutated, ...; each entry
says what it tests), the structural ``count`` and ``type`` of the output walk, the protocols' own
(``not_attempted``, ``trajectory``, ...), the diagnosis engine's findings (:mod:`course.grader.compare.engine`:
shape_error, m_not_corrected, wrong_axis, label_entries, not_linear_in_dout, nonfinite_op, ...),
and the names of each exercise's variants (e.g.
bias_axis, no_bias_correction, eps_inside_sqrt) and of its own diagnoses.
"""

from __future__ import annotations

from ..cases import Case
from ..run.outcome import Outcome
from ..run.values import close, fmt_shape, preview
from .diagnoses import TABLE, entries
from .engine import reconcile, settle
from .findings import CaseResult, Context, Diagnosis, OutputCheck, Slot
from .output_compare import check_output, compare_outputs, compare_value

__all__ = [
    "Diagnosis",
    "OutputCheck",
    "CaseResult",
    "Context",
    "Slot",
    "DIAGNOSES",
    "TABLE",
    "compare",
    "compare_case",
    "check_output",
    "compare_outputs",
    "compare_value",
    "close",
    "preview",
    "fmt_shape",
]

#: The per-output diagnoses by name (a view of the table's output level, first entry of each name).
DIAGNOSES = {}
for _e in entries("output"):
    DIAGNOSES.setdefault(_e.name, _e.test)


def compare_case(exercise, index: int, case: Case, outcome: Outcome, reference: Outcome) -> CaseResult:
    """The verdict and diagnoses for one case: the case-level entries of the table, in order."""
    if reference.error is not None:  # a bug in the grader, not the learner's
        raise RuntimeError(
            f"reference for {exercise.id} failed on case {index + 1}: {reference.error.message}\n"
            f"{reference.error.traceback}"
        )
    res = CaseResult(index, case.note, False)
    ctx = Context(exercise, case, outcome, reference)
    protocol = exercise.protocol.kind
    ok, diags, checks = True, [], []
    skipping, judged = None, False
    for entry in entries("case"):  # phases in order: error, verdict, call, after
        phase = entry.phase
        if phase == skipping:
            continue
        if phase == "after" and not judged:
            ctx.passed, judged = ok, True
        if entry.protocols and protocol not in entry.protocols:
            continue
        result = entry.test(ctx)
        if phase == "verdict":
            if result is None:
                continue
            ok, found, checks = result
            ctx.failing = [c.name for c in checks if not c.ok]
        elif result is None:
            continue
        else:
            found = [result] if isinstance(result, Diagnosis) else list(result)
            ok = ok and not any(d.fails for d in found)
        diags += found
        if found and entry.then == "stop":
            res.error = outcome.error
            res.diagnoses = diags
            return res
        if (found or phase == "verdict") and entry.then == "skip":
            skipping = phase
    if not judged:
        ctx.passed = ok
    res.passed = ok
    res.diagnoses = settle(ctx, diags) if not ok else diags  # consistent findings (course.grader.compare.engine)
    res.outputs = checks
    res.plot = ctx.plot
    return res


def compare(exercise, case_list, outcomes, reference_outcomes) -> list[CaseResult]:
    """The compare phase for all cases (no code runs here)."""
    results = [
        compare_case(exercise, i, c, o, r)
        for i, (c, o, r) in enumerate(zip(case_list, outcomes, reference_outcomes))
    ]
    reconcile(results)  # across cases: consistent factors; an explanation of every case wins
    return results

