"""The optimizer race (lesson 07): several optimizers start from the same point of a 2-D test
function; their paths are drawn on the contour plot and their losses side by side.

::

    from course.widgets.optimizer_race import OptimizerRace
    race = OptimizerRace()                      # a VBox: the last line of a cell displays it
    race
    race.function.value = "beale"               # every control can be set from code as well
    race.lr["Adam"].value = 0.05
    race.results["Adam"].loss[-1]               # what the last update computed

Controls: ``function`` (Dropdown over :data:`course.functions.FUNCTIONS`), ``steps``
(IntSlider) and, per optimizer, ``enabled[name]`` (Checkbox), ``lr[name]`` (FloatLogSlider) and
``extra[name]`` (FloatSlider for its second hyper-parameter, or None). Choosing another function
resets the learning rates to ones that suit it (:data:`DEFAULT_LR`). Any change re-runs every
selected optimizer from the function's default start ``w0`` (:meth:`OptimizerRace.update`).

The computation is :func:`run_race` (no widgets, usable on its own); the update rules are the
pure functions of :mod:`course.optim` (GD, momentum and Nesterov are :func:`course.optim.sgd`).
A run that blows up stops there and is marked: "diverged" when the loss grew past its starting
value (or overflowed), "escaped" when it left far beyond the window going downhill (the saddle
has no minimum: running away along y is the right thing to do there).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..functions import FUNCTIONS
from ..optim import adagrad, adam, adamw, rmsprop, sgd
from ..plots import color_for, plot_paths

__all__ = ["OPTIMIZERS", "DEFAULT_LR", "Racer", "RaceResult", "run_race", "OptimizerRace"]


@dataclass(frozen=True)
class Racer:
    """One optimizer of the race: its update ``rule(w, g, state, lr, extra)`` and the name,
    default and range of its second hyper-parameter (``extra``; None when it has none)."""

    name: str
    rule: Callable
    extra_name: str | None = None
    extra_default: float = 0.0
    extra_range: tuple = (0.0, 1.0)


OPTIMIZERS = {
    r.name: r
    for r in (
        Racer("GD", lambda w, g, s, lr, _: sgd(w, g, s, lr=lr)),
        Racer("Momentum", lambda w, g, s, lr, mu: sgd(w, g, s, lr=lr, momentum=mu), "momentum", 0.9, (0.0, 0.99)),
        Racer("Nesterov", lambda w, g, s, lr, mu: sgd(w, g, s, lr=lr, momentum=mu, nesterov=True),
              "momentum", 0.9, (0.01, 0.99)),
        Racer("AdaGrad", lambda w, g, s, lr, _: adagrad(w, g, s, lr=lr)),
        Racer("RMSProp", lambda w, g, s, lr, a: rmsprop(w, g, s, lr=lr, alpha=a), "alpha", 0.9, (0.5, 0.999)),
        Racer("Adam", lambda w, g, s, lr, b1: adam(w, g, s, lr=lr, betas=(b1, 0.999)), "beta1", 0.9, (0.0, 0.99)),
        Racer("AdamW", lambda w, g, s, lr, wd: adamw(w, g, s, lr=lr, weight_decay=wd),
              "weight_decay", 0.1, (0.0, 1.0)),
    )
}  # fmt: skip

#: Learning rates that make a fair race on each function (200 steps from its ``w0``).
DEFAULT_LR = {
    "quadratic": {"GD": 0.15, "Momentum": 0.03, "Nesterov": 0.03, "AdaGrad": 1.0, "RMSProp": 0.1,
                  "Adam": 0.3, "AdamW": 0.3},
    "rosenbrock": {"GD": 1e-3, "Momentum": 1e-3, "Nesterov": 1e-3, "AdaGrad": 0.3, "RMSProp": 0.01,
                   "Adam": 0.1, "AdamW": 0.1},
    "beale": {"GD": 0.01, "Momentum": 1e-3, "Nesterov": 1e-3, "AdaGrad": 0.3, "RMSProp": 0.01,
              "Adam": 0.1, "AdamW": 0.1},
    "saddle": {"GD": 0.01, "Momentum": 3e-3, "Nesterov": 3e-3, "AdaGrad": 0.1, "RMSProp": 0.01,
               "Adam": 0.01, "AdamW": 0.01},
}  # fmt: skip

DEFAULT_SELECTED = ("GD", "Momentum", "AdaGrad", "RMSProp", "Adam")


@dataclass
class RaceResult:
    """One optimizer's run: ``path`` (K + 1, 2) with row 0 the start, ``loss`` (K + 1,) the
    function's value at each point, ``stopped_at`` (the step after which the run was stopped,
    None if it ran all its steps) and ``status`` ("", "diverged" or "escaped")."""

    path: np.ndarray
    loss: np.ndarray
    stopped_at: int | None = None
    status: str = ""


def _far(objective):
    """How far from the window's centre a run may go before it is stopped (100 window sizes)."""
    (x0, x1), (y0, y1) = objective.bounds
    return 100 * max(x1 - x0, y1 - y0) + max(abs(x0), abs(x1), abs(y0), abs(y1))


