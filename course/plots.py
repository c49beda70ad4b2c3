"""Small matplotlib helpers shared by the optimizer and schedule lessons.

- :func:`plot_contour`: the contour plot of a 2-D test function from :mod:`course.functions`
  (log-spaced levels when the function is >= 0), its minimum marked with a star.
- :func:`plot_paths`: that contour plot with optimizer paths on it, clipped to the function's
  plotting window (a path that leaves it simply runs off the edge).
- :func:`plot_curves`: several curves (losses, learning rates) against the step on one Axes,
  on a log scale by default.
- :func:`plot_runs`: one panel per quantity (e.g. ``"lr"`` and ``"loss"``), one line per run,
  side by side: how the lessons compare trainings under different optimizers or schedules.

Every helper takes an optional ``ax`` (a new figure when None) and returns what it drew on, so
that lessons and widgets can compose them. Inputs may be NumPy or CuPy arrays or lists.
"""

from __future__ import annotations

import numpy as np

from .backend import to_numpy

__all__ = ["plot_contour", "plot_paths", "plot_curves", "plot_runs", "color_for", "smooth"]

#: One colour per name, stable across the lessons' plots (matplotlib's default cycle).
_PALETTE = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown", "tab:pink",
            "tab:gray", "tab:olive", "tab:cyan")
_NAMED = {
    "GD": "tab:gray", "Momentum": "tab:blue", "Nesterov": "tab:cyan", "AdaGrad": "tab:orange",
    "RMSProp": "tab:green", "Adam": "tab:red", "AdamW": "tab:purple",
}  # fmt: skip


def color_for(name, index=0):
    """The colour the lessons use for ``name`` (an optimizer's name), else the index-th default."""
    return _NAMED.get(name, _PALETTE[index % len(_PALETTE)])


def _new_ax(ax, figsize):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=figsize)
    return ax


def plot_contour(objective, ax=None, n=150, levels=25, cmap="viridis"):
    """Draw the contour plot of a test function over its plotting window ``objective.bounds``.

    - objective: a :class:`course.functions.Objective` (e.g. ``course.functions.rosenbrock``).
    - n: grid points per axis; levels: number of contour lines.

    When the function is >= 0 on the window (quadratic, Rosenbrock, Beale) the levels are
    log-spaced, so the flat valley floor shows as well as the steep walls; otherwise (the
    saddle) they are evenly spaced. The minimum, if any, is a white star. Returns the Axes.
    """
    ax = _new_ax(ax, (5, 4))
    X, Y, Z = objective.grid(n)
    z_min, z_max = float(np.min(Z)), float(np.max(Z))
    if z_min >= 0:
        low = max(z_min, z_max * 1e-6, 1e-6)
        lv = np.geomspace(low, z_max, levels)
    else:
        lv = np.linspace(z_min, z_max, levels)
    ax.contour(X, Y, Z, levels=lv, cmap=cmap, linewidths=0.8, alpha=0.8)
    if objective.minimum is not None:
        ax.plot(*objective.minimum, marker="*", markersize=14, color="white", markeredgecolor="black",
                linestyle="none", zorder=5)
    (x0, x1), (y0, y1) = objective.bounds
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title(objective.formula)
    return ax


def plot_paths(objective, paths, ax=None, contour=True, markers=True, legend=True):
    """Optimizer paths on the contour plot of ``objective``.

    - paths: dict name -> (K + 1, 2) array of points (row 0 the start), e.g. from
      :func:`course.functions.run_optimizer`. Non-finite rows (a diverged run) are dropped.
    - contour: draw the contour plot first (False: draw on what ``ax`` already shows).
    - markers: a dot on every point (paths of a few hundred steps read better without).
    - legend: draw a legend of the path names.

    The view stays on ``objective.bounds``: paths that leave the window are clipped. The start
    is a black circle. Returns the Axes.
    """
    ax = _new_ax(ax, (5, 4))
    if contour:
        plot_contour(objective, ax=ax)
    start = None
    for i, (name, path) in enumerate(paths.items()):
        p = np.asarray(to_numpy(path), dtype=float)
        if p.ndim != 2 or p.shape[1] != 2:
            raise ValueError(f"plot_paths: paths[{name!r}] must have shape (K + 1, 2), got {p.shape}")
        p = p[np.all(np.isfinite(p), axis=1)]
        if len(p) == 0:
            continue
        start = p[0] if start is None else start
        ax.plot(p[:, 0], p[:, 1], color=color_for(name, i), label=name, linewidth=1.5,
                marker="." if markers else None, markersize=3)
    if start is not None:
        ax.plot(*start, marker="o", color="black", linestyle="none", zorder=6)
    (x0, x1), (y0, y1) = objective.bounds
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    if paths and legend:
        ax.legend(loc="best", fontsize="small")
    return ax


