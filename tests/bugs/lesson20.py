"""Lesson 20 (from your pieces to PyTorch): the capstone network as an nn.Module, its gradients in
the course's layout, one training step. Written before the grader's messages for them were read.
Needs PyTorch (the functions import it when called)."""

NEEDS = "torch"  # measure.py skips this module where it is not installed


def _layers(D, H, C, dropout, dtype=True):
    from torch import nn

    m = nn.Sequential(nn.Linear(D, H), nn.BatchNorm1d(H), nn.ReLU(), nn.Dropout(dropout), nn.Linear(H, C))
    return m.double() if dtype else m


def module_float32(params, bn, dropout=0.2):
    import torch

    D, H = params["W1"].shape
    m = _layers(D, H, params["W2"].shape[1], dropout, dtype=False)
    with torch.no_grad():
        m[0].weight.copy_(torch.tensor(params["W1"].T))
        m[0].bias.copy_(torch.tensor(params["b1"]))
        m[1].weight.copy_(torch.tensor(params["gamma1"]))
        m[1].bias.copy_(torch.tensor(params["beta1"]))
        m[4].weight.copy_(torch.tensor(params["W2"].T))
        m[4].bias.copy_(torch.tensor(params["b2"]))
        if "running_mean" in bn:
            m[1].running_mean.copy_(torch.tensor(bn["running_mean"]))
            m[1].running_var.copy_(torch.tensor(bn["running_var"]))
    return m


def module_from_numpy_views(params, bn, dropout=0.2):
    import torch
    from torch import nn

    D, H = params["W1"].shape
    m = _layers(D, H, params["W2"].shape[1], dropout)
    m[0].weight = nn.Parameter(torch.from_numpy(params["W1"].T))
    m[0].bias = nn.Parameter(torch.from_numpy(params["b1"]))
    m[1].weight = nn.Parameter(torch.from_numpy(params["gamma1"]))
    m[1].bias = nn.Parameter(torch.from_numpy(params["beta1"]))
    m[4].weight = nn.Parameter(torch.from_numpy(params["W2"].T))
    m[4].bias = nn.Parameter(torch.from_numpy(params["b2"]))
    if "running_mean" in bn:
        m[1].running_mean = torch.tensor(bn["running_mean"])
        m[1].running_var = torch.tensor(bn["running_var"])
    return m


def module_bn_eps_default_ignores_var(params, bn, dropout=0.2):
    import torch

    D, H = params["W1"].shape
    m = _layers(D, H, params["W2"].shape[1], dropout)
    with torch.no_grad():
        m[0].weight.copy_(torch.tensor(params["W1"].T))
        m[0].bias.copy_(torch.tensor(params["b1"]))
        m[1].weight.copy_(torch.tensor(params["gamma1"]))
        m[1].bias.copy_(torch.tensor(params["beta1"]))
        m[4].weight.copy_(torch.tensor(params["W2"].T))
        m[4].bias.copy_(torch.tensor(params["b2"]))
        if "running_mean" in bn:
            m[1].running_mean.copy_(torch.tensor(bn["running_mean"]))
            m[1].running_var.copy_(torch.tensor(bn["running_var"]) ** 0.5)  # stored the std
    return m


def module_reshape_not_transpose(params, bn, dropout=0.2):
    import torch

    D, H = params["W1"].shape
    C = params["W2"].shape[1]
    m = _layers(D, H, C, dropout)
    with torch.no_grad():
        m[0].weight.copy_(torch.tensor(params["W1"]).reshape(H, D))
        m[0].bias.copy_(torch.tensor(params["b1"]))
        m[1].weight.copy_(torch.tensor(params["gamma1"]))
        m[1].bias.copy_(torch.tensor(params["beta1"]))
        m[4].weight.copy_(torch.tensor(params["W2"]).reshape(C, H))
        m[4].bias.copy_(torch.tensor(params["b2"]))
        if "running_mean" in bn:
            m[1].running_mean.copy_(torch.tensor(bn["running_mean"]))
            m[1].running_var.copy_(torch.tensor(bn["running_var"]))
    return m


def grads_tensors(model):
    return {"W1": model[0].weight.grad.T, "b1": model[0].bias.grad, "gamma1": model[1].weight.grad,
            "beta1": model[1].bias.grad, "W2": model[4].weight.grad.T, "b2": model[4].bias.grad}


