"""Lesson 15 (second-order methods): a Newton step, a Hessian-vector product, L-BFGS's two-loop
recursion and Armijo backtracking.

The last two exercises take a function as their first argument (``grad`` or ``f``). Cases stay
plain data: they name the function in ``extra["function"]``, and the :class:`WithFunction`
protocol builds it in the run phase from :data:`OBJECTIVES`.
"""

from __future__ import annotations

import numpy as np

from ...functions import rosenbrock
from ...optim import newton_step
from ...quasi_newton import armijo, hessian_vector_product, two_loop
from ..cases import Case, randn
from ..compare.core import Diagnosis
from ..registry import Variant, register
from ..run.lesson_protocols import OBJECTIVES, WithFunction

LESSON = "15_second_order"

# ---------------------------------------------------------------------------------------------
# Newton step


def _spd(rng, D):
    A = randn(rng, D, D)
    return A @ A.T + 0.5 * np.eye(D)


def _newton_cases(rng):
    w2 = np.array([-1.2, 1.0]) + rng.uniform(-0.1, 0.1, 2)
    indefinite = np.diag([2.0, -1.0, 3.0])
    Q = np.linalg.qr(randn(rng, 3, 3))[0]
    return [
        Case((w2, rosenbrock.grad(w2), rosenbrock.hessian(w2)), note="Rosenbrock near (-1.2, 1)"),
        Case((randn(rng, 4), randn(rng, 4), _spd(rng, 4)), note="4-D, positive definite, not diagonal"),
        Case((randn(rng, 3), randn(rng, 3), Q @ indefinite @ Q.T), note="3-D, indefinite (a saddle)"),
        Case((np.array([2.0, -1.0]), np.array([4.0, -10.0]), np.diag([2.0, 10.0])), note="the bowl diag(2, 10)"),
    ]


register(
    "second_order.newton_step",
    lesson=LESSON,
    title="A Newton step",
    reference=newton_step,
    cases=_newton_cases,
    arg_names=("w", "grad", "hessian"),
    variants=(
        Variant("newton_plus", lambda w, g, H: w + np.linalg.solve(H, g),
                "You moved by +H^{-1} g: the Newton step goes the other way, w_new = w - H^{-1} g."),
        Variant("hessian_times_gradient", lambda w, g, H: w - H @ g,
                "You multiplied the gradient by the Hessian; Newton divides by it: solve H d = g "
                "(np.linalg.solve(hessian, grad)) and return w - d."),
        Variant("diagonal_only", lambda w, g, H: w - g / np.diag(H),
                "You divided the gradient by the diagonal of the Hessian, which ignores its off-diagonal "
                "entries: solve the full system H d = g with np.linalg.solve."),
        Variant("gradient_step", lambda w, g, H: w - g,
                "You took a gradient step w - g; Newton's step is w - H^{-1} g."),
    ),
    hints=(
        "d = np.linalg.solve(hessian, grad) solves H d = g; return w - d (a new array).",
        "Do not invert H with np.linalg.inv: solving is cheaper and more accurate.",
    ),
)


# ---------------------------------------------------------------------------------------------
# Hessian-vector product


def _hvp_cases(rng):
    return [
        Case((np.array([0.3, 0.2]) + rng.uniform(-0.1, 0.1, 2), randn(rng, 2, scale=2.0)), {"eps": 1e-5},
             note="Rosenbrock, |v| != 1", extra={"function": "rosenbrock"}),
        Case((np.array([1.0, 0.8]) + rng.uniform(-0.1, 0.1, 2), randn(rng, 2, scale=3.0)), {"eps": 1e-4},
             note="Beale, eps = 1e-4", extra={"function": "beale"}),
        Case((randn(rng, 5), randn(rng, 5, scale=1.5)), {"eps": 1e-4}, note="5-D logistic loss",
             extra={"function": "logistic5"}),
    ]


def _fd_forward(grad, w, v, eps=1e-5):
    return (np.asarray(grad(w + eps * v)) - np.asarray(grad(w))) / eps


def _fd_no_half(grad, w, v, eps=1e-5):
    return (np.asarray(grad(w + eps * v)) - np.asarray(grad(w - eps * v))) / eps


def _unit_v(grad, w, v, eps=1e-5):
    return hessian_vector_product(grad, w, v / np.linalg.norm(v), eps)


