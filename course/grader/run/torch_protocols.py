"""The run phase of lesson 20 (from your pieces to PyTorch): protocols that call the learner's
PyTorch code and return NumPy data only. Held by the grading sandbox
(:data:`course.instructor.plan.SANDBOX_PROTOCOL_MODULES`); PyTorch is a third-party package,
imported here only when a case runs, so the course works without it.

- :class:`ModuleRun`: ``fn(params, bn, dropout)`` builds an ``nn.Module``; its eval-mode scores,
  a training-mode pass (seeded dropout) with the gradients of the mean cross-entropy in the
  course's layout, and the running statistics after that pass.
- :class:`GradsRun`: ``fn(model)`` reads the gradients of a network the grader built and ran.
- :class:`StepRun`: ``fn(model, optimizer, xb, yb, max_norm)`` on a few batches; the losses, the
  norms it returned and the weights after the last step.
"""

from __future__ import annotations

import numpy as np

from ...extras import extra_message
from ..cases import copy_data
from .calling import LearnerMistake, call_learner, capture, plain
from .outcome import NEEDS_EXTRA, Outcome
from .protocols import Protocol

__all__ = ["NAMES", "ModuleRun", "GradsRun", "StepRun", "torch_or_mistake"]

#: the course's names of the capstone network's parameters, in the order of the Sequential's
NAMES = ("W1", "b1", "gamma1", "beta1", "W2", "b2")


def torch_or_mistake():
    """``torch``, or a :class:`LearnerMistake` saying how to install it."""
    try:
        import torch
    except ImportError:
        raise LearnerMistake(extra_message("torch", "check"), NEEDS_EXTRA) from None
    return torch


def _course_layout(tensors):
    """Tensors in the Sequential's order -> the course's dict (2-D weights transposed)."""
    out = {}
    for name, t in zip(NAMES, tensors):
        a = t.detach().cpu().numpy()
        out[name] = (a.T if a.ndim == 2 else a).copy()
    return out


def _capstone_net(torch, D, H, C, dropout=0.0):
    """The grader's own network of the capstone's shape (random weights, random batch-norm scale)."""
    nn = torch.nn
    layers = [nn.Linear(D, H), nn.BatchNorm1d(H), nn.ReLU()]
    if dropout is not None:
        layers.append(nn.Dropout(dropout))
    net = nn.Sequential(*layers, nn.Linear(H, C)).double()
    with torch.no_grad():
        net[1].weight.uniform_(0.5, 1.5)
        net[1].bias.normal_(0.0, 0.2)
    return net


class ModuleRun(Protocol):
    """See the module docstring. Outputs: eval scores (N, C), training-mode scores (N, C), the
    gradients {name: array} and the batch norm's running mean and variance after that pass."""

    kind = "torch_module"
    needs_module = "torch"  # tests skip the exercise where it is not installed

    def run(self, exercise, fn, case, options):
        try:
            torch = torch_or_mistake()
            params, bn = copy_data(case.args[0]), copy_data(case.args[1])
            kept = {k: v.copy() for k, v in params.items()}
            model = call_learner(fn, params, bn, case.args[2])
            if not isinstance(model, torch.nn.Module):
                raise LearnerMistake(f"Your function returned {type(model).__name__}; it should return a "
                                     "torch.nn.Module (an nn.Sequential of the five layers).", "type")
            tensors = list(model.parameters())
            if len(tensors) != len(NAMES):
                raise LearnerMistake(f"Your module has {len(tensors)} parameter tensors; the capstone's network "
                                     "has 6: Linear (weight, bias), BatchNorm1d (weight, bias), Linear (weight, "
                                     "bias), in that order.", "structure")
            if any(t.dtype != torch.float64 for t in tensors):
                raise LearnerMistake("Your module's parameters are float32 (PyTorch's default); the NumPy "
                                     "network is float64: build it with .double() so the two agree to 1e-10.",
                                     "dtype")
            norms = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm1d)]
            X = torch.from_numpy(np.array(case.extra["X"], dtype=np.float64))
            y = torch.from_numpy(np.array(case.extra["y"], dtype=np.int64))
            model.eval()
            with torch.no_grad():
                eval_scores = call_learner(model, X).numpy().copy()
            model.train()
            torch.manual_seed(int(case.extra["seed"]))
            scores = call_learner(model, X)
            torch.nn.functional.cross_entropy(scores, y).backward()
            grads = _course_layout([t.grad if t.grad is not None else torch.zeros_like(t) for t in tensors])
            stats = [norms[0].running_mean, norms[0].running_var] if norms else [torch.zeros(0)] * 2
            running = [s.detach().numpy().copy() for s in stats]
            with torch.no_grad():
                for t in tensors:
                    t.add_(1.0)
            if any(not np.array_equal(kept[k], params[k]) for k in kept if k in params):
                raise LearnerMistake("Your module's weights share memory with the NumPy arrays in params "
                                     "(torch.from_numpy, or torch.as_tensor without a copy, makes a view): a "
                                     "training step in PyTorch would change the NumPy network too. Copy them.",
                                     "shares_memory")
        except Exception as exc:
            return Outcome(error=capture(exc))
        return Outcome(outputs=(eval_scores, scores.detach().numpy().copy(), grads, running[0], running[1]))


