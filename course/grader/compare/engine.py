"""The diagnosis engine: findings that reason about the learner's function (compare phase).

Its tests are entries of the one diagnosis table (:data:`course.grader.compare.diagnoses.TABLE`): each
function here takes the case's :class:`~course.grader.compare.findings.Context` and returns a
:class:`~course.grader.compare.findings.Diagnosis` or ``None``. They read plain data only: the learner's
outputs and probes (``ctx.outcome.extra["probes"]``, :mod:`course.grader.run.probes`), the reference's
outputs, probes and candidates (``ctx.reference.extra["candidates"]``,
:mod:`course.grader.models.candidates`), all computed in the run phase.

After the walk, :func:`settle` keeps what is said consistent on one case: a specific explanation
supersedes the generic findings it explains (:data:`SUPERSEDES`), two diagnoses that contradict
each other are never both shown (:data:`CONTRADICTIONS`), and NaN advice that names the operation
replaces the generic one. :func:`reconcile` does the same across the cases of one check: an
explanation that fits every failing case wins over one that fits only some.
"""

from __future__ import annotations

import re

from .faults.autograd import diagnose_value_op, diagnose_value_probes
from .faults.derivatives import diagnose_backward, diagnose_mutation
from .faults.explain import explain_error, explain_nonfinite
from .faults.structural import diagnose_structure
from .faults.terms import (
    diagnose_call_arguments,
    diagnose_formula,
    diagnose_probe_path,
    diagnose_schedule,
    diagnose_trajectory,
)
from .findings import Diagnosis

__all__ = ["SUPERSEDES", "CONTRADICTIONS", "FACTS", "settle", "reconcile", "explained_error", "finding"]


def _variant_named(ctx) -> bool:
    """Whether a registered variant matches this case (asked once per case, then remembered)."""
    from .case_checks import diag_variants

    known = getattr(ctx, "_variant_named", None)
    if known is None:
        known = bool(diag_variants(ctx))
        ctx._variant_named = known
    return known


def finding(fn, registered_first: bool = True):
    """A table test from ``fn(ctx) -> (name, message) | None``: only on a failing case, and (by
    default) only where no registered variant already reproduces the learner's numbers."""

    def test(ctx):
        if ctx.passed or ctx.outcome.outputs is None:
            return None
        if registered_first and _variant_named(ctx):
            return None
        try:
            found = fn(ctx)
        except Exception:  # a diagnosis that cannot reason about odd outputs says nothing
            return None
        return Diagnosis(*found) if found else None

    test.__name__ = getattr(fn, "__name__", "finding")
    test.__doc__ = fn.__doc__
    return test


def probe_path(ctx):
    """A trajectory that passed its case but not its probes: a failing finding (see
    :func:`course.grader.compare.faults.terms.diagnose_probe_path`)."""
    if not ctx.passed:
        return None
    try:
        found = diagnose_probe_path(ctx)
    except Exception:
        found = None
    return Diagnosis(*found) if found else None


def explained_error(ctx):
    """The learner's exception explained (shapes against the contract, or a known pattern)."""
    try:
        found = explain_error(ctx) if ctx.outcome.error is not None else None
    except Exception:  # odd (or forged) error data: the raw exception speaks for itself
        found = None
    return Diagnosis(*found) if found else None


# the tests, as the table uses them
value_op = finding(diagnose_value_op)
value_graph = finding(diagnose_value_probes)
trajectory_fault = finding(diagnose_trajectory)
schedule_fault = finding(diagnose_schedule)
structure = finding(diagnose_structure)
argument = finding(diagnose_call_arguments)
formula = finding(diagnose_formula)
backward = finding(diagnose_backward)
mutation = finding(diagnose_mutation, registered_first=False)
nonfinite = finding(explain_nonfinite, registered_first=False)

