"""The training loop: :func:`fit` trains a model with an optimizer and returns a :class:`History`.

One optimizer step of :func:`fit`:

1. take the next ``accumulate`` mini-batches (micro-batches) of the epoch;
2. for each, ``loss_b, grads_b = model.loss(Xb, yb)`` (forward + backward, batch means);
3. combine them weighted by size, ``g = sum_b (n_b / n) grads_b`` with n = sum_b n_b, which
   is exactly the gradient of the mean loss over all n rows: accumulating k micro-batches
   of B rows gives the same update as one batch of k B rows (without batch norm, whose
   statistics are per micro-batch);
4. clip the gradient's global norm to ``clip_norm`` (:func:`course.gradients.clip_grad_norm`);
5. ``optimizer.step(g)``, which updates ``model.params`` in place;
6. with ``scheduler_interval="step"``, ``scheduler.step()``.

After each epoch the model is evaluated (eval mode: no dropout, running batch-norm
statistics) on the whole training set and on ``val_data``; with the default
``scheduler_interval="epoch"`` the scheduler steps once (PyTorch's convention for StepLR and
friends), and ``early_stopping`` may end training, restoring the best parameters.

Any model with ``params`` (dict of arrays), ``loss(x, y) -> (loss, grads)`` and
``forward(x, train=False) -> scores (N, C)`` works, e.g. :class:`course.model.MLP`.
"""

from __future__ import annotations

import math
import numbers
import warnings

from .backend import namespace
from .data import DataLoader
from .data.batches import _check_xy
from .gradients import GradientAccumulator, clip_grad_norm
from .history import History, plot_history
from .losses import mse_loss, softmax_cross_entropy
from .validation import choice

__all__ = ["History", "fit", "evaluate", "plot_history"]

_DEFAULT_BATCH_SIZE = 64


# ---------------------------------------------------------------------------------------------
# checks
# ---------------------------------------------------------------------------------------------


def _is_classifier(model) -> bool:
    return getattr(model, "loss_name", "cross_entropy") != "mse"


def _output_size(model, X) -> int:
    sizes = getattr(model, "sizes", None)
    if sizes:
        return int(sizes[-1])
    return int(model.forward(X[:1], train=False).shape[1])


def _check_targets(model, X, y, what: str, fn: str):
    """Inputs (N, D) for a model with D inputs; labels in [0, C) for a classifier with C outputs,
    (N, C) float targets for regression."""
    sizes = getattr(model, "sizes", None)
    if sizes and (X.ndim != 2 or X.shape[1] != sizes[0]):
        raise ValueError(
            f"{fn}: {what} inputs X must have shape (N, D) = (N, {sizes[0]}) for the model's "
            f"{sizes[0]} inputs, got {tuple(X.shape)}"
        )
    C = _output_size(model, X)
    xp = namespace(y)
    if _is_classifier(model):
        if not xp.isdtype(y.dtype, "integral"):
            raise TypeError(
                f"{fn}: {what} labels y must be integers in [0, C) = [0, {C}) for a model with "
                f"{C} outputs, got dtype {y.dtype}"
            )
        if y.ndim != 1:
            raise ValueError(f"{fn}: {what} labels y must have shape (N,), got {tuple(y.shape)}")
        lo, hi = int(xp.min(y)), int(xp.max(y))
        if lo < 0 or hi >= C:
            raise ValueError(
                f"{fn}: {what} labels must be in [0, C) = [0, {C}) to match the model's {C} "
                f"outputs, got labels from {lo} to {hi}"
            )
    elif tuple(y.shape) != (X.shape[0], C):
        raise ValueError(
            f"{fn}: {what} targets y must have shape (N, C) = ({X.shape[0]}, {C}) to match the "
            f"model's {C} outputs, got {tuple(y.shape)}"
        )


def _int(name, value, fn, minimum=1):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{fn}: {name} must be an integer, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{fn}: {name} must be >= {minimum}, got {value}")
    return int(value)


def _as_loader(train_data, batch_size, shuffle, seed, fn):
    if isinstance(train_data, DataLoader):
        if batch_size is not None and batch_size != train_data.batch_size:
            raise ValueError(
                f"{fn}: batch_size={batch_size!r} conflicts with the DataLoader's batch_size="
                f"{train_data.batch_size}; leave batch_size=None when passing a DataLoader"
            )
        return train_data
    X, y = _pair(train_data, "train_data", fn)
    size = _DEFAULT_BATCH_SIZE if batch_size is None else batch_size
    _check_xy(X, y, size, fn)  # clear messages for empty data and bad batch sizes
    return DataLoader(X, y, size, shuffle=shuffle, seed=seed)


