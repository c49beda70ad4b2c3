"""Normalisation (lesson 10): the running-statistics update, batch norm forward (train and eval)
and backward, layer norm forward and backward."""

from __future__ import annotations

import numpy as np

from ...layers import batchnorm_backward, batchnorm_forward, layernorm_backward, layernorm_forward
from ...layers.normalization import update_running_stats
from ..cases import Case, randn, sizes
from ..registry import Variant, register
from ..run.lesson_protocols import WithRunningStats
from ..run.runner import Backward

LESSON = "10_normalization"


def _bn_param(rng, D, mode, momentum=0.1):
    return {"mode": mode, "momentum": momentum, "eps": 1e-5,
            "running_mean": randn(rng, D, scale=0.5), "running_var": rng.uniform(0.5, 2.0, D)}


def _bn_cases(rng):
    N, D = sizes(rng, 2, 3, 7)
    x = lambda n, d, s=1.0: 3.0 + randn(rng, n, d, scale=2.0 * s)  # noqa: E731 - mean 3, std 2: not normalised
    g, b = rng.uniform(0.5, 2.0, D), randn(rng, D)
    return [
        Case((x(N, D), g, b, _bn_param(rng, D, "train")), note=f"train, N = {N}, D = {D}", N=N),
        Case((x(2, D), g, b, _bn_param(rng, D, "train", 0.3)), note="train, N = 2, momentum 0.3", N=2),
        Case((x(N, D), g, b, _bn_param(rng, D, "eval")), note="eval mode: running statistics", N=N),
        Case((x(N + 3, D, 10.0), g, b, _bn_param(rng, D, "train", 0.5)), note="train, large values, momentum 0.5",
             N=N + 3),
    ]


def _variant_forward(*, unbiased=True, reversed_momentum=False, eval_batch_stats=False, update=True, eps_used=True):
    def forward(x, gamma, beta, bn_param):
        mode, eps, m = bn_param.get("mode", "train"), bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.1)
        eps = eps if eps_used else 0.0
        if mode == "train" or eval_batch_stats:
            mean, var = x.mean(axis=0), x.var(axis=0)
            if mode == "train" and update:
                w = 1 - m if reversed_momentum else m
                N = x.shape[0]
                bn_param["running_mean"] = (1 - w) * bn_param["running_mean"] + w * mean
                batch_var = var * N / (N - 1) if unbiased else var
                bn_param["running_var"] = (1 - w) * bn_param["running_var"] + w * batch_var
        else:
            mean, var = bn_param["running_mean"], bn_param["running_var"]
        return gamma * (x - mean) / np.sqrt(var + eps) + beta, None

    return forward


def _running_cases(rng):
    N, D = sizes(rng, 2, 3, 7)
    return [
        Case((randn(rng, D), rng.uniform(0.5, 2, D), 2.0 + randn(rng, N, D, scale=3.0), 0.1),
             note=f"N = {N}, D = {D}, momentum 0.1", N=N),
        Case((np.zeros(D), np.ones(D), randn(rng, 2, D), 0.3), note="N = 2, fresh statistics (0 and 1), momentum 0.3",
             N=2),
        Case((randn(rng, D), np.ones(D), randn(rng, N, D), 1.0), note="momentum 1: only the new batch", N=N),
    ]


def _biased(running_mean, running_var, x, momentum):
    return ((1 - momentum) * running_mean + momentum * x.mean(axis=0),
            (1 - momentum) * running_var + momentum * x.var(axis=0))


def _reversed(running_mean, running_var, x, momentum):
    N = x.shape[0]
    return (momentum * running_mean + (1 - momentum) * x.mean(axis=0),
            momentum * running_var + (1 - momentum) * x.var(axis=0) * N / (N - 1))


_UNBIASED = ("The running variance uses the UNBIASED batch variance, var * N / (N - 1) (np.var(x, axis=0, "
             "ddof=1)), as PyTorch does; only the normalisation itself uses the biased one.")
_REVERSED = ("You weighted the running statistics the other way round. In PyTorch's convention momentum is "
             "the weight of the NEW batch: running = (1 - momentum) * running + momentum * batch (momentum "
             "= 0.1 keeps 90% of the old value).")

