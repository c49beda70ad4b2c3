"""Lesson 04 (gradient checking): find the bugs in three broken backward functions.

The notebook shows three functions, A, B and C, each returning several gradients of which
exactly one is wrong. With their own ``numerical_gradient`` and ``relative_error`` the learner
finds which gradient is broken and what kind of bug it is, and answers with a small dict::

    {"A": ("dx", "missing transpose"), "B": (...), "C": (...)}

The answer is graded by a judge (not by comparing arrays); the expected answer is never shown.
"""

from __future__ import annotations

from ..cases import Case
from ..findings import Diagnosis, OutputCheck
from ..registry import register

LESSON = "04_gradient_checking"

#: The kinds of bug a learner chooses from (the notebook shows the same tuple).
BUGS = ("missing transpose", "wrong axis", "missing 1/N", "wrong sign")

#: For each broken function: the gradients it returns, and the answer.
FUNCTIONS = {
    "A": (("dx", "dW", "db"), ("dx", "missing transpose")),
    "B": (("dx", "dgamma", "dbeta"), ("dgamma", "wrong axis")),
    "C": (("dw", "db"), ("dw", "missing 1/N")),
}

_KIND_HINT = (
    "Look at numerical / analytic for the broken gradient: the same number everywhere means a missing "
    "factor (N: a missing 1/N; -1: a wrong sign); no constant ratio points at a transpose or an axis. "
    "A transposed matrix has values of the right size in the wrong places; a wrong axis mixes values "
    "across examples instead of within one (or the other way round)."
)


_HIDDEN = "(not shown: find it with your checker)"


def find_the_bugs():
    """The answer: for each broken function, (the wrong gradient, the kind of bug)."""
    return {name: answer for name, (_, answer) in FUNCTIONS.items()}


def _norm(text) -> str:
    return " ".join(str(text).lower().split())


def _judge(ctx):
    """One case per broken function: ok when its (gradient, bug) is right."""
    name = ctx.case.extra["function"]
    grads, (want_grad, want_bug) = FUNCTIONS[name]
    tag = f"answer_{name.lower()}"
    got = ctx.outcome.outputs
    if not isinstance(got, dict):
        what = "None (did you forget the `return` statement?)" if got is None else f"a {type(got).__name__}"
        msg = f'Your function returned {what}; it should return a dict {{"A": (gradient, bug), "B": ..., "C": ...}}.'
        return False, [Diagnosis("type", msg)], []
    entry = got.get(name)
    if not isinstance(entry, (tuple, list)) or len(entry) != 2:
        msg = f'{name}: expected a pair (gradient, bug) such as ("{grads[0]}", "{BUGS[0]}"), got {entry!r}.'
        return False, [Diagnosis(tag, msg)], [OutputCheck(name, False, _HIDDEN, repr(entry))]
    grad, bug = _norm(entry[0]), _norm(entry[1])
    problems = []
    if grad not in (g.lower() for g in grads):
        problems.append(f"{name} returns the gradients {', '.join(grads)}; {entry[0]!r} is not one of them.")
    elif grad != want_grad.lower():
        problems.append(
            f"{name}: {entry[0]} agrees with finite differences (its relative error is tiny); the broken "
            "gradient is the one whose relative error is large (about 1e-1 or more)."
        )
    if bug not in (_norm(b) for b in BUGS):
        problems.append(f"{name}: choose the bug from {BUGS}; {entry[1]!r} is not one of them.")
    elif grad == want_grad.lower() and bug != _norm(want_bug):
        problems.append(f"{name}: right gradient, but not a {entry[1]}. {_KIND_HINT}")
    diagnoses = [Diagnosis(tag, " ".join(problems))] if problems else []
    return not problems, diagnoses, [OutputCheck(name, not problems, _HIDDEN, repr(tuple(entry)))]


register(
    "gradcheck.find_the_bugs",
    lesson=LESSON,
    title="Find the bugs in three backward functions",
    reference=find_the_bugs,
    cases=lambda rng: [Case((), note=f"function {name}", extra={"function": name}) for name in FUNCTIONS],
    points=3,
    outputs=("answers",),
    judge=_judge,
    hints=(
        "For each function, compare every gradient it returns with numerical_gradient of the loss, "
        "using relative_error: the correct gradients give about 1e-8 or less, the broken one about 1e-1 or more.",
        "Then look at the ratio numerical / analytic of the broken gradient to tell the kind of bug.",
    ),
)