register(
    "second_order.hessian_vector_product",
    lesson=LESSON,
    title="A Hessian-vector product from two gradients",
    reference=hessian_vector_product,
    cases=_hvp_cases,
    arg_names=("grad", "w", "v"),
    protocol=WithFunction("grad"),
    variants=(
        Variant("forward_difference", _fd_forward,
                "You used a one-sided difference (grad(w + eps v) - grad(w)) / eps, accurate to O(eps) "
                "only: use the central difference (grad(w + eps v) - grad(w - eps v)) / (2 eps)."),
        Variant("missing_half", _fd_no_half,
                "Your product is twice the expected one: the two points are 2 eps apart, so divide "
                "by 2 * eps."),
        Variant("normalised_v", _unit_v,
                "You normalised v to length 1, but H v scales with v: perturb along v itself."),
    ),
    hints=(
        "H v is the derivative of the gradient along v: (grad(w + eps * v) - grad(w - eps * v)) / (2 * eps).",
        "Two gradient calls, whatever the dimension; never build H.",
    ),
)


# ---------------------------------------------------------------------------------------------
# The two-loop recursion


def _pairs(rng, D, m):
    A = _spd(rng, D)
    S = randn(rng, m, D)
    Y = S @ A + 0.05 * randn(rng, m, D)
    keep = np.einsum("ij,ij->i", S, Y) > 0
    return S[keep][:m], Y[keep][:m]


def _two_loop_cases(rng):
    out = []
    for D, m, note in ((5, 3, "D = 5, m = 3 pairs"), (4, 5, "D = 4, m = 5 pairs"), (3, 1, "one pair")):
        S, Y = _pairs(rng, D, m)
        out.append(Case((randn(rng, D), S, Y), note=note))
    return out


def _two_loop_variant(rho="right", order="right", gamma="newest", alpha="right", sign=1.0, update_q=True):
    def variant(g, S, Y):
        m = len(S)
        sy = np.einsum("ij,ij->i", S, Y)
        r_ = sy if rho == "not_inverted" else 1.0 / sy
        first = range(m) if order == "swapped" else reversed(range(m))
        second = reversed(range(m)) if order == "swapped" else range(m)
        q, a, seen = g.copy(), np.zeros(m), []
        for i in first:
            a[i] = r_[i] * (S[i] @ q)
            q = q - a[i] * Y[i] if update_q else q
            seen.append(a[i])
        j = -1 if gamma == "newest" else 0
        r = (S[j] @ Y[j]) / (Y[j] @ Y[j]) * q if gamma != "none" else q.copy()
        for n, i in enumerate(second):
            ai = seen[n] if alpha == "in_order_seen" else a[i]
            r = r + (ai - r_[i] * (Y[i] @ r)) * S[i]
        return sign * r

    return variant


register(
    "second_order.two_loop",
    lesson=LESSON,
    title="L-BFGS's two-loop recursion",
    reference=two_loop,
    cases=_two_loop_cases,
    arg_names=("g", "S", "Y"),
    variants=(
        Variant("rho_not_inverted", _two_loop_variant(rho="not_inverted"),
                "Your rho is y.s; it is its inverse, rho_i = 1 / (y_i . s_i)."),
        Variant("loop_order", _two_loop_variant(order="swapped"),
                "Your loops run the wrong way: the first goes from the NEWEST pair to the oldest "
                "(rows m-1 down to 0), the second from the oldest to the newest."),
        Variant("alpha_order", _two_loop_variant(alpha="in_order_seen"),
                "Your second loop pairs each s_i with the wrong a: the a values were computed newest "
                "first, so in the second loop (oldest first) use a[i] of the same pair i, not the "
                "list in the order it was filled."),
        Variant("no_initial_scaling", _two_loop_variant(gamma="none"),
                "You started from H0 = I; L-BFGS scales it, H0 = gamma I with gamma = s.y / y.y of "
                "the newest pair (S[-1], Y[-1])."),
        Variant("gamma_from_oldest", _two_loop_variant(gamma="oldest"),
                "Your gamma uses the oldest pair; take it from the newest one, S[-1] and Y[-1]."),
        Variant("q_not_updated", _two_loop_variant(update_q=False),
                "Your first loop never updates q: after a_i = rho_i s_i.q, subtract q = q - a_i y_i, "
                "so the next (older) pair sees the updated q."),
        Variant("returned_direction", _two_loop_variant(sign=-1.0),
                "You returned -H g, the search direction; the function returns r = H g (the caller "
                "steps along p = -r)."),
    ),
    hints=(
        "rho = 1 / np.sum(S * Y, axis=1); first loop for i in reversed(range(m)), keep a[i].",
        "r = gamma * q with gamma = S[-1] @ Y[-1] / (Y[-1] @ Y[-1]); then for i in range(m): "
        "b = rho[i] * Y[i] @ r; r += (a[i] - b) * S[i].",
    ),
)


