"""Training on a lot of data (lesson 12): global-norm clipping, gradient accumulation, a prefetching
iterator (run against a source that records which thread pulls its items), and an Adam step that
must allocate nothing per call (measured with ``tracemalloc``)."""

from __future__ import annotations

import numpy as np

from ...data_scale import accumulated_step, adam_inplace, clip_global_norm, lsq_grad, prefetch
from ..cases import Case, randn
from ..compare.findings import Diagnosis
from ..compare.trajectory_checks import judge_trajectory
from ..registry import Variant, register
from ..run.lesson_protocols import ALLOC_SIZE, AllocatingTrajectory, PrefetchRun, RecordError
from ._trajectories import _case, _fresh_state, _lookup
from .optim_adaptive import _adam_eps_inside, _adam_variant

LESSON = "12_big_data"


# ---------------------------------------------------------------------------------------------
# global-norm clipping


def _grads(rng, scales):
    shapes = {"W1": (3, 4), "b1": (4,), "W2": (4, 2), "b2": (2,)}
    return {k: randn(rng, *s, scale=c) for (k, s), c in zip(shapes.items(), scales)}


def _clip_cases(rng):
    return [
        Case((_grads(rng, (2.0, 2.0, 2.0, 2.0)), 1.0), note="global norm above max_norm"),
        Case((_grads(rng, (0.05, 0.05, 0.05, 0.05)), 5.0), note="global norm below max_norm: unchanged"),
        Case((_grads(rng, (30.0, 0.1, 0.5, 0.1)), 2.0), note="one exploding parameter (W1)"),
        Case(({"w": randn(rng, 5, scale=4.0)}, 0.5), note="a single parameter"),
    ]


def _per_parameter(grads, max_norm):
    out = {}
    for k, g in grads.items():
        out[k], _ = clip_global_norm({k: g}, max_norm)
        out[k] = out[k][k]
    return out, clip_global_norm(grads, max_norm)[1]


def _by_value(grads, max_norm):
    return {k: np.clip(g, -max_norm, max_norm) for k, g in grads.items()}, clip_global_norm(grads, max_norm)[1]


def _always(grads, max_norm):
    _, total = clip_global_norm(grads, max_norm)
    return {k: g * max_norm / (total + 1e-6) for k, g in grads.items()}, total


def _squared(grads, max_norm):
    total = float(sum(np.sum(g * g) for g in grads.values()))
    coef = max_norm / (total + 1e-6)
    return {k: g * min(coef, 1.0) for k, g in grads.items()}, total


register(
    "data_scale.clip_global_norm",
    lesson=LESSON,
    title="Clip a dict of gradients by their global norm",
    reference=clip_global_norm,
    cases=_clip_cases,
    outputs=("clipped", "total_norm"),
    arg_names=("grads", "max_norm"),
    variants=(
        Variant("per_parameter_norm", _per_parameter,
                "You clipped each parameter by its own norm: one exploding parameter then no longer shrinks the "
                "others, and the direction of the whole gradient changes. Use one norm over all arrays."),
        Variant("clip_by_value", _by_value,
                "You clipped each entry into [-max_norm, max_norm] (clipping by value); clip by norm rescales "
                "every array by the same factor max_norm / total_norm."),
        Variant("always_rescaled", _always,
                "You rescaled even when the global norm was below max_norm: only clip when total_norm > max_norm."),
        Variant("squared_norm", _squared,
                "Your total_norm is the sum of squares: take its square root."),
    ),
    hints=("total = np.sqrt(sum(np.sum(g * g) for g in grads.values())); coef = max_norm / (total + 1e-6); "
           "if coef < 1 multiply every array by coef (new arrays). Return (clipped, total).",),
)


# ---------------------------------------------------------------------------------------------
# gradient accumulation


def _accum_cases(rng):
    out = []
    for sizes, D, note in [((4, 4, 4), 3, "3 equal micro-batches of 4"), ((5, 2, 7), 2, "micro-batches of 5, 2 and 7"),
                           ((1, 6), 4, "a micro-batch of one row"), ((6,), 3, "a single micro-batch")]:
        micro = [(randn(rng, n, D), randn(rng, n)) for n in sizes]
        out.append(Case((randn(rng, D), micro, 0.1), note=note))
    return out


def _no_divide_by_k(w, micro_batches, lr):
    return w - lr * sum(lsq_grad(w, X, y) for X, y in micro_batches)


def _unweighted(w, micro_batches, lr):
    return w - lr * sum(lsq_grad(w, X, y) for X, y in micro_batches) / len(micro_batches)


def _step_each(w, micro_batches, lr):
    for X, y in micro_batches:
        w = w - lr * lsq_grad(w, X, y)
    return w


def _sum_loss(w, micro_batches, lr):
    return w - lr * sum(X.T @ (X @ w - y) for X, y in micro_batches)


register(
    "data_scale.accumulated_step",
    lesson=LESSON,
    title="An SGD step accumulated over micro-batches",
    reference=accumulated_step,
    cases=_accum_cases,
    outputs=("w",),
    arg_names=("w", "micro_batches", "lr"),
    variants=(
        Variant("forgot_divide_by_k", _no_divide_by_k,
                "You added the k micro-batch mean gradients without dividing: the step is k times too large."),
        Variant("unweighted_mean", _unweighted,
                "You averaged the micro-batch means with equal weights: exact only when every micro-batch has "
                "the same size. Weight each mean by its number of rows and divide by the total."),
        Variant("step_per_micro_batch", _step_each,
                "You took a step after every micro-batch: accumulate the gradients, all at the same w, and take "
                "ONE step at the end."),
        Variant("sum_reduction", _sum_loss,
                "You used the gradient of the summed loss; the loss is a mean over all rows: divide by their number."),
    ),
    hints=("total = sum over micro-batches of len(X) * (X.T @ (X @ w - y) / len(X)); n = total rows; "
           "return w - lr * total / n.",),
)