def _pair(data, what, fn):
    if isinstance(data, (tuple, list)) and len(data) == 2:
        return data
    raise TypeError(f"{fn}: {what} must be a pair (X, y) or a DataLoader, got {type(data).__name__}")


# ---------------------------------------------------------------------------------------------
# evaluation
# ---------------------------------------------------------------------------------------------


def evaluate(model, X, y, batch_size=1024):
    """Mean loss and accuracy of ``model`` on (X, y) in eval mode (no dropout, no updates).

    - X: (N, D); y: (N,) integer labels (cross-entropy models) or (N, C) targets ("mse").
    - batch_size: rows per forward pass (bounds the memory used).

    Returns ``(loss, accuracy)``: floats; accuracy (fraction of argmax(scores) == y) is None
    for regression models. The loss matches the model's own (softmax cross-entropy or MSE).
    """
    fn = "evaluate"
    X, y = _check_xy(X, y, batch_size, fn)
    classifier = _is_classifier(model)
    total, correct, N = 0.0, 0, X.shape[0]
    for start in range(0, N, batch_size):
        Xb, yb = X[start : start + batch_size, ...], y[start : start + batch_size, ...]
        scores = model.forward(Xb, train=False)
        xp = namespace(scores)
        if classifier:
            total += softmax_cross_entropy(scores, yb, reduction="sum")[0]
            correct += int(xp.sum(xp.astype(xp.argmax(scores, axis=1) == yb, xp.int64)))
        else:
            total += mse_loss(scores, xp.astype(yb, scores.dtype), reduction="sum")[0]
    if classifier:
        return total / N, correct / N
    return total / (N * scores.shape[1]), None


# ---------------------------------------------------------------------------------------------
# fit
# ---------------------------------------------------------------------------------------------


def _global_norm(grads) -> float:
    """sqrt(sum over all gradient arrays of the sum of their squared entries)."""
    total = 0.0
    for g in grads.values():
        xp = namespace(g)
        total += float(xp.sum(g * g))
    return math.sqrt(total)


def _accumulated_gradient(model, micro_batches):
    """Loss and gradient of the mean loss over all rows of ``micro_batches`` (a list of (Xb, yb)).

    g = sum_b n_b grads_b / sum_b n_b, where grads_b is the gradient of micro-batch b's mean
    loss (see :class:`course.gradients.GradientAccumulator`). Returns ``(loss, grads)``.
    """
    accumulator = GradientAccumulator()
    loss, n = 0.0, 0
    for Xb, yb in micro_batches:
        loss_b, grads_b = model.loss(Xb, yb)
        accumulator.add(grads_b, weight=yb.shape[0])
        loss += float(loss_b) * yb.shape[0]
        n += yb.shape[0]
    return loss / n, accumulator.mean()


def _groups(batches, k):
    """Consecutive groups of k items (the last group may be shorter)."""
    group = []
    for item in batches:
        group.append(item)
        if len(group) == k:
            yield group
            group = []
    if group:
        yield group