#: generic findings that a specific one makes redundant (or would contradict), by its name
_GENERIC = {"factor", "sign", "region", "transposed"}
SUPERSEDES = {
    **dict.fromkeys(("detached", "ignores_upstream", "adds_one", "set_not_add", "mul_swapped", "pow_power",
                     "pow_no_k", "sub_sign", "div_sign", "rsub_swapped", "rdiv_swapped", "exp_uses_input",
                     "log_uses_output", "log_times", "tanh_uses_input", "tanh_square", "tanh_no_square",
                     "sigmoid_uses_input", "sigmoid_no_one_minus", "relu_value", "relu_value_times",
                     "exp_no_exp", "e_power", "op_wrong", "call_order"), _GENERIC),
    **dict.fromkeys(("wrong_axis", "scaled_input", "complement", "label_entries", "sub_block", "formula",
                     "bias_power", "bias_state", "local_derivative", "not_linear_in_dout", "dout_spread"),
                    _GENERIC),
    **dict.fromkeys(("rounding", "base", "cosine_form", "unit"), _GENERIC | {"one_step_ahead", "one_step_behind"}),
    "schedule_span": _GENERIC,
    "argument_ignored": {"factor", "sign"},
}
#: a finding of ours that an existing one already says: ours is dropped
ALREADY_SAID = {"set_not_add": {"accumulate"}, "call_order": {"root_grad", "backward_order", "visited_twice"}}


def _root_or_order(ctx, names):
    """All grads 0 fits both "no root grad" and "wrong order": the probe of root.grad decides."""
    root = (ctx.outcome.extra.get("probes") or {}).get("root_grad")
    if root is None:
        return set()
    return {"root_grad"} if abs(root - 1.0) < 1e-12 else {"backward_order"}


#: (names that may contradict each other, fn(ctx, names) -> the names to drop)
CONTRADICTIONS = ((frozenset({"root_grad", "backward_order"}), _root_or_order),)


def settle(ctx, diags: list) -> list:
    """One case's diagnoses made consistent (see the module docstring)."""
    names = {d.name for d in diags}
    drop = set()
    for pair, decide in CONTRADICTIONS:
        if pair <= names:
            drop |= decide(ctx, names)
    for d in diags:
        drop |= SUPERSEDES.get(d.name, set()) if d.fails else set()
        if ALREADY_SAID.get(d.name, set()) & names:
            drop.add(d.name)
    kept = [d for d in diags if d.name not in drop]
    fp = ctx.outcome.extra.get("fp")
    fp = fp if isinstance(fp, dict) else {}
    if "nonfinite_op" in names and fp.get("op") != "exp":
        # the generic NaN advice (exp overflow, a division by zero) gives way where NumPy names
        # another operation (a log of 0, a square root of a negative, 0/0)
        kept = [Diagnosis(d.name, _first_sentence(d.message), d.fails) if d.name == "nan" else d for d in kept]
    return kept


def _first_sentence(text: str) -> str:
    head, sep, _ = text.partition("finite. ")
    return head + "finite." if sep else text


#: findings that state a fact rather than explain it (never reconciled away)
FACTS = {"values", "trajectory", "shape", "nan", "type", "count", "exception", "mutated", "nondeterministic",
         "forward_backward", "not_attempted", "none", "dtype", "not_in_place", "state_names"}


def _factor(message: str):
    m = re.search(r" is (\S+) times the expected one", message)
    return m.group(1) if m else None


def _drop_inconsistent_factors(results) -> None:
    """A factor that is not a whole number or 1/k, and differs from case to case, is no constant
    factor: it is not claimed."""
    seen = {_factor(d.message) for r in results for d in r.diagnoses if d.name == "factor"} - {None}
    odd = {f for f in seen if not (f.isdigit() or "/" in f)}
    if odd and len(seen) > 1:
        for r in results:
            r.diagnoses = [d for d in r.diagnoses if not (d.name == "factor" and _factor(d.message) in odd)]


def reconcile(results) -> None:
    """Across the cases of one check: a factor must be the same in every case (or a meaningful
    one), and an explanation that fits every failing case wins over one that fits only some of
    them, on the cases where both were offered."""
    _drop_inconsistent_factors(results)
    failing = [r for r in results if not r.passed and r.error is None]
    if len(failing) < 2:
        return
    sets = [{d.name for d in r.diagnoses if d.fails} - FACTS for r in failing]
    everywhere = set.intersection(*sets)
    if not everywhere:
        return
    for r, names in zip(failing, sets):
        if names & everywhere:
            r.diagnoses = [d for d in r.diagnoses if d.name in everywhere or d.name in FACTS or not d.fails]