def run_race(objective, settings, steps, w0=None):
    """Run several optimizers on ``objective`` from the same start.

    - objective: a :class:`course.functions.Objective` or a name in :data:`course.functions.FUNCTIONS`.
    - settings: dict optimizer name (a key of :data:`OPTIMIZERS`) -> ``(lr, extra)``, extra being
      the value of its second hyper-parameter (ignored by those without one).
    - steps: number of updates (int >= 0); w0: the start (default ``objective.w0``).

    Returns dict name -> :class:`RaceResult`. A run stops early when its point is no longer
    finite or leaves far beyond the plotting window.
    """
    fn = "run_race"
    if isinstance(objective, str):
        if objective not in FUNCTIONS:
            raise ValueError(f"{fn}: objective must be one of {', '.join(FUNCTIONS)}, got {objective!r}")
        objective = FUNCTIONS[objective]
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
        raise ValueError(f"{fn}: steps must be an int >= 0, got {steps!r}")
    unknown = [name for name in settings if name not in OPTIMIZERS]
    if unknown:
        raise ValueError(f"{fn}: unknown optimizer(s) {unknown}; choose from {', '.join(OPTIMIZERS)}")
    start = np.array(objective.w0 if w0 is None else w0, dtype=np.float64)
    far = _far(objective)
    results = {}
    for name, (lr, extra) in settings.items():
        rule = OPTIMIZERS[name].rule
        w, state = start.copy(), {}
        path, loss = [start.copy()], [float(objective.value(start))]
        stopped_at, status = None, ""
        # A runaway run overflows on purpose: errors are detected below, not warned about.
        with np.errstate(all="ignore"):
            for k in range(1, steps + 1):
                rule(w, objective.grad(w), state, lr, extra)
                f = float(objective.value(w))
                if not (np.all(np.isfinite(w)) and np.isfinite(f) and np.max(np.abs(w)) <= far):
                    stopped_at = k
                    status = "escaped" if np.isfinite(f) and f < loss[0] else "diverged"
                    break
                path.append(w.copy())
                loss.append(f)
        results[name] = RaceResult(np.array(path), np.array(loss), stopped_at, status)
    return results


def _png_output(fig, dpi=90):
    """A figure as one display_data output (PNG), the form an ipywidgets.Output holds."""
    import base64
    import io

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    png = base64.b64encode(buffer.getvalue()).decode("ascii")
    return {"output_type": "display_data", "data": {"image/png": png, "text/plain": repr(fig)}, "metadata": {}}