class GradsRun(Protocol):
    """The grader builds a capstone-shaped network (seeded), runs a training-mode pass and its
    backward on the case's data, then calls ``fn(model)``. Output: what it returned."""

    kind = "torch_grads"
    needs_module = "torch"  # tests skip the exercise where it is not installed

    def run(self, exercise, fn, case, options):
        try:
            torch = torch_or_mistake()
            torch.manual_seed(int(case.extra["seed"]))
            X, y = np.asarray(case.extra["X"]), np.asarray(case.extra["y"])
            net = _capstone_net(torch, X.shape[1], int(case.extra["hidden"]), int(case.extra["classes"]))
            net.train()
            loss = torch.nn.functional.cross_entropy(net(torch.from_numpy(X)), torch.from_numpy(y))
            loss.backward()
            got = call_learner(fn, net)
            if isinstance(got, dict) and any(isinstance(v, torch.Tensor) for v in got.values()):
                raise LearnerMistake("Your dict holds torch tensors; return NumPy arrays (t.detach().numpy(), "
                                     "copied), which the course's functions and np.allclose take.", "type")
        except Exception as exc:
            return Outcome(error=capture(exc))
        return Outcome(outputs=plain(got))


class StepRun(Protocol):
    """A capstone-shaped network (no dropout) and an optimizer named by the case, put in eval
    mode before every call, as if an evaluation ran between steps. Outputs: the returned losses
    (K,), the returned norms (K,) and every weight after the last step, flattened."""

    kind = "torch_step"
    needs_module = "torch"  # tests skip the exercise where it is not installed

    def run(self, exercise, fn, case, options):
        try:
            torch = torch_or_mistake()
            torch.manual_seed(int(case.extra["seed"]))
            batches = case.extra["batches"]
            D = np.asarray(batches[0][0]).shape[1]
            net = _capstone_net(torch, D, int(case.extra["hidden"]), int(case.extra["classes"]), dropout=None)
            kind, settings = case.extra["optimizer"]
            opt = getattr(torch.optim, kind)(net.parameters(), **dict(settings))
            losses, norms = [], []
            for xb, yb in batches:
                net.eval()
                ret = call_learner(fn, net, opt, torch.from_numpy(np.asarray(xb)), torch.from_numpy(np.asarray(yb)),
                                   case.kwargs["max_norm"])
                if not (isinstance(ret, tuple) and len(ret) == 2):
                    raise LearnerMistake(f"Your train_step returned {type(ret).__name__}; it should return "
                                         "(loss, norm), two floats.", "type")
                losses.append(float(ret[0]))
                norms.append(float(ret[1]))
            weights = np.concatenate([p.detach().numpy().ravel() for p in net.parameters()])
        except Exception as exc:
            return Outcome(error=capture(exc))
        return Outcome(outputs=(np.array(losses), np.array(norms), weights))
