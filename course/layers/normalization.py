"""Batch normalisation and layer normalisation for (N, D) inputs.

Both normalise, then scale and shift with learned gamma, beta of shape (D,):

    x_hat = (x - mean) / sqrt(var + eps)        out = gamma * x_hat + beta

Batch norm takes mean and var over the batch (axis 0, one value per feature); layer norm over
the features (axis 1, one value per example). Both use the *biased* variance (divide by N, or D)
to normalise, as PyTorch does.

Both backward passes use the compact formula (for batch norm, sums over the batch axis; for layer
norm, the same with the feature axis and D in place of N):

    dx_hat = dout * gamma
    dx = (1 / N) / sqrt(var + eps) * (N * dx_hat - sum(dx_hat) - x_hat * sum(dx_hat * x_hat))
"""

from __future__ import annotations

from ..backend import namespace
from ..validation import check_ndim, check_shape, choice, float_array, in_range, positive

__all__ = ["update_running_stats", "batchnorm_forward", "batchnorm_backward", "layernorm_forward",
           "layernorm_backward"]


def _check_inputs(fn, x, gamma, beta):
    x = float_array("x", x, fn=fn)
    gamma = float_array("gamma", gamma, fn=fn, like=x)
    beta = float_array("beta", beta, fn=fn, like=x)
    check_ndim("x", x, 2, "(N, D)", fn=fn)
    D = x.shape[1]
    check_shape("gamma", gamma, (D,), "(D,)", fn=fn, why="(one scale per feature of x)")
    check_shape("beta", beta, (D,), "(D,)", fn=fn, why="(one shift per feature of x)")
    return x, gamma, beta


def update_running_stats(running_mean, running_var, x, momentum=0.1):
    """The running statistics after one training batch, with PyTorch's ``BatchNorm1d`` convention.

    - running_mean, running_var: (D,), the current running statistics (not changed);
    - x: (N, D) the batch, N >= 2; momentum: the weight of the NEW batch (PyTorch's 0.1).

    Returns ``(new_mean, new_var)``, each (D,):

        new_mean = (1 - momentum) * running_mean + momentum * mean(x)
        new_var  = (1 - momentum) * running_var  + momentum * var(x) * N / (N - 1)   (unbiased)
    """
    fn = "update_running_stats"
    x = float_array("x", x, fn=fn)
    check_ndim("x", x, 2, "(N, D)", fn=fn)
    N, D = x.shape
    running_mean = float_array("running_mean", running_mean, fn=fn, like=x)
    running_var = float_array("running_var", running_var, fn=fn, like=x)
    check_shape("running_mean", running_mean, (D,), "(D,)", fn=fn)
    check_shape("running_var", running_var, (D,), "(D,)", fn=fn)
    in_range("momentum", momentum, 0.0, 1.0, fn=fn, hi_open=False)
    if N < 2:
        raise ValueError(f"{fn}: the unbiased variance needs at least 2 examples, got x of shape {tuple(x.shape)}")
    xp = namespace(x)
    mean = xp.mean(x, axis=0)
    xc = x - mean
    unbiased_var = xp.sum(xc * xc, axis=0) / (N - 1)
    return ((1.0 - momentum) * running_mean + momentum * mean,
            (1.0 - momentum) * running_var + momentum * unbiased_var)


def batchnorm_forward(x, gamma, beta, bn_param):
    """Batch normalisation forward pass, with PyTorch's ``BatchNorm1d`` semantics.

    Inputs:
    - x: (N, D); gamma, beta: (D,).
    - bn_param: a dict, updated in place, with keys (missing ones are filled with the defaults):
      - "mode": "train" (default) or "eval";
      - "eps": 1e-5, added to the variance;
      - "momentum": 0.1, the weight of the *new* batch statistic in the running averages;
      - "running_mean": (D,), zeros at first; "running_var": (D,), ones at first.

    Train mode normalises with the batch's mean and biased variance (divide by N) and updates:

        running_mean = (1 - momentum) * running_mean + momentum * mean
        running_var  = (1 - momentum) * running_var  + momentum * var * N / (N - 1)

    The running variance uses the *unbiased* batch variance (divide by N - 1), as PyTorch does.
    Note: some course material writes ``running = momentum * running + (1 - momentum) * batch``
    with momentum = 0.9, i.e. momentum as the weight kept; here (as in PyTorch) momentum = 0.1
    is the weight of the new batch, the same update.

    Train mode needs N >= 2: with one example the batch variance is 0, every output equals beta
    and the unbiased variance is undefined, so N = 1 raises a ValueError (PyTorch raises too).

    Eval mode normalises with running_mean and running_var and changes nothing in bn_param.

    Returns ``(out, cache)``:
    - out: (N, D) = gamma * x_hat + beta
    - cache: (x_hat, gamma, inv_std, mode) with x_hat (N, D) and inv_std = 1 / sqrt(var + eps),
      (D,), where var is the batch variance (train) or running_var (eval).
    """
    fn = "batchnorm_forward"
    x, gamma, beta = _check_inputs(fn, x, gamma, beta)
    if not isinstance(bn_param, dict):
        raise TypeError(f"{fn}: bn_param must be a dict, got {type(bn_param).__name__}")
    xp = namespace(x, gamma, beta)
    N, D = x.shape
    mode = bn_param.setdefault("mode", "train")
    choice('bn_param["mode"]', mode, ("train", "eval"), fn=fn)
    eps = positive('bn_param["eps"]', bn_param.setdefault("eps", 1e-5), fn=fn)
    momentum = bn_param.setdefault("momentum", 0.1)
    in_range('bn_param["momentum"]', momentum, 0.0, 1.0, fn=fn, hi_open=False)
    if bn_param.get("running_mean") is None:
        bn_param["running_mean"] = xp.zeros((D,), dtype=x.dtype)
    if bn_param.get("running_var") is None:
        bn_param["running_var"] = xp.ones((D,), dtype=x.dtype)
    running_mean, running_var = bn_param["running_mean"], bn_param["running_var"]
    check_shape('bn_param["running_mean"]', running_mean, (D,), "(D,)", fn=fn)
    check_shape('bn_param["running_var"]', running_var, (D,), "(D,)", fn=fn)

    if mode == "train":
        if N < 2:
            raise ValueError(
                f"{fn}: training mode needs at least 2 examples per batch to estimate a variance, "
                f"got x of shape {tuple(x.shape)}; use a larger batch or bn_param['mode'] = 'eval'"
            )
        mean = xp.mean(x, axis=0)
        xc = x - mean
        var = xp.mean(xc * xc, axis=0)  # biased: divides by N
        inv_std = 1.0 / xp.sqrt(var + eps)
        x_hat = xc * inv_std
        bn_param["running_mean"] = (1.0 - momentum) * running_mean + momentum * mean
        unbiased_var = var * (N / (N - 1))
        bn_param["running_var"] = (1.0 - momentum) * running_var + momentum * unbiased_var
    else:
        inv_std = 1.0 / xp.sqrt(running_var + eps)
        x_hat = (x - running_mean) * inv_std
    out = gamma * x_hat + beta
    return out, (x_hat, gamma, inv_std, mode)