class OptimizerRace:
    """The race as an ipywidgets panel; display it with ``display(race)`` or as a cell's last line.

    Attributes: the controls (see the module docstring), ``output`` (the ipywidgets.Output that
    shows the figure: its ``outputs`` hold one PNG, replaced at each update), ``summary`` (an
    HTML table of the final losses), ``results`` (the last :func:`run_race` result), ``fig``
    (the last matplotlib Figure) and ``n_updates`` (how many times :meth:`update` has run: 1
    after construction).
    """

    def __init__(self, function="rosenbrock", optimizers=DEFAULT_SELECTED, steps=200):
        import ipywidgets as widgets

        if function not in FUNCTIONS:
            raise ValueError(f"OptimizerRace: function must be one of {', '.join(FUNCTIONS)}, got {function!r}")
        unknown = [name for name in optimizers if name not in OPTIMIZERS]
        if unknown:
            raise ValueError(f"OptimizerRace: unknown optimizer(s) {unknown}; choose from {', '.join(OPTIMIZERS)}")
        self.n_updates = 0
        self.results = {}
        self.fig = None
        self._hold = True  # no re-run while the controls are being built or reset
        self.function = widgets.Dropdown(options=list(FUNCTIONS), value=function, description="function")
        self.steps = widgets.IntSlider(value=steps, min=10, max=2000, step=10, description="steps",
                                       continuous_update=False)
        self.enabled, self.lr, self.extra = {}, {}, {}
        rows = []
        for name, racer in OPTIMIZERS.items():
            self.enabled[name] = widgets.Checkbox(value=name in optimizers, description=name, indent=False,
                                                  layout=widgets.Layout(width="100px"))
            self.lr[name] = widgets.FloatLogSlider(
                value=DEFAULT_LR[function][name], base=10, min=-4, max=0.5, step=0.05, description="lr",
                readout_format=".2g", continuous_update=False, layout=widgets.Layout(width="300px"),
            )
            row = [self.enabled[name], self.lr[name]]
            if racer.extra_name is None:
                self.extra[name] = None
            else:
                lo, hi = racer.extra_range
                self.extra[name] = widgets.FloatSlider(
                    value=racer.extra_default, min=lo, max=hi, step=0.01 if hi - lo > 0.1 else 0.001,
                    description=racer.extra_name, readout_format=".3g", continuous_update=False,
                    style={"description_width": "initial"}, layout=widgets.Layout(width="300px"),
                )
                row.append(self.extra[name])
            rows.append(widgets.HBox(row))
        self.output = widgets.Output()
        self.summary = widgets.HTML()
        self.widget = widgets.VBox([
            widgets.HBox([self.function, self.steps]),
            widgets.VBox(rows),
            self.output,
            self.summary,
        ])  # fmt: skip
        self.function.observe(self._on_function, names="value")
        for control in [self.steps, *self.enabled.values(), *self.lr.values(), *self.extra.values()]:
            if control is not None:
                control.observe(self._on_change, names="value")
        self._hold = False
        self.update()

    # -- display: the panel is self.widget
    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    def _on_change(self, change):
        if not self._hold:
            self.update()

    def _on_function(self, change):
        """A new function: its own learning rates, then one re-run."""
        self._hold = True
        try:
            for name, value in DEFAULT_LR[change["new"]].items():
                self.lr[name].value = value
        finally:
            self._hold = False
        self.update()

    def settings(self):
        """dict name -> (lr, extra) of the selected optimizers, as :func:`run_race` takes it."""
        return {
            name: (self.lr[name].value, None if self.extra[name] is None else self.extra[name].value)
            for name in OPTIMIZERS
            if self.enabled[name].value
        }

    def update(self):
        """Re-run every selected optimizer and redraw the paths, the losses and the summary."""
        objective = FUNCTIONS[self.function.value]
        self.results = run_race(objective, self.settings(), self.steps.value)
        self.fig = self._draw(objective)
        self.summary.value = self._table(objective)
        # Replace the Output's content in one assignment (no capture with `with output:`): the
        # same in JupyterLab, in a notebook run headless and without a kernel (unit tests).
        self.output.outputs = (_png_output(self.fig),)
        self.n_updates += 1

    def _draw(self, objective):
        from matplotlib.figure import Figure  # not pyplot: no figure is left open behind the widget

        # constrained layout makes room for tall titles (Beale's sum has an exponent and a subscript)
        fig = Figure(figsize=(11, 4.2), layout="constrained")
        ax_path, ax_loss = fig.subplots(1, 2)
        plot_paths(objective, {name: r.path for name, r in self.results.items()}, ax=ax_path,
                   markers=self.steps.value <= 300, legend=False)
        has_min = objective.minimum is not None
        f_min = float(objective.value(np.array(objective.minimum))) if has_min else 0.0
        top = None
        for name, r in self.results.items():
            color = color_for(name)
            label = name if not r.status else f"{name} ({r.status} at step {r.stopped_at})"
            gap = r.loss - f_min
            if has_min:
                gap = np.where(gap > 0, gap, np.nan)  # exactly at the minimum: off the log scale
            ax_loss.plot(np.arange(len(gap)), gap, color=color, label=label)
            if r.status:
                last = np.clip(r.path[-1], [b[0] for b in objective.bounds], [b[1] for b in objective.bounds])
                ax_path.plot(*last, marker="X", markersize=11, color=color, markeredgecolor="black", zorder=7)
                ax_loss.plot(len(gap) - 1, gap[-1], marker="X", markersize=10, color=color, markeredgecolor="black")
            top = gap[0] if top is None else max(top, gap[0])
        if has_min:
            ax_loss.set_yscale("log")
            ax_loss.set_ylabel("f(w) - f(w*)  (log scale)")
            if top is not None and np.isfinite(top) and top > 0:
                ax_loss.set_ylim(top=top * 1e3)  # clip runaway losses: the interesting part stays visible
        else:
            ax_loss.set_yscale("symlog", linthresh=1e-2)
            ax_loss.set_ylabel("f(w)  (symmetric log scale)")
        ax_loss.set_xlabel("step")
        ax_loss.set_xlim(0, self.steps.value)
        ax_loss.set_title("loss")
        if self.results:
            ax_loss.legend(loc="best", fontsize="small")
        return fig

    def _table(self, objective):
        if not self.results:
            return "<i>Select at least one optimizer.</i>"
        # Inline styles: an HTML widget gets none of the notebook's table styling.
        cell = '<{tag} style="padding: 2px 12px; text-align: {align}">{text}</{tag}>'
        aligns = ("left", "right", "right", "right", "left")

        def row(tag, texts):
            return "<tr>" + "".join(cell.format(tag=tag, align=a, text=t) for a, t in zip(aligns, texts)) + "</tr>"

        rows = [row("th", ("optimizer", "lr", "final f(w)", "final w", ""))]
        for name, r in self.results.items():
            x, y = r.path[-1]
            note = f"{r.status} at step {r.stopped_at}" if r.status else ""
            lr, loss = f"{self.lr[name].value:.3g}", f"{r.loss[-1]:.3g}"
            rows.append(row("td", (name, lr, loss, f"({x:.3f}, {y:.3f})", note)))
        where = f"minimum at {objective.minimum}" if objective.minimum is not None else "no minimum"
        table = '<table style="border-collapse: collapse">' + "".join(rows) + "</table>"
        return f"{table}<small>{objective.name}: {where}</small>"