# ---------------------------------------------------------------------------------------------
# Armijo backtracking


def _armijo_cases(rng):
    out = []
    # (the settings keep each variant's t at least two backtracking steps from the right one)
    specs = (("rosenbrock", np.array([-1.2, 1.0]), 0.3, 0.8, (0.05, 0.2), "Rosenbrock, c = 0.3, beta = 0.8"),
             ("beale", np.array([1.0, 1.5]), 0.45, 0.7, (0.05, 0.2), "Beale, c = 0.45, beta = 0.7"),
             ("logistic5", None, 0.3, 0.8, (0.3, 0.6), "5-D logistic loss, c = 0.3, beta = 0.8"))
    for name, w, c, beta, shrink, note in specs:
        obj = OBJECTIVES[name]
        w = (randn(rng, 5) if w is None else w + rng.uniform(-0.05, 0.05, 2))
        g = np.asarray(obj.grad(w))
        p = -g * rng.uniform(*shrink, g.shape)  # a descent direction, not along -g
        t0 = 4.0 / np.linalg.norm(p) if name != "logistic5" else 20.0
        out.append(Case((w, g, p), {"t0": float(t0), "c": c, "beta": beta}, note=note, extra={"function": name}))
    return out


def _armijo_variant(test):
    def variant(f, w, g, p, t0=1.0, c=1e-4, beta=0.5, max_steps=50):
        f0, t = f(w), t0
        for _ in range(max_steps):
            if test(f(w + t * p), f0, c, t, g, p):
                break
            t *= beta
        return t

    return variant


def _one_step_off(ctx):
    """The learner's t is the right one times beta or divided by it: the loop's order is off."""
    got, want, beta = ctx.outcome.outputs, ctx.reference.outputs, ctx.case.kwargs["beta"]
    if ctx.passed or not isinstance(got, (float, int, np.floating)) or not want:
        return None
    for ratio, text in ((beta, "one reduction too many"), (1 / beta, "one reduction too few")):
        if abs(got - want * ratio) <= 1e-9 * abs(want):
            return Diagnosis("one_step_off", f"Your t is {text} (expected {want:.6g}, got {got:.6g}): test "
                             "the condition for the current t first, shrink only when it fails, and return the "
                             "t that passed.")
    return None


register(
    "second_order.armijo",
    lesson=LESSON,
    title="Armijo backtracking line search",
    reference=armijo,
    cases=_armijo_cases,
    outputs=("t",),
    arg_names=("f", "w", "g", "p"),
    protocol=WithFunction("value"),
    diagnoses=(_one_step_off,),
    variants=(
        Variant("armijo_sign", _armijo_variant(lambda f1, f0, c, t, g, p: f1 <= f0 - c * t * (g @ p)),
                "Your condition accepts steps that increase f: g.p is negative along a descent "
                "direction, so the test is f(w + t p) <= f(w) + c t g.p (plus, not minus)."),
        Variant("simple_decrease", _armijo_variant(lambda f1, f0, c, t, g, p: f1 < f0),
                "You accept any decrease f(w + t p) < f(w); Armijo asks for a sufficient one: "
                "f(w + t p) <= f(w) + c t g.p."),
        Variant("slope_from_gradient_norm", _armijo_variant(lambda f1, f0, c, t, g, p: f1 <= f0 - c * t * (g @ g)),
                "Your decrease term uses g.g, as if p were -g; use the slope along p, g.p."),
    ),
    hints=(
        "t = t0; while f(w + t * p) > f(w) + c * t * (g @ p) (at most max_steps times): t *= beta.",
        "Compute f(w) once, before the loop.",
    ),
)
