"""A second suite, written after the engine was built and run once without tuning the grader to
it: the honest figure for bugs the engine was not shaped around."""

import math

import numpy as np

from .lesson02 import make_value


def _lsm(x):
    z = x - x.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def _sm(x):
    return np.exp(_lsm(x))


def add_bias_col(X, b):
    return X + b[None, :].T


def pairwise_t(A, B):
    return ((A[:, None] - B[None]) ** 2).sum(-1).T


def relu_f32(x):
    return np.where(x > 0, x, 0.0).astype(np.float32), x


def leaky_sign(x, negative_slope=0.01):
    return np.where(x > 0, x, -negative_slope * x), x


def softmax_col_max(x, axis=-1):
    e = np.exp(x - x.max(axis=0))
    return e / e.sum(axis=1, keepdims=True)


def log_softmax_unstable(x, axis=-1):
    return x - np.log(np.sum(np.exp(x), axis=1, keepdims=True))


def linear_out_t(x, W, b):
    return (x @ W).T + b, (x, W, b)


def linear_dot(x, W, b):  # correct
    return np.dot(W.T, x.T).T + b, (x, W, b)


def mse_axis0(pred, target):
    return np.mean((pred - target) ** 2, axis=0)


def ce_log_of_softmax(logits, y):
    return float(-np.mean(np.log(_sm(logits))[np.arange(len(y)), y]))


def relu_bwd_ge(dout, cache):
    return dout * (cache >= 0)


def tanh_bwd_sigmoid_rule(dout, cache):
    return dout * (1 - cache) * cache


def tanh_bwd_factored(dout, cache):  # correct
    return dout * (1 + cache) * (1 - cache)


def linear_bwd_dw_mean(dout, cache):
    x, W, b = cache
    return dout @ W.T, x.T @ dout / len(x), dout.sum(axis=0)


def linear_bwd_dx_t(dout, cache):
    x, W, b = cache
    return W @ dout.T, x.T @ dout, dout.sum(axis=0)


def mse_grad_rows(pred, target, reduction="mean"):
    d = pred - target
    return float(np.mean(d**2)), 2 * d / len(pred)


def standardize_std(X, eps=1e-8):  # correct up to where eps enters
    return (X - X.mean(0)) / (X.std(0) + eps)


def relerr_global(a, b):
    return float(np.abs(a - b).max() / max(np.abs(a).max(), np.abs(b).max(), 1e-8))


def mb_missing_last(X, y, batch_size, shuffle=True, rng=None):
    N = len(X)
    idx = rng.permutation(N) if shuffle else np.arange(N)
    return [(X[idx[i:i + batch_size]], y[idx[i:i + batch_size]]) for i in range(0, N - 1, batch_size)]


def epoch_shuffles_x(w, X, y, batch_size, lr, rng):
    idx = rng.permutation(len(X))
    X[:] = X[idx]
    y[:] = y[idx]
    losses = []
    for i in range(0, len(X), batch_size):
        Xb, yb = X[i:i + batch_size], y[i:i + batch_size]
        r = Xb @ w - yb
        losses.append(np.mean(r**2))
        w = w - lr * 2 / len(r) * Xb.T @ r
    return w, np.array(losses)


def sgd_decay_after(w, g, state, *, lr, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0):
    w -= lr * g
    w -= weight_decay * w
    return w


def momentum_nesterov_g(w, g, state, *, lr, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0):
    g = g + weight_decay * w
    buf = state.get("momentum_buffer")
    buf = g.copy() if buf is None else momentum * buf + (1 - dampening) * g
    state["momentum_buffer"] = buf
    w -= lr * (g + momentum * g if nesterov else buf)
    return w


def adam_amsgrad_vhat(w, g, state, *, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False):
    b1, b2 = betas
    t = state["step"] = state.get("step", 0) + 1
    g = g + weight_decay * w
    m = state["m"] = b1 * state.get("m", 0.0) + (1 - b1) * g
    v = state["v"] = b2 * state.get("v", 0.0) + (1 - b2) * g * g
    vh = v / (1 - b2**t)
    if amsgrad:
        vh = state["vmax"] = np.maximum(state.get("vmax", 0.0), vh)
    w -= lr * (m / (1 - b1**t)) / (np.sqrt(vh) + eps)
    return w


def adagrad_no_wd(w, g, state, *, lr=1e-2, lr_decay=0.0, weight_decay=0.0, eps=1e-10):
    t = state["step"] = state.get("step", 0) + 1
    s = state["sum"] = state.get("sum", 0.0) + g * g
    w -= lr / (1 + (t - 1) * lr_decay) * g / (np.sqrt(s) + eps)
    return w


def rmsprop_buf_g(w, g, state, *, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False):
    g = g + weight_decay * w
    v = state["square_avg"] = alpha * state.get("square_avg", 0.0) + (1 - alpha) * g * g
    avg = np.sqrt(v - state.setdefault("ga", 0.0) ** 2 if False else v) + eps
    if centered:
        ga = state["ga"] = alpha * state.get("ga", 0.0) + (1 - alpha) * g
        avg = np.sqrt(v - ga * ga) + eps
    if momentum:
        buf = state["buf"] = momentum * state.get("buf", 0.0) + g
        w -= lr * buf / avg
    else:
        w -= lr * g / avg
    return w