def fit(
    model,
    optimizer,
    train_data,
    epochs=10,
    batch_size=None,
    val_data=None,
    scheduler=None,
    clip_norm=None,
    accumulate=1,
    early_stopping=None,
    progress=True,
    *,
    shuffle=True,
    seed=0,
    scheduler_interval="epoch",
):
    """Train ``model`` with ``optimizer`` for ``epochs`` passes over ``train_data``.

    Arguments:
    - model: e.g. :class:`course.model.MLP` (``params``, ``loss(x, y)``, ``forward(x, train)``).
    - optimizer: built over ``model.params``, e.g. ``course.optim.Adam(model.params, lr=1e-3)``.
    - train_data: ``(X, y)`` with X (N, D) and y (N,) labels in [0, C) (or (N, C) targets for
      an "mse" model), or a :class:`course.data.DataLoader` (then leave ``batch_size`` None).
    - epochs: passes over the training data (>= 1).
    - batch_size: rows per micro-batch (default 64).
    - val_data: optional ``(X_val, y_val)`` evaluated after every epoch.
    - scheduler: optional learning-rate scheduler (``scheduler.step()``), stepped once per
      epoch, or once per optimizer step with ``scheduler_interval="step"``.
    - clip_norm: clip the gradient's global L2 norm to this value before each step.
    - accumulate: k >= 1 micro-batches of ``batch_size`` per optimizer step; the update equals
      one step on the k micro-batches joined together (an effective batch of k * batch_size).
    - early_stopping: a :class:`course.regularization.EarlyStopping` checked after each epoch
      with the validation loss (the training loss without ``val_data``; the accuracy instead
      when its ``mode="max"``); training stops when it says so, and at the end the best
      parameters it saw are copied back into ``model.params``.
    - progress: show a ``tqdm`` bar over epochs with the latest loss and accuracy.
    - shuffle, seed: a new order every epoch, drawn from ``numpy.random.default_rng(seed)``
      (ignored for a DataLoader, which has its own).

    Returns a :class:`History`. Raises ValueError/TypeError for an empty data set,
    ``batch_size`` or ``epochs`` < 1, or labels that do not fit the model's outputs. If the
    loss or the gradient becomes NaN or infinite, training stops with a warning and
    ``history.diverged`` set, before that step changes the parameters.
    """
    fn = "fit"
    epochs = _int("epochs", epochs, fn)
    accumulate = _int("accumulate", accumulate, fn)
    choice("scheduler_interval", scheduler_interval, ("epoch", "step"), fn=fn)
    if clip_norm is not None and not (isinstance(clip_norm, numbers.Real) and clip_norm > 0):
        raise ValueError(f"{fn}: clip_norm must be None or a number > 0, got {clip_norm!r}")
    for name, obj, method in (
        ("model", model, "loss"),
        ("optimizer", optimizer, "step"),
        ("scheduler", scheduler, "step"),
    ):
        if obj is not None and not callable(getattr(obj, method, None)):
            raise TypeError(f"{fn}: {name} must have a {method}() method, got {type(obj).__name__}")

    loader = _as_loader(train_data, batch_size, shuffle, seed, fn)
    _check_targets(model, loader.X, loader.y, "train_data", fn)
    if val_data is not None:
        Xv, yv = _pair(val_data, "val_data", fn)
        Xv, yv = _check_xy(Xv, yv, 1, fn)
        _check_targets(model, Xv, yv, "val_data", fn)
    history = History(steps_per_epoch=math.ceil(len(loader) / accumulate))
    watch_acc = early_stopping is not None and getattr(early_stopping, "mode", "min") == "max"
    if watch_acc and not _is_classifier(model):
        raise ValueError(
            f"{fn}: early_stopping has mode='max' (it would watch the accuracy), but a regression "
            "model has no accuracy; use EarlyStopping(mode='min') to watch the loss"
        )

    from tqdm.auto import tqdm

    bar = tqdm(range(epochs), desc="fit", unit="epoch", disable=not progress, leave=True)
    try:
        for epoch in bar:
            for micro_batches in _groups(loader, accumulate):
                loss, grads = _accumulated_gradient(model, micro_batches)
                if clip_norm is not None:
                    norm = float(clip_grad_norm(grads, clip_norm, error_if_nonfinite=False))
                else:
                    norm = _global_norm(grads)
                history.loss.append(loss)
                history.lr.append(float(optimizer.lr))
                history.grad_norm.append(norm)
                if not (math.isfinite(loss) and math.isfinite(norm)):
                    history.diverged = True
                    break
                optimizer.step(grads)
                if scheduler is not None and scheduler_interval == "step":
                    scheduler.step()
            if history.diverged:
                warnings.warn(
                    f"fit: training diverged at step {len(history.loss)} (epoch {epoch + 1}): "
                    f"loss {history.loss[-1]}, gradient norm {history.grad_norm[-1]}; the step "
                    "was not taken and training stopped. Try a smaller learning rate or "
                    "clip_norm.",
                    stacklevel=2,
                )
                break
            if scheduler is not None and scheduler_interval == "epoch":
                scheduler.step()

            train_loss, train_acc = evaluate(model, loader.X, loader.y)
            history.train_loss.append(train_loss)
            if train_acc is not None:
                history.train_acc.append(train_acc)
            watched = train_acc if watch_acc else train_loss
            if val_data is not None:
                val_loss, val_acc = evaluate(model, Xv, yv)
                history.val_loss.append(val_loss)
                if val_acc is not None:
                    history.val_acc.append(val_acc)
                watched = val_acc if watch_acc else val_loss
            history.epochs = epoch + 1
            bar.set_postfix(_postfix(history), refresh=False)

            if early_stopping is not None:
                if early_stopping.improved(watched):
                    history.best_epoch = epoch
                if early_stopping.step(watched, model.params):
                    history.stopped_early = True
                    break
    finally:
        bar.close()
    if early_stopping is not None and early_stopping.best_params is not None:
        early_stopping.restore(model.params)  # in place: the optimizer holds the same arrays
    return history


def _postfix(history):
    post = {"loss": f"{history.train_loss[-1]:.4f}"}
    if history.train_acc:
        post["acc"] = f"{history.train_acc[-1]:.3f}"
    if history.val_loss:
        post["val_loss"] = f"{history.val_loss[-1]:.4f}"
    if history.val_acc:
        post["val_acc"] = f"{history.val_acc[-1]:.3f}"
    return post