def grads_by_named_parameters(model):
    names = {"0.weight": "W1", "0.bias": "b1", "1.weight": "gamma1", "1.bias": "beta1", "4.weight": "W2",
             "4.bias": "b2"}
    out = {}
    for name, p in model.named_parameters():
        g = p.grad.detach().numpy()
        out[names[name]] = g.T.copy() if g.ndim == 2 else g.copy()
    return out


def grads_gamma_beta_swapped(model):
    def n(t, tr=False):
        a = t.grad.detach().numpy()
        return (a.T if tr else a).copy()

    return {"W1": n(model[0].weight, True), "b1": n(model[0].bias), "gamma1": n(model[1].bias),
            "beta1": n(model[1].weight), "W2": n(model[4].weight, True), "b2": n(model[4].bias)}


def grads_reshaped(model):
    def n(t):
        return t.grad.detach().numpy().copy()

    W1, W2 = n(model[0].weight), n(model[4].weight)
    return {"W1": W1.reshape(W1.shape[1], W1.shape[0]), "b1": n(model[0].bias), "gamma1": n(model[1].weight),
            "beta1": n(model[1].bias), "W2": W2.reshape(W2.shape[1], W2.shape[0]), "b2": n(model[4].bias)}


def step_zero_grad_after_backward(model, optimizer, xb, yb, max_norm):
    import torch

    model.train()
    loss = torch.nn.functional.cross_entropy(model(xb), yb)
    loss.backward()
    optimizer.zero_grad()
    norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    optimizer.step()
    return float(loss), float(norm)


def step_clip_value(model, optimizer, xb, yb, max_norm):
    import torch

    model.train()
    optimizer.zero_grad()
    loss = torch.nn.functional.cross_entropy(model(xb), yb)
    loss.backward()
    torch.nn.utils.clip_grad_value_(model.parameters(), max_norm)
    norm = torch.sqrt(sum((p.grad ** 2).sum() for p in model.parameters()))
    optimizer.step()
    return float(loss), float(norm)


def step_sum_loss(model, optimizer, xb, yb, max_norm):
    import torch

    model.train()
    optimizer.zero_grad()
    loss = torch.nn.functional.cross_entropy(model(xb), yb, reduction="sum")
    loss.backward()
    norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    optimizer.step()
    return float(loss), float(norm)


def step_loss_after(model, optimizer, xb, yb, max_norm):
    import torch

    model.train()
    optimizer.zero_grad()
    loss = torch.nn.functional.cross_entropy(model(xb), yb)
    loss.backward()
    norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    optimizer.step()
    with torch.no_grad():
        after = torch.nn.functional.cross_entropy(model(xb), yb)
    return float(after), float(norm)


def step_norm_per_parameter(model, optimizer, xb, yb, max_norm):  # correct: the norm by hand, then clip
    import torch

    model.train()
    optimizer.zero_grad()
    loss = torch.nn.functional.cross_entropy(model(xb), yb)
    loss.backward()
    total = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(p.grad) for p in model.parameters()]))
    torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    optimizer.step()
    return loss.item(), total.item()


BUGS = [
    ("bridge.to_torch_module", module_float32, ("double",), {}),
    ("bridge.to_torch_module", module_from_numpy_views, ("memory",), {}),
    ("bridge.to_torch_module", module_bn_eps_default_ignores_var, ("running_var",), {}),
    ("bridge.to_torch_module", module_reshape_not_transpose, ("transpose",), {}),
    ("bridge.grads_to_numpy", grads_tensors, ("numpy",), {}),
    ("bridge.grads_to_numpy", grads_gamma_beta_swapped, ("gamma",), {}),
    ("bridge.grads_to_numpy", grads_reshaped, ("transpose",), {}),
    ("bridge.train_step", step_zero_grad_after_backward, ("zero_grad",), {}),
    ("bridge.train_step", step_clip_value, ("clip_grad_norm_",), {}),
    ("bridge.train_step", step_sum_loss, ("mean",), {}),
    ("bridge.train_step", step_loss_after, ("before",), {}),
]

CORRECT = [
    ("bridge.grads_to_numpy", grads_by_named_parameters, {}),
    ("bridge.train_step", step_norm_per_parameter, {}),
]