def step_times(step, base_lr, step_size, gamma=0.1):
    return base_lr * gamma * (step // step_size) if step >= step_size else base_lr


def exp_divide(step, base_lr, gamma):
    return base_lr / gamma**step


def cos_periodic(step, base_lr, T_max, eta_min=0.0):
    return eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * (step % T_max) / T_max)) / 2


def warmup_from_zero(step, base_lr, start_factor=1 / 3, end_factor=1.0, total_iters=5):
    return base_lr * (end_factor * min(1.0, step / total_iters))


def cyclic_half_cycle(step, base_lr, max_lr, step_size_up=2000, step_size_down=None, mode="triangular", gamma=1.0):
    down = step_size_up if step_size_down is None else step_size_down
    total = step_size_up + down
    x = step % total
    frac = x / step_size_up if x <= step_size_up else 1 - (x - step_size_up) / down
    half = step // step_size_up
    scale = 0.5**half if mode == "triangular2" else (gamma**step if mode == "exp_range" else 1.0)
    return base_lr + (max_lr - base_lr) * frac * scale


def clip_sum_of_norms(grads, max_norm, norm_type=2.0, error_if_nonfinite=True):
    gs = list(grads.values()) if isinstance(grads, dict) else list(grads)
    total = float(sum(np.linalg.norm(g) for g in gs))
    if total > max_norm:
        for g in gs:
            g *= max_norm / (total + 1e-6)
    return total


def ema_drops_last(x, beta, bias_correction=False):
    out, v = [], 0.0
    for t in range(1, len(x)):
        v = beta * v + (1 - beta) * x[t - 1]
        out.append(v / (1 - beta**t) if bias_correction else v)
    return np.array(out)


def value_half_upstream():
    Value = make_value()

    class Mine(Value):
        def __mul__(self, other):
            other = other if isinstance(other, Value) else Mine(other)
            out = Mine(self.data * other.data, (self, other), "*")

            def _backward():
                self.grad += other.data * out.grad
                other.grad += self.data  # out.grad forgotten on this side only

            out._backward = _backward
            return out

    return Mine


BUGS = [
    ("numpy.add_bias", add_bias_col, ("shape",), {}),
    ("numpy.pairwise_sq_dists", pairwise_t, ("transposed",), {}),
    ("layers.relu_forward", relu_f32, ("float32",), {}),
    ("layers.leaky_relu_forward", leaky_sign, ("< 0",), {}),
    ("layers.softmax", softmax_col_max, ("axis",), {}),
    ("layers.log_softmax", log_softmax_unstable, ("exp",), {}),
    ("layers.linear_forward", linear_out_t, ("shape",), {}),
    ("forward.mse_loss", mse_axis0, ("number",), {}),
    ("forward.cross_entropy_loss", ce_log_of_softmax, ("log",), {}),
    ("autograd.value_mul", value_half_upstream(), ("out.grad",), {}),
    ("autograd.value_exp", make_value("exp_set"), ("+=",), {}),
    ("autograd.value_relu", make_value("relu_no_upstream"), ("out.grad",), {}),
    ("layers.relu_backward", relu_bwd_ge, ("== 0",), {}),
    ("layers.tanh_backward", tanh_bwd_sigmoid_rule, ("1 - out**2",), {}),
    ("layers.linear_backward", linear_bwd_dw_mean, ("N",), {}),
    ("layers.linear_backward", linear_bwd_dx_t, ("transposed",), {}),
    ("losses.mse_loss", mse_grad_rows, (), {}),
    ("gradcheck.relative_error", relerr_global, (), {}),
    ("gradient_descent.minibatches", mb_missing_last, (), {}),
    ("gradient_descent.sgd_epoch", epoch_shuffles_x, ("in place",), {}),
    ("optim.sgd", sgd_decay_after, ("lr",), {}),
    ("optim.sgd_momentum", momentum_nesterov_g, ("nesterov",), {}),
    ("optim.adam", adam_amsgrad_vhat, ("amsgrad",), {}),
    ("optim.adagrad", adagrad_no_wd, ("weight_decay",), {}),
    ("optim.rmsprop", rmsprop_buf_g, ("momentum",), {}),
    ("schedules.step_lr", step_times, (), {}),
    ("schedules.exponential_lr", exp_divide, ("gamma",), {}),
    ("schedules.cosine_annealing_lr", cos_periodic, ("T_max",), {}),
    ("schedules.linear_warmup_lr", warmup_from_zero, ("start_factor",), {}),
    ("schedules.cyclic_lr", cyclic_half_cycle, ("triangular2",), {}),
    ("gradients.clip_grad_norm", clip_sum_of_norms, ("norm",), {}),
    ("averages.ema", ema_drops_last, ("shape",), {}),
]

CORRECT = [
    ("layers.linear_forward", linear_dot, {}),
    ("layers.tanh_backward", tanh_bwd_factored, {}),
    ("numpy.standardize", standardize_std, {}),
]
