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
from ..run.outcome import NEEDS_EXTRA, Outcome
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
    "drop_unverified_variants",
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
    if reference.error is not None and reference.error.type == NEEDS_EXTRA:  # an optional package missing
        return CaseResult(index, case.note, False, diagnoses=[Diagnosis(NEEDS_EXTRA, reference.error.message)])
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
        if not entry.applies(protocol):
            continue
        result = entry.test(ctx)
        if phase == "verdict":
            if result is None:
                continue
            ok, found, checks = result
            ctx.failing = [c.name for c in checks if not c.ok]
            if entry.name == "judge":  # what the exercise's own judge named is not said again
                ctx.said = {d.name for d in found}
        elif result is None:
            continue
        else:
            found = [result] if isinstance(result, Diagnosis) else list(result)
            ok = ok and not any(d.fails for d in found)
            for d in found:  # the precedence the table declares travels with the finding (a
                if d.name not in entry.supersedes:  # generic finding of its own explains nothing away)
                    d.supersedes = d.supersedes or entry.supersedes
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
    """The compare phase for all cases (no code runs here): each case down the table
    (:func:`compare_case`), then the findings reconciled across the cases (a factor the same in
    every case, the explanation of every case first). The one compare of a learner's ``check``
    and of class grading (:mod:`course.instructor.pipeline.stages`), so both name the same
    mistakes. Outcomes the comparison cannot read (they came from learner code) fail their case
    with an ``unreadable`` finding; a reference that failed is the grader's bug and raises."""
    results = [
        _compare_or_unreadable(exercise, i, c, o, r)
        for i, (c, o, r) in enumerate(zip(case_list, outcomes, reference_outcomes))
    ]
    drop_unverified_variants(exercise, results, outcomes, reference_outcomes)
    reconcile(results)  # across cases: consistent factors; an explanation of every case wins
    return results


def drop_unverified_variants(exercise, results, outcomes, references) -> None:
    """A variant (or a knob) is a claim about the learner's code. It is *verified* when it
    reproduces every failing case on which it can be told from the reference. Where one variant
    is verified, the variants that match only some cases are coincidences of those cases' numbers
    and are named nowhere; where none is, a partial match is kept, with the cases it does not
    explain said in its message (the learner may have more than one thing to fix)."""
    from .case_checks import matches

    failing = [i for i, r in enumerate(results) if not r.passed and r.error is None]
    partial = {}  # variant name -> the failing cases it could explain but does not
    for v in exercise.variants:
        named = [i for i in failing if any(d.name == v.name for d in results[i].diagnoses)]
        if not named:
            continue
        partial[v.name] = [
            i for i in failing if i not in named and outcomes[i].outputs is not None
            and (references[i].extra.get("variants") or {}).get(v.name) is not None
            and not matches(exercise, references[i].outputs, references[i].extra["variants"][v.name], None)
        ]
    verified = any(not unexplained for unexplained in partial.values())
    for name, unexplained in partial.items():
        if not unexplained:
            continue
        for r in results:
            if verified:
                r.diagnoses = [d for d in r.diagnoses if d.name != name]
            else:
                cases = ", ".join(str(i + 1) for i in unexplained)
                for d in r.diagnoses:
                    if d.name == name and "This explains this case but not" not in d.message:
                        d.message += (f" (This explains this case but not case{'s' if len(unexplained) > 1 else ''} "
                                      f"{cases}: something else differs there too.)")


def _compare_or_unreadable(exercise, index, case, outcome, reference) -> CaseResult:
    if reference.error is not None:
        return compare_case(exercise, index, case, outcome, reference)  # raises: the grader's bug
    try:
        return compare_case(exercise, index, case, outcome, reference)
    except Exception as exc:  # outputs of a shape or kind the comparison cannot read
        return CaseResult(index, case.note, False, [Diagnosis(
            "unreadable", f"Your result could not be compared ({type(exc).__name__}).")])  # no learner bytes
