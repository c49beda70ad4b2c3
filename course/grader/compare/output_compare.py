"""Comparing the outputs of one case, output by output, by walking the output phases of the
diagnosis table (:mod:`course.grader.compare.diagnoses`; the entries are passed in, so this module does
not depend on the table).

Outputs that are dicts, lists or tuples of values are compared item by item (``grads['W']``,
``batches[2]``); each array or number is one :class:`~course.grader.compare.findings.Slot`.
"""

from __future__ import annotations

import numpy as np

from ..cases import Case
from ..run.values import close, is_number, preview
from .findings import Diagnosis, OutputCheck, Slot

__all__ = ["check_output", "compare_outputs", "compare_value", "count_problem", "label", "pick", "tol_for",
           "count_message"]


def check_output(s: Slot, entries) -> tuple[bool, list[Diagnosis]]:
    """Compare one output by walking ``entries`` (the output entries of the table, in order):
    ``(ok, diagnoses)``.

    An entry whose test returns a message adds ``Diagnosis(entry.name, message)``; then
    ``entry.then`` says what happens: "stop" ends the output's comparison (it fails), "skip"
    skips the rest of the entry's phase, "go" goes on. Before the first entry of the "values"
    phase the values are compared (at ``s.tol``): when they match, the walk ends there, and the
    output passes unless a finding so far fails it.
    """
    found: list[Diagnosis] = []
    skipping = None
    compared = False
    protocol, kind = s.exercise.protocol.kind, s.kind
    for entry in entries:
        if entry.phase == skipping:
            continue
        if not compared and entry.phase == "values":
            compared = True
            if close(s.arr, s.exp, *s.tol):
                return not any(d.fails for d in found), found
        if (entry.protocols or entry.outputs) and not entry.applies(protocol, kind):
            continue
        msg = entry.test(s)
        if not msg:
            continue
        found.append(Diagnosis(entry.name, msg))
        if entry.then == "stop":
            return False, found
        if entry.then == "skip":
            skipping = entry.phase
    if not compared and close(s.arr, s.exp, *s.tol):
        return not any(d.fails for d in found), found
    return False, found


def label(exercise, name) -> str:
    return "Your output" if name == "out" and exercise.single_output else f"Your {name}"


def pick(exercise, outputs, name):
    if exercise.single_output:
        return outputs
    return outputs[list(exercise.outputs).index(name)]


def tol_for(exercise, expected) -> tuple[float, float]:
    if isinstance(expected, (np.ndarray, np.generic)) and expected.dtype.kind == "f":
        return exercise.tolerance(str(expected.dtype))
    return exercise.tolerance("float64")


def count_message(exercise, got) -> str:
    names = ", ".join(n or "cache" for n in exercise.outputs)
    want = f"{len(exercise.outputs)} values: ({names})"
    if got is None:
        return f"Your function returned None: did you forget the `return` statement? It should return {want}."
    if isinstance(got, (tuple, list)):
        return f"Your function returned {len(got)} values but should return {want}."
    return f"Your function returned a single {type(got).__name__} but should return {want}."


def count_problem(exercise, expected, got) -> str | None:
    """What is wrong with the number of values returned, or None: a tuple of the wrong length, or
    a tuple where one value is expected."""
    names = exercise.outputs
    if not exercise.single_output:
        if not isinstance(got, (tuple, list)) or len(got) != len(names):
            return count_message(exercise, got)
    elif isinstance(got, tuple) and not isinstance(expected, tuple) and len(got) > 1:
        return (
            f"Your function returned a tuple of {len(got)} values, but should return a single value "
            f"({names[0]})."
        )
    return None


def compare_outputs(exercise, case: Case, expected, got, entries) -> tuple[bool, list, list]:
    """All graded outputs of one case, each through ``entries``: (ok, diagnoses, checks). The
    number of values returned is an entry of its own ("count", before this verdict)."""
    ok, diags, checks = True, [], []
    for name in exercise.outputs:
        if name is None:
            continue
        exp, g = pick(exercise, expected, name), pick(exercise, got, name)
        o, d = compare_value(exercise, case, name, exp, g, entries)
        ok &= o
        diags += d
        checks.append(OutputCheck(name, o, preview(exp), preview(g)))
    return ok, diags, checks


def compare_value(exercise, case, name, expected, got, entries) -> tuple[bool, list]:
    """One named output (an array, a number, or a list/tuple/dict of them)."""
    lab = label(exercise, name)
    if isinstance(expected, dict):
        if not isinstance(got, dict):
            return False, [Diagnosis("type", f"{lab} should be a dict, got {type(got).__name__}.")]
        missing = [k for k in expected if k not in got]
        if missing:
            return False, [Diagnosis("type", f"{lab} is missing the key(s) {', '.join(map(repr, missing))}.")]
        ok, diags = True, []
        for k in expected:
            o, d = compare_value(exercise, case, f"{name}[{k!r}]", expected[k], got[k], entries)
            ok, diags = ok and o, diags + d
        return ok, diags
    if isinstance(expected, (list, tuple)) and not (expected and is_number(expected[0])):
        if not isinstance(got, (list, tuple)) or len(got) != len(expected):
            n = len(got) if isinstance(got, (list, tuple)) else type(got).__name__
            return False, [Diagnosis("count", f"{lab} should hold {len(expected)} items, got {n}.")]
        ok, diags = True, []
        for i, (e, g) in enumerate(zip(expected, got)):
            o, d = compare_value(exercise, case, f"{name}[{i}]", e, g, entries)
            ok, diags = ok and o, diags + d
        return ok, diags
    rtol, atol = tol_for(exercise, expected)
    if isinstance(expected, (float, int)):
        expected = np.asarray(expected, dtype=np.float64)
    slot = Slot(name, lab, np.asarray(expected), got, case, exercise, rtol, atol)
    return check_output(slot, entries)
