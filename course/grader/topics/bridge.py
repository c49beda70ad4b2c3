"""From your pieces to PyTorch (lesson 20, the ``[torch]`` extra): the capstone's network as an
``nn.Module`` on the same weights, its gradients back in the course's layout, and one training
step with ``torch.optim`` and ``clip_grad_norm_``. The protocols
(:mod:`course.grader.run.torch_protocols`) import PyTorch only when a case runs; without it a check
says which extra it needs. The reference module is checked against the NumPy capstone network in
``tests/test_bridge.py`` (forward, gradients, running statistics).
"""

from __future__ import annotations

import numpy as np

from ...bridge import grads_to_numpy, to_torch_module, train_step
from ..cases import Case, randn
from ..compare.findings import Diagnosis
from ..registry import Variant, register
from ..run.torch_protocols import GradsRun, ModuleRun, StepRun

LESSON = "20_pytorch_bridge"


def _params(rng, D, H, C):
    return {"W1": randn(rng, D, H) * np.sqrt(2 / D), "b1": randn(rng, H, scale=0.1),
            "gamma1": rng.uniform(0.5, 1.5, H), "beta1": randn(rng, H, scale=0.2),
            "W2": randn(rng, H, C) * np.sqrt(2 / H), "b2": randn(rng, C, scale=0.1)}


def _bn(rng, H):
    return {"running_mean": randn(rng, H, scale=0.3), "running_var": rng.uniform(0.5, 2.0, H),
            "eps": 1e-5, "momentum": 0.1}


def _module_cases(rng):
    def case(D, H, C, N, bn, dropout, note):
        extra = {"X": randn(rng, N, D), "y": rng.integers(0, C, N), "seed": int(rng.integers(0, 2**31))}
        return Case((_params(rng, D, H, C), bn(H), dropout), extra=extra, note=note)

    return [
        case(12, 7, 4, 9, lambda H: _bn(rng, H), 0.0, "12 -> 7 -> 4, running statistics given, no dropout"),
        case(10, 6, 3, 8, lambda H: _bn(rng, H), 0.3, "dropout 0.3 (the same seeded masks)"),
        case(64, 32, 10, 16, lambda H: {}, 0.0, "a fresh network: no running statistics yet (0 and 1)"),
    ]


def _no_running_stats(params, bn, dropout=0.2):
    return to_torch_module(params, {k: v for k, v in bn.items() if not k.startswith("running")}, dropout)


def _keep_probability(params, bn, dropout=0.2):
    return to_torch_module(params, bn, 1.0 - dropout)


def _momentum_kept(params, bn, dropout=0.2):
    return to_torch_module(params, {**bn, "momentum": 0.9}, dropout)


def _eval_only(ctx):
    """Training mode agrees and eval mode does not: what eval mode adds is the running statistics."""
    failing = set(ctx.failing)
    if "eval_scores" in failing and not failing & {"train_scores", "grads"}:
        return Diagnosis("eval_mode_statistics", (
            "Your training-mode scores and gradients are right, but your eval-mode scores are not: eval mode "
            "normalises with the BatchNorm1d's running_mean and running_var buffers, so look at what you put "
            "there (bn['running_mean'] and bn['running_var'] as they are: a variance, not a standard deviation)."))
    return None


register(
    "bridge.to_torch_module", lesson=LESSON, title="The capstone network as an nn.Module",
    reference=to_torch_module, cases=_module_cases,
    outputs=("eval_scores", "train_scores", "grads", "running_mean", "running_var"),
    arg_names=("params", "bn", "dropout"), protocol=ModuleRun(), diagnoses=(_eval_only,),
    variants=(
        Variant("running_stats_not_copied", _no_running_stats,
                "Your eval-mode scores differ while the training-mode ones agree: copy bn['running_mean'] and "
                "bn['running_var'] into the BatchNorm1d's running_mean and running_var buffers (eval mode "
                "normalises with them)."),
        Variant("keep_probability", _keep_probability,
                "Your nn.Dropout drops with probability 1 - dropout: its p is the DROP probability, as in the "
                "course."),
        Variant("momentum_kept", _momentum_kept,
                "Your batch norm's running statistics moved with momentum 0.9: PyTorch's momentum is the weight "
                "of the NEW batch (0.1), the course's convention too (lesson 10)."),
    ),
    hints=("nn.Sequential(nn.Linear(D, H), nn.BatchNorm1d(H), nn.ReLU(), nn.Dropout(dropout), "
           "nn.Linear(H, C)).double()",
           "Under torch.no_grad(): model[0].weight.copy_(torch.tensor(params['W1'].T)) - PyTorch's weight is "
           "(out, in), the transpose of the course's W.",
           "Copy the running statistics into model[1].running_mean / running_var when bn has them."),
)


