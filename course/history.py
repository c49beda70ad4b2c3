"""What a training run measured (:class:`History`, returned by :func:`course.training.fit`) and
its plot (:func:`plot_history`): loss and accuracy per epoch, training and validation."""

from __future__ import annotations

from dataclasses import dataclass, field

from .backend import to_numpy

__all__ = ["History", "plot_history"]


@dataclass
class History:
    """What :func:`fit` measured. Read it like a dict: ``history["val_acc"]``.

    Per optimizer step (one entry per update):
    - loss: the training loss of the step's batch (the mean over its micro-batches' rows),
      measured in train mode *before* the update;
    - lr: the learning rate used for the update;
    - grad_norm: the global L2 norm of the gradient, before clipping.

    Per epoch (evaluated in eval mode after the epoch's last update):
    - train_loss, train_acc: on the whole training set;
    - val_loss, val_acc: on ``val_data`` (empty lists without it).
    Accuracies are fractions in [0, 1]; they stay empty for regression models (``loss="mse"``).

    Also: ``epochs`` (completed), ``steps_per_epoch``, ``stopped_early``, ``best_epoch``
    (0-based epoch whose parameters were restored by early stopping, else None) and
    ``diverged`` (the loss or gradient became NaN or infinite: that step was not taken).
    """

    loss: list = field(default_factory=list)
    lr: list = field(default_factory=list)
    grad_norm: list = field(default_factory=list)
    train_loss: list = field(default_factory=list)
    train_acc: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    val_acc: list = field(default_factory=list)
    epochs: int = 0
    steps_per_epoch: int = 0
    stopped_early: bool = False
    best_epoch: int | None = None
    diverged: bool = False

    _LISTS = ("loss", "lr", "grad_norm", "train_loss", "train_acc", "val_loss", "val_acc")

    def __getitem__(self, key):
        if key not in self._LISTS:
            raise KeyError(f"History has no list {key!r}; it has {', '.join(self._LISTS)}")
        return getattr(self, key)

    def keys(self):
        return list(self._LISTS)

    def as_dict(self) -> dict:
        """The lists as a plain dict (copies), e.g. for saving to JSON."""
        return {key: list(getattr(self, key)) for key in self._LISTS}

    def __repr__(self):
        last = ", ".join(
            f"{key}={getattr(self, key)[-1]:.4g}"
            for key in ("train_loss", "train_acc", "val_loss", "val_acc")
            if getattr(self, key)
        )
        return f"History(epochs={self.epochs}, steps={len(self.loss)}{', ' if last else ''}{last})"


def plot_history(history, ax=None):
    """Loss (and accuracy, when measured) per epoch, training and validation: one call.

    - history: a :class:`History` from :func:`fit` (or a dict with the same lists).
    - ax: None (a new figure with one panel for the loss and, for classifiers, one for the
      accuracy), one matplotlib Axes (loss only) or a sequence of two Axes.

    Returns the list of Axes drawn on.
    """
    import matplotlib.pyplot as plt

    get = history.__getitem__ if hasattr(history, "__getitem__") else history.get
    has_acc = bool(get("train_acc")) or bool(get("val_acc"))
    if ax is None:
        _, axes = plt.subplots(1, 2 if has_acc else 1, figsize=(10 if has_acc else 5, 3.5))
        axes = list(axes) if has_acc else [axes]
    elif hasattr(ax, "plot"):
        axes = [ax]
    else:
        axes = list(ax)
    panels = [("loss", "train_loss", "val_loss"), ("accuracy", "train_acc", "val_acc")]
    for axis, (label, train_key, val_key) in zip(axes, panels):
        for key, name in ((train_key, "train"), (val_key, "validation")):
            values = get(key)
            if values:
                epochs = range(1, len(values) + 1)
                axis.plot(epochs, [float(to_numpy(v)) for v in values], marker=".", label=name)
        axis.set_xlabel("epoch")
        axis.set_ylabel(label)
        axis.legend()
    return axes