# ---------------------------------------------------------------------------------------------
# a prefetching iterator


def _prefetch_cases(rng):
    ints = [int(v) for v in rng.integers(1, 50, 8)]
    ints[3] = 0
    return [
        Case(kwargs={"depth": 2}, note="8 numbers, one of them 0, depth 2", extra={"items": ints}),
        Case(kwargs={"depth": 1}, note="arrays, depth 1", extra={"items": [randn(rng, 3) for _ in range(5)]}),
        Case(kwargs={"depth": 3}, note="the source fails at its 4th item", extra={"items": list(range(1, 7)),
                                                                                 "fail_at": 3}),
        Case(kwargs={"depth": 2}, note="an empty source", extra={"items": []}),
    ]


def _no_thread(iterable, depth=2):
    yield from iterable


def _exception_lost(iterable, depth=2):
    def safe():
        try:
            yield from iterable
        except RecordError:
            return

    yield from prefetch(safe(), depth)


def _stops_at_falsy(iterable, depth=2):
    for item in prefetch(iterable, depth):
        if np.ndim(item) == 0 and not item:
            return
        yield item


register(
    "data_scale.prefetch",
    lesson=LESSON,
    title="A prefetching iterator (background thread)",
    reference=prefetch,
    cases=_prefetch_cases,
    outputs=("items", "background", "error_raised"),
    protocol=PrefetchRun(),
    variants=(
        Variant("no_background_thread", _no_thread,
                "Your items came from the consumer's own thread: nothing is prepared ahead. Start a "
                "threading.Thread that pulls from the iterable and puts the items on a queue.Queue(maxsize=depth)."),
        Variant("exception_lost", _exception_lost,
                "When the source raised, your iterator just stopped: a corrupt record would go unnoticed. Catch "
                "the exception in the thread, put it on the queue, and raise it again in the consumer."),
        Variant("stops_at_falsy_item", _stops_at_falsy,
                "Your iterator stopped at an item equal to 0: use a unique end marker (e.g. a fresh object(), "
                "compared with `is`), never the truth value of an item."),
    ),
    hints=(
        "q = queue.Queue(maxsize=depth); a thread runs: for item in iterable: q.put(item); then q.put(DONE).",
        "The consumer: while True: item = q.get(); if item is DONE: return; yield item.",
        "In the thread, catch any exception and put it on the queue; the consumer raises it when it arrives.",
    ),
)


# ---------------------------------------------------------------------------------------------
# Adam that allocates nothing per call


def _allocation_verdict(ctx):
    """``judge=``: the path compared step by step, then the allocation measured in the run phase."""
    ok, diags, checks = judge_trajectory(ctx)
    peak = ctx.outcome.extra.get("peak_bytes")
    limit = ALLOC_SIZE * 8 // 4
    if ok and isinstance(peak, (int, float)) and peak > limit:
        diags = [*diags, Diagnosis(
            "allocates",
            f"Your steps are right, but each call allocated up to {peak / 1e3:.0f} kB of new arrays for a "
            f"parameter of {ALLOC_SIZE * 8 / 1e3:.0f} kB: expressions like m * beta1 + ... make temporaries. "
            "Update in place (m *= beta1; m += ...) and write intermediate results into a buffer kept in "
            "state (np.multiply(g, g, out=buf), np.sqrt(v, out=buf)).")]
        return False, diags, checks
    return ok, diags, checks


def _inplace_cases(rng):
    return [
        _case(rng, "quadratic", (-4.0, 2.0), "quadratic, lr = 0.1", lr=0.1, betas=(0.9, 0.999), eps=1e-8),
        _case(rng, "rosenbrock", (-1.2, 1.0), "rosenbrock, lr = 0.01", lr=0.01, betas=(0.9, 0.999), eps=1e-8),
        _case(rng, "bowl5", (1.0, -2.0, 1.5, 0.5, -0.3), "5-D bowl, eps = 0.1", lr=0.05, betas=(0.8, 0.99),
              eps=0.1),
    ]


register(
    "data_scale.adam_inplace",
    lesson=LESSON,
    title="An Adam step that allocates nothing per call",
    reference=adam_inplace,
    cases=_inplace_cases,
    outputs=("path",),
    protocol=AllocatingTrajectory(_lookup),
    judge=_allocation_verdict,
    variants=(
        Variant("no_bias_correction", _adam_variant(bias_correction=False),
                "Your steps match Adam without bias correction: divide m by (1 - beta1**t) and v by (1 - beta2**t)."),
        Variant("eps_inside_sqrt", _adam_eps_inside(False),
                "You put eps inside the square root: sqrt(v_hat + eps); it goes after: sqrt(v_hat) + eps."),
        Variant("state_not_updated", _fresh_state(_adam_variant()),
                "Your optimizer forgets its state between steps: keep m, v and the step count in the state dict."),
    ),
    hints=(
        "On the first call create state['exp_avg'], state['exp_avg_sq'] and a work buffer with np.zeros_like / "
        "np.empty_like(w).",
        "m *= beta1; np.multiply(g, 1 - beta1, out=buf); m += buf; the same for v with g * g.",
        "np.sqrt(v, out=buf); buf /= sqrt(1 - beta2**t); buf += eps; np.divide(m, buf, out=buf); "
        "buf *= lr / (1 - beta1**t); w -= buf.",
    ),
)

__all__ = ["RecordError", "PrefetchRun", "AllocatingTrajectory"]