def _grads_cases(rng):
    def case(D, H, C, N, note):
        return Case(extra={"X": randn(rng, N, D), "y": rng.integers(0, C, N), "seed": int(rng.integers(0, 2**31)),
                           "hidden": H, "classes": C}, note=note)

    return [case(9, 5, 3, 7, "9 -> 5 -> 3"), case(6, 6, 6, 5, "6 -> 6 -> 6: square weights"),
            case(64, 16, 10, 12, "the capstone's 64 inputs and 10 classes")]


def _not_transposed(model):
    g = grads_to_numpy(model)
    return {k: (v.T.copy() if v.ndim == 2 else v) for k, v in g.items()}


def _weights_not_grads(model):
    lin1, norm, _, _, lin2 = model
    data = [lin1.weight.T, lin1.bias, norm.weight, norm.bias, lin2.weight.T, lin2.bias]
    return {k: t.detach().numpy().copy() for k, t in zip(("W1", "b1", "gamma1", "beta1", "W2", "b2"), data)}


register(
    "bridge.grads_to_numpy", lesson=LESSON, title="PyTorch's gradients in the course's layout",
    reference=grads_to_numpy, cases=_grads_cases, outputs=("grads",), arg_names=("model",),
    protocol=GradsRun(),
    variants=(
        Variant("not_transposed", _not_transposed,
                "Your W1 and W2 are in PyTorch's layout (out, in): transpose them back to the course's (in, out)."),
        Variant("weights_not_grads", _weights_not_grads,
                "You returned the weights themselves: the gradient of a parameter p is p.grad."),
    ),
    hints=("model[0], model[1], model[4] are the Linear, BatchNorm1d and Linear layers.",
           "p.grad.detach().numpy().T.copy() for a Linear weight; without .T for biases, gamma and beta."),
)


def _step_cases(rng):
    def case(optimizer, max_norm, note, D=10, H=6, C=3):
        batches = [(randn(rng, 8, D), rng.integers(0, C, 8)) for _ in range(3)]
        return Case(kwargs={"max_norm": max_norm}, note=note, extra={
            "batches": batches, "seed": int(rng.integers(0, 2**31)), "hidden": H, "classes": C,
            "optimizer": optimizer})

    return [case(("SGD", (("lr", 0.1), ("momentum", 0.9))), 0.5, "SGD with momentum, max_norm 0.5 (clips)"),
            case(("Adam", (("lr", 0.01),)), 100.0, "Adam, max_norm 100 (never clips)"),
            case(("SGD", (("lr", 0.05),)), 1.0, "plain SGD, max_norm 1")]


def _step(zero=True, clip_first=True, train=True, report_clipped=False):
    def step(model, optimizer, xb, yb, max_norm):
        import torch

        if train:
            model.train()
        if zero:
            optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(xb), yb)
        loss.backward()
        if not clip_first:
            optimizer.step()
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        if clip_first:
            optimizer.step()
        return loss.item(), min(float(norm), max_norm) if report_clipped else float(norm)

    return step


register(
    "bridge.train_step", lesson=LESSON, title="One training step with torch.optim and clip_grad_norm_",
    reference=train_step, cases=_step_cases, outputs=("losses", "norms", "weights"),
    arg_names=("model", "optimizer", "xb", "yb", "max_norm"), protocol=StepRun(),
    variants=(
        Variant("no_zero_grad", _step(zero=False),
                "Your gradients pile up from step to step: PyTorch adds into .grad, so call optimizer.zero_grad() "
                "before backward (the course's functions returned fresh gradients instead)."),
        Variant("clip_after_step", _step(clip_first=False),
                "You clipped after optimizer.step(): the step used the unclipped gradient. Clip between backward "
                "and step."),
        Variant("eval_mode", _step(train=False),
                "Your step ran in eval mode (batch norm used its running statistics): call model.train() first, "
                "since an evaluation may have switched the model to eval mode."),
        Variant("clipped_norm", _step(report_clipped=True),
                "You returned the norm after clipping; clip_grad_norm_ returns the norm BEFORE clipping, as your "
                "clip_global_norm of lesson 12 did: return that."),
    ),
    hints=("model.train(); optimizer.zero_grad(); loss = F.cross_entropy(model(xb), yb); loss.backward()",
           "norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm); optimizer.step()",
           "return loss.item(), float(norm)"),
)