register(
    "normalization.running_stats",
    lesson=LESSON,
    title="Running statistics update",
    reference=update_running_stats,
    cases=_running_cases,
    outputs=("running_mean", "running_var"),
    arg_names=("running_mean", "running_var", "x", "momentum"),
    variants=(
        Variant("biased_running_var", _biased, _UNBIASED),
        Variant("momentum_reversed", _reversed, _REVERSED),
    ),
    hints=(
        "mean = x.mean(axis=0); var = x.var(axis=0, ddof=1) (unbiased, divide by N - 1).",
        "new = (1 - momentum) * old + momentum * batch, for both; return new arrays (do not change the inputs).",
    ),
)
register(
    "normalization.batchnorm_forward",
    lesson=LESSON,
    title="Batch norm forward (train and eval)",
    reference=batchnorm_forward,
    cases=_bn_cases,
    outputs=("out", "running_mean", "running_var"),
    arg_names=("x", "gamma", "beta", "bn_param"),
    protocol=WithRunningStats(),
    variants=(
        Variant("biased_running_var", _variant_forward(unbiased=False), _UNBIASED),
        Variant("momentum_reversed", _variant_forward(reversed_momentum=True), _REVERSED),
        Variant("eval_uses_batch_stats", _variant_forward(eval_batch_stats=True),
                "In eval mode you normalised with the batch's own mean and variance; eval mode uses the "
                "running statistics, so that a prediction does not depend on the other examples of the batch."),
        Variant("eps_missing", _variant_forward(eps_used=False),
                "You divided by sqrt(var) without eps: add bn_param['eps'] inside the square root, "
                "sqrt(var + eps), as PyTorch does (it also keeps a constant feature from dividing by 0)."),
        Variant("running_stats_not_updated", _variant_forward(update=False),
                "Your train mode does not update bn_param['running_mean'] and bn_param['running_var']; "
                "eval mode needs them. Update them in place in bn_param at every training step."),
    ),
    hints=(
        "Train: mean and biased var over axis 0, x_hat = (x - mean) / sqrt(var + eps), out = gamma * x_hat + beta, "
        "then update the running statistics in bn_param.",
        "Eval: the same with bn_param['running_mean'] and bn_param['running_var'], and nothing updated.",
    ),
)


def _bn_backward_cases(rng):
    N, D = sizes(rng, 2, 3, 7)
    out = []
    for n, mode, note in [(N, "train", f"train, N = {N}, D = {D}"), (2, "train", "train, N = 2"),
                          (N, "eval", "eval mode")]:
        x = 1.0 + randn(rng, n, D, scale=2.0)
        out.append(Case((x, rng.uniform(0.5, 2.0, D), randn(rng, D), _bn_param(rng, D, mode)), note=note, N=n,
                        extra={"dout": randn(rng, n, D)}))
    return out


def _bn_no_mean_terms(dout, cache):
    x_hat, gamma, inv_std, mode = cache
    return dout * gamma * inv_std, (dout * x_hat).sum(axis=0), dout.sum(axis=0)


def _bn_no_xhat_term(dout, cache):
    x_hat, gamma, inv_std, mode = cache
    dx_hat = dout * gamma
    dx = inv_std * (dx_hat - dx_hat.mean(axis=0)) if mode == "train" else dx_hat * inv_std
    return dx, (dout * x_hat).sum(axis=0), dout.sum(axis=0)


def _bn_train_formula_in_eval(dout, cache):
    x_hat, gamma, inv_std, _ = cache
    return batchnorm_backward(dout, (x_hat, gamma, inv_std, "train"))


register(
    "normalization.batchnorm_backward",
    lesson=LESSON,
    title="Batch norm backward",
    reference=batchnorm_backward,
    cases=_bn_backward_cases,
    outputs=("dx", "dgamma", "dbeta"),
    arg_names=("x", "gamma", "beta", "bn_param"),
    protocol=Backward(batchnorm_forward, wrt=(0, 1, 2)),
    variants=(
        Variant("missing_mean_terms", _bn_no_mean_terms,
                "Your dx treats the batch mean and variance as constants (dx = dout * gamma / std). In train "
                "mode they depend on every x of the batch: dx = inv_std / N * (N * dx_hat - sum(dx_hat) - "
                "x_hat * sum(dx_hat * x_hat)), sums over the batch."),
        Variant("missing_variance_term", _bn_no_xhat_term,
                "Your dx has the mean's term but not the variance's: subtract x_hat * mean(dx_hat * x_hat) "
                "(over the batch) as well."),
        Variant("train_formula_in_eval", _bn_train_formula_in_eval,
                "In eval mode the running statistics are constants: dx = dout * gamma * inv_std, without the "
                "mean terms of train mode."),
    ),
    hints=(
        "dbeta = dout.sum(axis=0); dgamma = (dout * x_hat).sum(axis=0); dx_hat = dout * gamma.",
        "Train: dx = inv_std / N * (N * dx_hat - dx_hat.sum(axis=0) - x_hat * (dx_hat * x_hat).sum(axis=0)). "
        "Eval: dx = dx_hat * inv_std.",
    ),
)


