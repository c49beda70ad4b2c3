"""Lessons 04 (gradient checking) and 05 (gradient descent)."""

import numpy as np


def numgrad_not_restored(f, x, h=1e-5):
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        x[i] += h
        plus = f(x)
        x[i] -= 2 * h
        minus = f(x)
        grad[i] = (plus - minus) / (2 * h)
    return grad


def numgrad_divide_h(f, x, h=1e-5):
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        plus = f(x)
        x[i] = old - h
        minus = f(x)
        x[i] = old
        grad[i] = (plus - minus) / h
    return grad


def numgrad_flat(f, x, h=1e-5):  # correct, through a flat view
    grad = np.zeros(x.size)
    flat = x.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + h
        plus = f(x)
        flat[i] = old - h
        minus = f(x)
        flat[i] = old
        grad[i] = (plus - minus) / (2 * h)
    return grad.reshape(x.shape)


def numgrad_array_no_dout(f, x, dout, h=1e-5):
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        plus = f(x).copy()
        x[i] = old - h
        minus = f(x).copy()
        x[i] = old
        grad[i] = np.sum(plus - minus) / (2 * h)
    return grad


def numgrad_array_mean(f, x, dout, h=1e-5):
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        plus = f(x).copy()
        x[i] = old - h
        minus = f(x).copy()
        x[i] = old
        grad[i] = np.mean((plus - minus) * dout) / (2 * h)
    return grad


def relerr_no_floor(a, b):
    return float(np.max(np.abs(a - b) / (np.abs(a) + np.abs(b))))


def relerr_one_sided(a, b):
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a), 1e-8)))


def relerr_norms(a, b):
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-8))


def bugs_wrong_kind():
    from course.grader.topics.gradcheck import find_the_bugs

    ans = find_the_bugs()
    name = sorted(ans)[0]
    grad, _ = ans[name]
    ans[name] = (grad, "wrong sign" if "sign" not in ans[name][1] else "missing factor 2")
    return ans


def bugs_wrong_gradient():
    from course.grader.topics.gradcheck import FUNCTIONS, find_the_bugs

    ans = find_the_bugs()
    name = sorted(ans)[-1]
    grads, (want, kind) = FUNCTIONS[name]
    other = next(g for g in grads if g != want)
    ans[name] = (other, kind)
    return ans


# -- lesson 05
def mb_drop_last(X, y, batch_size, shuffle=True, rng=None):
    N = len(X)
    idx = rng.permutation(N) if shuffle else np.arange(N)
    return [(X[idx[i:i + batch_size]], y[idx[i:i + batch_size]]) for i in range(0, N - batch_size + 1, batch_size)]


def mb_two_permutations(X, y, batch_size, shuffle=True, rng=None):
    N = len(X)
    ix = rng.permutation(N) if shuffle else np.arange(N)
    iy = rng.permutation(N) if shuffle else np.arange(N)
    return [(X[ix[i:i + batch_size]], y[iy[i:i + batch_size]]) for i in range(0, N, batch_size)]


def mb_global_random(X, y, batch_size, shuffle=True, rng=None):
    N = len(X)
    idx = np.random.permutation(N) if shuffle else np.arange(N)
    return [(X[idx[i:i + batch_size]], y[idx[i:i + batch_size]]) for i in range(0, N, batch_size)]


def mb_generator(X, y, batch_size, shuffle=True, rng=None):  # correct, a generator
    idx = rng.permutation(len(X)) if shuffle else np.arange(len(X))
    for i in range(0, len(X), batch_size):
        j = idx[i:i + batch_size]
        yield X[j], y[j]


def _batches(X, y, B, rng):
    idx = rng.permutation(len(X))
    return [(X[idx[i:i + B]], y[idx[i:i + B]]) for i in range(0, len(X), B)]


def epoch_in_place(w, X, y, batch_size, lr, rng):
    losses = []
    for Xb, yb in _batches(X, y, batch_size, rng):
        r = Xb @ w - yb
        losses.append(np.mean(r**2))
        w -= lr * 2 / len(r) * Xb.T @ r
    return w, np.array(losses)


def epoch_divide_by_n(w, X, y, batch_size, lr, rng):
    losses = []
    for Xb, yb in _batches(X, y, batch_size, rng):
        r = Xb @ w - yb
        losses.append(np.mean(r**2))
        w = w - lr * 2 / len(X) * Xb.T @ r
    return w, np.array(losses)


def epoch_r_at_x(w, X, y, batch_size, lr, rng):  # correct, r @ Xb
    losses = []
    for Xb, yb in _batches(X, y, batch_size, rng):
        r = Xb @ w - yb
        losses.append(r @ r / len(r))
        w = w - lr * (2 / len(r)) * (r @ Xb)
    return w, np.array(losses)


def sgd_wd_outside_lr(w, g, state, *, lr, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0):
    w -= lr * g + weight_decay * w
    return w


def sgd_wd_sign(w, g, state, *, lr, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0):
    w -= lr * (g - weight_decay * w)
    return w


def sgd_new_array(w, g, state, *, lr, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0):  # correct
    return w - lr * (g + weight_decay * w)


BUGS = [
    ("gradcheck.numerical_gradient", numgrad_not_restored, ("restore",), {}),
    ("gradcheck.numerical_gradient", numgrad_divide_h, ("2",), {}),
    ("gradcheck.numerical_gradient_array", numgrad_array_no_dout, ("dout",), {}),
    ("gradcheck.numerical_gradient_array", numgrad_array_mean, (), {}),
    ("gradcheck.relative_error", relerr_no_floor, ("0/0",), {}),
    ("gradcheck.relative_error", relerr_one_sided, (), {}),
    ("gradcheck.relative_error", relerr_norms, (), {}),
    ("gradcheck.find_the_bugs", bugs_wrong_kind, (), {}),
    ("gradcheck.find_the_bugs", bugs_wrong_gradient, (), {}),
    ("gradient_descent.minibatches", mb_drop_last, ("last",), {}),
    ("gradient_descent.minibatches", mb_two_permutations, (), {}),
    ("gradient_descent.minibatches", mb_global_random, ("rng",), {}),
    ("gradient_descent.sgd_epoch", epoch_in_place, ("in place",), {}),
    ("gradient_descent.sgd_epoch", epoch_divide_by_n, (), {}),
    ("optim.sgd", sgd_wd_outside_lr, ("lr",), {}),
    ("optim.sgd", sgd_wd_sign, ("weight_decay",), {}),
]

CORRECT = [
    ("gradcheck.numerical_gradient", numgrad_flat, {}),
    ("gradient_descent.minibatches", mb_generator, {}),
    ("gradient_descent.sgd_epoch", epoch_r_at_x, {}),
    ("optim.sgd", sgd_new_array, {}),
]
