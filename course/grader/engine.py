"""Diagnoses that reason about the learner's function (compare phase, no learner code runs here).

:data:`ENGINE` is one ordered table: each entry says when it applies (the protocol's class name,
or ``None`` for any) and holds ``fn(ctx) -> (name, message) | None``. The entries look at the
plain data of the run phase: the case, the learner's outputs, the reference's outputs, and the
probes recorded beside them (``outcome.extra["probes"]``, :mod:`course.grader.probes`).

:func:`apply` runs the table on a failing case, then settles conflicts: a specific explanation
supersedes the generic findings it explains (:data:`SUPERSEDES`), and two diagnoses that say the
same thing are shown once.
"""

from __future__ import annotations

from .autograd_faults import diagnose_op
from .derivatives import diagnose_backward, diagnose_mutation
from .explain import explain_error, explain_nonfinite
from .faults import (
    diagnose_call_arguments,
    diagnose_formula,
    diagnose_schedule,
    diagnose_trajectory,
    variant_reproduces_probes,
)
from .structural import diagnose_structure

__all__ = ["ENGINE", "SUPERSEDES", "CONTRADICTIONS", "apply", "reconcile", "variant_possible"]


def _value_op(ctx):
    return diagnose_op(ctx.case, ctx.outcome.outputs)


def _backward_probes(ctx):
    from .probes import diagnose_value_probes

    return diagnose_value_probes(ctx)


#: (name, protocol class name or None, fn(ctx) -> (name, message) | None), tried in order;
#: every entry that fires adds one diagnosis.
ENGINE = (
    ("value_op", "ValueOp", _value_op),
    ("value_graph", "ValueBackward", _backward_probes),
    ("trajectory_fault", "Trajectory", diagnose_trajectory),
    ("schedule_fault", "Sweep", diagnose_schedule),
    ("structure", None, diagnose_structure),
    ("argument", "Call", diagnose_call_arguments),
    ("formula", "Call", diagnose_formula),
    ("backward", "Backward", diagnose_backward),
    ("mutation", "Call", diagnose_mutation),
    ("nonfinite", None, explain_nonfinite),
)

#: generic diagnoses that a specific one makes redundant (or would contradict)
GENERIC = {"factor", "sign", "region", "transposed"}
SUPERSEDES = {
    "value_op": GENERIC | {"ops_not_backward"},
    "value_graph": GENERIC,
    "trajectory_fault": GENERIC,
    "schedule_fault": GENERIC | {"one_step_ahead", "one_step_behind", "no_floor"},
    "structure": GENERIC,
    "argument": {"factor", "sign"},
    "formula": GENERIC,
    "backward": GENERIC,
}
#: a named diagnosis that already says what one of ours would say: ours is not added
ALREADY_SAID = {"set_not_add": {"accumulate"}, "call_order": {"root_grad", "backward_order", "visited_twice"}}


def _root_or_order(ctx, names):
    """All grads 0 fits both "no root grad" and "wrong order": the probe of root.grad decides."""
    root = (ctx.outcome.extra.get("probes") or {}).get("root_grad")
    if root is None:
        return set()
    return {"root_grad"} if abs(root - 1.0) < 1e-12 else {"backward_order"}


#: (diagnoses that may contradict each other, fn(ctx, names) -> the names to drop); an empty
#: set of names means "always ask"
CONTRADICTIONS = ((frozenset({"root_grad", "backward_order"}), _root_or_order),)


def variant_possible(ctx, variant) -> bool:
    """False when the probes already show that the learner's function is not this variant (a
    variant is then neither run on the case nor named: a match on one case alone can be chance,
    e.g. two paths that both turn NaN)."""
    if type(ctx.exercise.protocol).__name__ == "Trajectory":
        return variant_reproduces_probes(ctx, variant)
    return True


def apply(ctx, diags: list, ok: bool, Diagnosis) -> tuple[list, bool]:
    """Add the engine's diagnoses to a case's ``diags`` and settle conflicts; returns (diags, ok)."""
    if ctx.outcome.error is not None:
        msg = explain_error(ctx)
        if msg:
            diags = diags + [Diagnosis(msg[0], msg[1])]  # the raw exception stays: it is the fact
        return diags, ok
    if ok:
        return diags, ok
    kind = type(ctx.exercise.protocol).__name__
    names = {d.name for d in diags}
    for pair, settle in CONTRADICTIONS:
        if pair <= names:
            gone = settle(ctx, names)
            diags = [d for d in diags if d.name not in gone]
            names -= gone
    added = []
    variant_named = bool(names & {v.name for v in ctx.exercise.variants})
    for entry, protocol, fn in ENGINE:
        if protocol is not None and protocol != kind:
            continue
        if variant_named and entry != "nonfinite":  # a registered variant reproduced the numbers
            continue
        try:
            found = fn(ctx)
        except Exception:  # a diagnosis that cannot reason about odd outputs says nothing
            found = None
        if not found:
            continue
        name, message = found
        if ALREADY_SAID.get(name, set()) & names:
            continue
        added.append((entry, Diagnosis(name, message)))
    if not added:
        return diags, ok
    drop = set().union(*(SUPERSEDES.get(entry, set()) for entry, _ in added))
    kept = [d for d in diags if d.name not in drop]
    return kept + [d for _, d in added], False


#: findings that state a fact rather than explain it (never reconciled away)
FACTS = {"values", "trajectory", "shape", "nan", "type", "count", "exception", "mutated", "nondeterministic",
         "forward_backward", "not_attempted", "none", "dtype", "not_in_place", "state_names"}


def reconcile(results) -> None:
    """Across the cases of one check: an explanation that fits every failing case wins over one
    that fits only some of them, where both were offered on the same case."""
    failing = [r for r in results if not r.passed and r.error is None]
    if len(failing) < 2:
        return
    sets = [{d.name for d in r.diagnoses if d.fails} - FACTS for r in failing]
    everywhere = set.intersection(*sets) if sets else set()
    if not everywhere:
        return
    for r, names in zip(failing, sets):
        if names & everywhere:
            r.diagnoses = [d for d in r.diagnoses if d.name in everywhere or d.name in FACTS or not d.fails]