# ---------------------------------------------------------------------------------------------
# Layer norm


def _ln_cases(rng):
    N, D = sizes(rng, 2, 3, 7)
    g, b = rng.uniform(0.5, 2.0, D), randn(rng, D)
    return [
        Case((2.0 + randn(rng, N, D, scale=3.0), g, b), note=f"N = {N}, D = {D}", N=N),
        Case((randn(rng, 1, D), g, b), note="N = 1 (layer norm works for a single example)", N=1),
        Case((randn(rng, N, D, scale=50.0), g, b), {"eps": 1e-3}, note="large values, eps = 1e-3", N=N),
    ]


def _ln_over_batch(x, gamma, beta, eps=1e-5):
    return gamma * (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + eps) + beta, None


def _ln_unbiased(x, gamma, beta, eps=1e-5):
    m, v = x.mean(axis=1, keepdims=True), x.var(axis=1, ddof=1, keepdims=True)
    return gamma * (x - m) / np.sqrt(v + eps) + beta, None


def _ln_eps_outside(x, gamma, beta, eps=1e-5):
    m, v = x.mean(axis=1, keepdims=True), x.var(axis=1, keepdims=True)
    return gamma * (x - m) / (np.sqrt(v) + eps) + beta, None


register(
    "normalization.layernorm_forward",
    lesson=LESSON,
    title="Layer norm forward",
    reference=layernorm_forward,
    cases=_ln_cases,
    outputs=("out", None),
    arg_names=("x", "gamma", "beta"),
    variants=(
        Variant("over_the_batch", _ln_over_batch,
                "You normalised each feature over the batch (axis 0): that is batch norm. Layer norm "
                "normalises each example over its features: mean and var over axis 1, keepdims=True."),
        Variant("unbiased_var", _ln_unbiased,
                "You used the unbiased variance (ddof=1); layer norm divides by D: x.var(axis=1)."),
        Variant("eps_outside_sqrt", _ln_eps_outside,
                "eps goes inside the square root: (x - mean) / sqrt(var + eps)."),
    ),
    hints=(
        "mean = x.mean(axis=1, keepdims=True), var = x.var(axis=1, keepdims=True): (N, 1), one per example.",
        "out = gamma * (x - mean) / sqrt(var + eps) + beta; cache = (x_hat, gamma, inv_std) with inv_std (N, 1).",
    ),
)


def _ln_backward_cases(rng):
    return [Case(c.args, c.kwargs, c.note, c.N, c.fd, {"dout": randn(rng, *c.args[0].shape)}) for c in _ln_cases(rng)]


def _ln_batch_sums(dout, cache):
    x_hat, gamma, inv_std = cache
    N = x_hat.shape[0]
    dx_hat = dout * gamma
    dx = (inv_std / N) * (N * dx_hat - dx_hat.sum(axis=0) - x_hat * (dx_hat * x_hat).sum(axis=0))
    return dx, (dout * x_hat).sum(axis=0), dout.sum(axis=0)


def _ln_no_mean_terms(dout, cache):
    x_hat, gamma, inv_std = cache
    return dout * gamma * inv_std, (dout * x_hat).sum(axis=0), dout.sum(axis=0)


register(
    "normalization.layernorm_backward",
    lesson=LESSON,
    title="Layer norm backward",
    reference=layernorm_backward,
    cases=_ln_backward_cases,
    outputs=("dx", "dgamma", "dbeta"),
    arg_names=("x", "gamma", "beta"),
    protocol=Backward(layernorm_forward),
    variants=(
        Variant("batch_axis_sums", _ln_batch_sums,
                "Your dx sums over the batch (axis 0), as batch norm does; layer norm's statistics are per "
                "example, so the sums in dx go over the features: axis=1, keepdims=True, and D replaces N."),
        Variant("missing_mean_terms", _ln_no_mean_terms,
                "Your dx treats each row's mean and variance as constants; they depend on every feature of "
                "the row: dx = inv_std / D * (D * dx_hat - sum(dx_hat) - x_hat * sum(dx_hat * x_hat)), "
                "sums over axis 1."),
    ),
    hints=(
        "The batch-norm formula with the sums over axis 1 (keepdims=True) and D instead of N; dgamma and "
        "dbeta still sum over the batch (axis 0).",
    ),
)