def batchnorm_backward(dout, cache):
    """Batch normalisation backward pass.

    Inputs:
    - dout: (N, D) upstream gradient.
    - cache: (x_hat, gamma, inv_std, mode) from :func:`batchnorm_forward`.

    Returns ``(dx, dgamma, dbeta)``:
    - dgamma: (D,) = sum over the batch of dout * x_hat;  dbeta: (D,) = sum of dout.
    - dx: (N, D). Train mode, where mean and var depend on x (sums over the batch axis):
      dx = inv_std / N * (N * dx_hat - sum(dx_hat) - x_hat * sum(dx_hat * x_hat)),
      with dx_hat = dout * gamma. Eval mode, where they are constants: dx = dx_hat * inv_std.
    """
    fn = "batchnorm_backward"
    x_hat, gamma, inv_std, mode = cache
    dout = float_array("dout", dout, fn=fn, like=x_hat)
    check_shape("dout", dout, tuple(x_hat.shape), "(N, D)", fn=fn, why="like the forward's output")
    xp = namespace(dout, x_hat)
    N = x_hat.shape[0]
    dbeta = xp.sum(dout, axis=0)
    dgamma = xp.sum(dout * x_hat, axis=0)
    dx_hat = dout * gamma
    if mode == "train":
        # sum(dx_hat * x_hat) over the batch equals gamma * dgamma: gamma is the same in every row
        dx = (inv_std / N) * (N * dx_hat - xp.sum(dx_hat, axis=0) - x_hat * (gamma * dgamma))
    else:
        dx = dx_hat * inv_std
    return dx, dgamma, dbeta


def layernorm_forward(x, gamma, beta, eps=1e-5):
    """Layer normalisation forward pass (``torch.nn.LayerNorm(D)`` for (N, D) inputs).

    Each example (row) is normalised over its D features; there are no running statistics and
    train and eval behave the same:

        mean_i = mean_j x_ij    var_i = mean_j (x_ij - mean_i)**2   (biased: divides by D)
        out = gamma * (x - mean) / sqrt(var + eps) + beta

    Inputs: x: (N, D); gamma, beta: (D,); eps: added to the variance (PyTorch's 1e-5).

    Returns ``(out, cache)``:
    - out: (N, D)
    - cache: (x_hat, gamma, inv_std) with x_hat (N, D) and inv_std (N, 1) = 1 / sqrt(var + eps).
    """
    fn = "layernorm_forward"
    x, gamma, beta = _check_inputs(fn, x, gamma, beta)
    positive("eps", eps, fn=fn)
    xp = namespace(x, gamma, beta)
    mean = xp.mean(x, axis=1, keepdims=True)
    xc = x - mean
    var = xp.mean(xc * xc, axis=1, keepdims=True)
    inv_std = 1.0 / xp.sqrt(var + eps)
    x_hat = xc * inv_std
    return gamma * x_hat + beta, (x_hat, gamma, inv_std)


def layernorm_backward(dout, cache):
    """Layer normalisation backward pass.

    Inputs:
    - dout: (N, D) upstream gradient.
    - cache: (x_hat, gamma, inv_std) from :func:`layernorm_forward`.

    Returns ``(dx, dgamma, dbeta)``:
    - dgamma: (D,) = sum over the batch of dout * x_hat;  dbeta: (D,) = sum of dout.
    - dx: (N, D) = inv_std / D * (D * dx_hat - sum(dx_hat) - x_hat * sum(dx_hat * x_hat)),
      with dx_hat = dout * gamma and both sums over the features (axis 1) of each row.
    """
    fn = "layernorm_backward"
    x_hat, gamma, inv_std = cache
    dout = float_array("dout", dout, fn=fn, like=x_hat)
    check_shape("dout", dout, tuple(x_hat.shape), "(N, D)", fn=fn, why="like the forward's output")
    xp = namespace(dout, x_hat)
    D = x_hat.shape[1]
    dbeta = xp.sum(dout, axis=0)
    dgamma = xp.sum(dout * x_hat, axis=0)
    dx_hat = dout * gamma
    row_sum = xp.sum(dx_hat, axis=1, keepdims=True)
    row_dot = xp.sum(dx_hat * x_hat, axis=1, keepdims=True)
    dx = (inv_std / D) * (D * dx_hat - row_sum - x_hat * row_dot)
    return dx, dgamma, dbeta
