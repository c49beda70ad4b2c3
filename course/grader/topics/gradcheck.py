"""``gradcheck.*`` (lesson 04): numerical gradients, the relative error, and finding the bugs.

The function f to differentiate is named in the case (a :class:`~course.grader.cases.FnRef`) and
built in the run phase, so the cases stay plain data.
"""

from __future__ import annotations

import numpy as np

from ...gradcheck import numerical_gradient, numerical_gradient_array, relative_error
from ..cases import Case, FnRef, randn, sizes
from ..compare.findings import Diagnosis, OutputCheck
from ..registry import Variant, register

LESSON = "04_gradient_checking"


def _one_sided(f, x, h=1e-5):
    grad = np.zeros_like(x)
    fx = f(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        grad[i] = (f(x) - fx) / h
        x[i] = old
    return grad


def _one_sided_array(f, x, dout, h=1e-5):
    return _one_sided(lambda z: float(np.sum(f(z) * dout)), x, h)


_ONE_SIDED = (
    "Your values match the one-sided difference (f(x + h) - f(x)) / h, which is only accurate to "
    "O(h); use the centred difference (f(x + h) - f(x - h)) / (2h), accurate to O(h^2)."
)
_FACTORS = {
    2.0: "did you divide by h instead of 2h? The centred difference spans 2h.",
    0.5: "did you divide by 4h (or by 2 twice)? The centred difference divides by 2h.",
}


def _ng_cases(rng):
    N, D = sizes(rng, 2, 2, 5)
    return [
        Case((FnRef("sum_squares"), randn(rng, D)), {"h": 1e-5}, note=f"f = sum(x**2), x of shape ({D},)"),
        Case((FnRef("sin_sum"), randn(rng, N, D)), {"h": 1e-5}, note=f"f = sum(sin(x) cos(2x)), x ({N}, {D})"),
        Case((FnRef("log_sum_exp"), randn(rng, 1)), {"h": 1e-5}, note="a single entry (shape (1,))"),
        Case((FnRef("quartic"), randn(rng, 3, 2)), {"h": 1e-4}, note="f = sum(x**4 - 3x**2 + x), h = 1e-4"),
    ]


register(
    "gradcheck.numerical_gradient",
    lesson=LESSON,
    title="Numerical gradient (centred differences)",
    reference=numerical_gradient,
    cases=_ng_cases,
    outputs=("grad",),
    arg_names=("f", "x"),
    tolerances={"float64": (1e-6, 1e-8)},
    variants=(Variant("one_sided", _one_sided, _ONE_SIDED),),
    factor_hints=_FACTORS,
    hints=(
        "For each index i: remember x[i], set x[i] = old + h and evaluate f, set x[i] = old - h and "
        "evaluate f, put x[i] = old back; grad[i] = (f_plus - f_minus) / (2 * h).",
        "np.ndindex(x.shape) walks over every index of an array of any shape.",
        "Restore x exactly: the caller's array must be unchanged afterwards.",
    ),
)


def _nga_cases(rng):
    N, D, M = sizes(rng, 3, 2, 5)
    A = randn(rng, D, M)
    return [
        Case((FnRef("tanh"), randn(rng, N, D), randn(rng, N, D)), {"h": 1e-5}, note=f"f = tanh(x), x ({N}, {D})"),
        Case((FnRef("matmul", (("A", A),)), randn(rng, N, D), randn(rng, N, M)), {"h": 1e-5},
             note=f"f = x @ A with A ({D}, {M}): the output has another shape"),
        Case((FnRef("square"), randn(rng, 1, D), randn(rng, 1, D)), {"h": 1e-5}, note="N = 1"),
    ]


register(
    "gradcheck.numerical_gradient_array",
    lesson=LESSON,
    title="Numerical gradient of an array-valued function",
    reference=numerical_gradient_array,
    cases=_nga_cases,
    outputs=("dx",),
    arg_names=("f", "x", "dout"),
    tolerances={"float64": (1e-6, 1e-8)},
    variants=(Variant("one_sided", _one_sided_array, _ONE_SIDED),),
    factor_hints=_FACTORS,
    hints=(
        "dx[i] = sum(dout * (f(x + h e_i) - f(x - h e_i))) / (2h): weight the change of every output "
        "by dout, then sum.",
    ),
)


def _re_cases(rng):
    N, D = sizes(rng, 2, 2, 6)
    a = randn(rng, N, D)
    return [
        Case((a, a + 1e-3 * randn(rng, N, D)), note="nearly equal arrays"),
        Case((randn(rng, N, D), randn(rng, N, D)), note="different arrays"),
        Case((np.zeros((2, 3)), np.zeros((2, 3))), note="both all zeros"),
        Case((randn(rng, 4, scale=1e4), randn(rng, 4, scale=1e4)), note="large values"),
        Case((np.array([1e-12, 0.0, 2.0]), np.array([0.0, 0.0, 2.0 + 1e-9])), note="tiny values next to 0"),
    ]


def _mean_error(a, b):
    return float(np.mean(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


register(
    "gradcheck.relative_error",
    lesson=LESSON,
    title="Relative error",
    reference=relative_error,
    cases=_re_cases,
    outputs=("error",),
    arg_names=("a", "b"),
    variants=(
        Variant("mean_not_max", _mean_error,
                "You averaged the elementwise errors; the course reports the largest one (max), so a single "
                "bad entry is not hidden."),
    ),
    hints=(
        "max over entries of |a - b| / max(1e-8, |a| + |b|).",
        "The 1e-8 floor keeps 0 / 0 from giving NaN when both entries are 0.",
    ),
)


# ---------------------------------------------------------------------------------------------
# Lesson 04 (gradient checking): find the bugs in three broken backward functions.
#
# The notebook shows three functions, A, B and C, each returning several gradients of which
# exactly one is wrong. With their own ``numerical_gradient`` and ``relative_error`` the learner
# finds which gradient is broken and what kind of bug it is, and answers with a small dict::
#
#     {"A": ("dx", "missing transpose"), "B": (...), "C": (...)}
#
# The answer is graded by a judge (not by comparing arrays); the expected answer is never shown.

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
