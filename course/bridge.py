"""From the course's pieces to PyTorch (lesson 20, needs the ``[torch]`` extra).

The capstone's network (:class:`course.capstone.Network`: linear, batch norm, ReLU, dropout,
linear) as a ``torch.nn.Sequential`` on the same weights, its gradients back in the course's
layout, and one training step with ``torch.optim`` and ``clip_grad_norm_``. PyTorch is imported
inside the functions: the course itself never needs it.

Layouts: the course's ``W`` is (D_in, D_out) and a layer computes ``x @ W + b``; PyTorch's
``nn.Linear.weight`` is (D_out, D_in) and computes ``x @ weight.T + bias``, so the weights are
transposed both ways. Batch norm's ``gamma``/``beta`` are ``weight``/``bias`` of
``nn.BatchNorm1d``, whose ``eps`` (1e-5) and ``momentum`` (0.1, the weight of the new batch) are
the course's too.
"""

from __future__ import annotations

__all__ = ["INSTALL", "to_torch_module", "grads_to_numpy", "train_step"]

#: what to run where PyTorch is missing
INSTALL = 'pip install "backprop-course[torch]"'


def to_torch_module(params, bn, dropout=0.2):
    """``nn.Sequential(Linear, BatchNorm1d, ReLU, Dropout, Linear)`` in float64 holding copies of
    ``params`` ({"W1", "b1", "gamma1", "beta1", "W2", "b2"}) and of the running statistics in
    ``bn`` (the capstone's ``net.bn``; missing ones stay at PyTorch's 0 and 1)."""
    import torch
    from torch import nn

    D, H = params["W1"].shape
    C = params["W2"].shape[1]
    model = nn.Sequential(nn.Linear(D, H), nn.BatchNorm1d(H, eps=bn.get("eps", 1e-5),
                                                          momentum=bn.get("momentum", 0.1)),
                          nn.ReLU(), nn.Dropout(dropout), nn.Linear(H, C)).double()
    lin1, norm, _, _, lin2 = model

    def put(target, array):
        target.copy_(torch.as_tensor(array, dtype=torch.float64))

    with torch.no_grad():
        put(lin1.weight, params["W1"].T)
        put(lin1.bias, params["b1"])
        put(norm.weight, params["gamma1"])
        put(norm.bias, params["beta1"])
        put(lin2.weight, params["W2"].T)
        put(lin2.bias, params["b2"])
        for key in ("running_mean", "running_var"):
            if bn.get(key) is not None:
                put(getattr(norm, key), bn[key])
    return model


def grads_to_numpy(model):
    """The ``.grad`` of the Sequential's parameters as NumPy arrays in the course's layout and
    names (weights transposed back to (D_in, D_out)); new arrays, not views of the tensors."""
    lin1, norm, _, _, lin2 = model

    def arr(t, transpose=False):
        a = t.grad.detach().cpu().numpy()
        return (a.T if transpose else a).copy()

    return {"W1": arr(lin1.weight, True), "b1": arr(lin1.bias), "gamma1": arr(norm.weight),
            "beta1": arr(norm.bias), "W2": arr(lin2.weight, True), "b2": arr(lin2.bias)}


def train_step(model, optimizer, xb, yb, max_norm):
    """One step: training mode, gradients zeroed, mean cross-entropy, backward, the global norm
    clipped to ``max_norm`` (``clip_grad_norm_``), the optimizer's step. Returns ``(loss, norm)``
    as floats: the loss of this batch before the step and the gradient norm before clipping."""
    import torch
    import torch.nn.functional as F

    model.train()
    optimizer.zero_grad()
    loss = F.cross_entropy(model(xb), yb)
    loss.backward()
    norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    optimizer.step()
    return loss.item(), float(norm)