def _as_1d(values):
    """A sequence of numbers (list of scalars of any backend, or an array) as a float NumPy vector."""
    if isinstance(values, (list, tuple)):
        return np.array([float(to_numpy(x)) for x in values], dtype=float)
    return np.asarray(to_numpy(values), dtype=float).reshape(-1)


def smooth(values, window):
    """Moving average over ``window`` points (a shorter window at the start), for noisy losses."""
    v = _as_1d(values)
    if not isinstance(window, int) or window < 1:
        raise ValueError(f"smooth: window must be an int >= 1, got {window!r}")
    c = np.cumsum(np.insert(v, 0, 0.0))
    idx = np.arange(1, len(v) + 1)
    lo = np.maximum(idx - window, 0)
    return (c[idx] - c[lo]) / (idx - lo)


def plot_curves(curves, ax=None, log=True, xlabel="step", ylabel="loss", title=None, window=1):
    """Several curves against the step on one Axes.

    - curves: dict name -> 1-D sequence (lists or arrays; their lengths may differ).
    - log: log-scale y axis (values <= 0 cannot be shown there: they are left out).
    - window: moving-average window (1: raw values), for noisy mini-batch losses.

    Returns the Axes.
    """
    ax = _new_ax(ax, (5, 4))
    for i, (name, values) in enumerate(curves.items()):
        v = _as_1d(values)
        if window > 1:
            v = smooth(v, window)
        if log:
            v = np.where(v > 0, v, np.nan)
        ax.plot(np.arange(len(v)), v, color=color_for(name, i), label=name, linewidth=1.5)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    if curves:
        ax.legend(loc="best", fontsize="small")
    return ax


def plot_runs(runs, keys=("lr", "loss"), log=None, axes=None, window=1, xlabel="step"):
    """Compare runs side by side: one panel per key, one line per run.

    - runs: dict name -> run, where a run is a :class:`course.training.History` or a dict of
      lists (e.g. ``{"lr": [...], "loss": [...]}``).
    - keys: the quantities to plot, one panel each, left to right.
    - log: keys whose panel gets a log-scale y axis (default: every key except ``"lr"``,
      and except accuracies, ``"*_acc"``).
    - window: moving-average window applied to every key except ``"lr"``.

    Returns the list of Axes.
    """
    keys = list(keys)
    if not keys:
        raise ValueError("plot_runs: keys must name at least one quantity, got none")
    if log is None:
        log = [k for k in keys if k != "lr" and not k.endswith("acc")]
    if axes is None:
        import matplotlib.pyplot as plt

        _, axes = plt.subplots(1, len(keys), figsize=(5 * len(keys), 3.6), squeeze=False)
        axes = list(axes[0])
    axes = list(axes)
    if len(axes) != len(keys):
        raise ValueError(f"plot_runs: got {len(axes)} Axes for {len(keys)} keys")
    for ax, key in zip(axes, keys):
        curves = {}
        for name, run in runs.items():
            curves[name] = _as_1d(run[key])
        plot_curves(curves, ax=ax, log=key in log, ylabel=key, xlabel=xlabel,
                    window=1 if key == "lr" else window)
        if not any(np.isfinite(c).any() for c in curves.values()):
            ax.set_title(f"{key}: nothing finite to show")
    return axes
