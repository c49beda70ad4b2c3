"""Gradient descent under a learning-rate slider (lesson 05).

Move the slider and gradient descent runs again from the same start, with the new learning
rate; the plot shows the loss per step (left) and the path of w on the loss surface (right),
and a line of text says which regime the run is in::

    from course.widgets.learning_rate import LearningRateExplorer

    explorer = LearningRateExplorer("quadratic", lr=0.05)
    explorer                          # in a notebook: the controls and the plot
    explorer.lr_slider.value = 0.25   # what moving the slider does: re-run and re-plot
    explorer.result["regime"]         # "divergent"

The regimes, for a loss whose largest curvature (largest Hessian eigenvalue) is L:

- "too small":  lr <= 1/L and the loss is still far from its minimum after the steps;
- "good":       lr <= 1/L and the loss got close to its minimum;
- "zig-zag":    1/L < lr < 2/L: steps overshoot the minimum along the steepest direction,
  but each overshoot is smaller than the last, so the run still converges;
- "divergent":  lr >= 2/L: each overshoot is at least as large as the last; the loss grows
  (a run is stopped as soon as it blows up, before any overflow).

Problems (``PROBLEMS``): ``"parabola"`` (1-D, f = 2 w^2, L = 4), ``"quadratic"`` (the
ill-conditioned bowl of :mod:`course.functions`, L = 10) and ``"regression"`` (fitting a line
y = w x + b to 60 points by mean squared error; the parameters are (w, b)).
"""

from __future__ import annotations

import io
import math

import numpy as np

from .lr_problems import PROBLEMS, Problem, classify, make_problem, run_gd

__all__ = ["Problem", "PROBLEMS", "make_problem", "run_gd", "classify", "LearningRateExplorer"]

_COLOURS = {"too small": "#b8860b", "good": "#2e7d32", "zig-zag": "#1565c0", "divergent": "#c62828"}


class LearningRateExplorer:
    """Gradient descent re-run and re-plotted whenever the learning rate (or the problem, or the
    number of steps) changes.

    - problem: a key of :data:`PROBLEMS` ("parabola", "quadratic" or "regression").
    - lr: the starting learning rate (default: half of 2/L, a "good" one).
    - n_steps: gradient-descent steps per run.
    - step: the update rule ``step(w, g, state, lr=lr)``, default :func:`course.optim.sgd`
      (pass your own gradient-descent step to watch it work).

    Attributes: ``lr_slider`` (FloatLogSlider), ``problem_dropdown``, ``steps_slider``,
    ``status`` (HTML), ``output`` (Output), ``widget`` (the whole box), ``problem``,
    ``result`` (the last :func:`run_gd` result plus ``regime`` and ``text``), ``figure``
    (the last matplotlib Figure) and ``n_runs`` (how many runs so far).
    """

    def __init__(self, problem="quadratic", lr=None, n_steps=30, step=None):
        import ipywidgets as w

        if step is not None and not callable(step):
            raise TypeError(f"LearningRateExplorer: step must be callable, got {type(step).__name__}")
        if isinstance(n_steps, bool) or not isinstance(n_steps, int) or not 1 <= n_steps <= 500:
            raise ValueError(f"LearningRateExplorer: n_steps must be an int in [1, 500], got {n_steps!r}")
        self.problem = make_problem(problem)
        if lr is None:
            lr = 0.5 * self.problem.lr_max
        if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not lr > 0:
            raise ValueError(f"LearningRateExplorer: lr must be a number > 0, got {lr!r}")
        self.step = step
        self.n_runs = 0
        self.result: dict = {}
        self.figure = None
        self._quiet = False  # set while several controls change at once: one run at the end

        low, high = self._exponents(self.problem)
        self.lr_slider = w.FloatLogSlider(
            value=float(np.clip(lr, 10.0**low, 10.0**high)), base=10, min=low, max=high, step=0.01,
            description="lr", readout_format=".3g", continuous_update=False,
            layout=w.Layout(width="420px"),
        )  # fmt: skip
        self.problem_dropdown = w.Dropdown(options=list(PROBLEMS), value=problem, description="problem")
        self.steps_slider = w.IntSlider(
            value=n_steps, min=1, max=200, description="steps", continuous_update=False
        )
        self.status = w.HTML()
        self.output = w.Output()
        self.widget = w.VBox(
            [w.HBox([self.problem_dropdown, self.steps_slider]), self.lr_slider, self.status, self.output]
        )
        self.lr_slider.observe(self._on_change, names="value")
        self.steps_slider.observe(self._on_change, names="value")
        self.problem_dropdown.observe(self._on_problem, names="value")
        self.update()

    @staticmethod
    def _exponents(problem: Problem) -> tuple[float, float]:
        """Slider range in powers of 10: from 2/L / 1000 to 2/L * 2 (well into divergence)."""
        top = math.log10(problem.lr_max)
        return round(top - 3, 2), round(top + math.log10(2.0), 2)

    @property
    def lr(self) -> float:
        return float(self.lr_slider.value)

    def _on_change(self, change):
        if not self._quiet:
            self.update()

    def _on_problem(self, change):
        # Keep lr at the same fraction of 2/L on the new problem; run once, at the end.
        fraction = self.lr / self.problem.lr_max
        self.problem = make_problem(change["new"])
        low, high = self._exponents(self.problem)
        self._quiet = True
        try:
            # widen first so the value is never clipped by the old range on the way
            self.lr_slider.min, self.lr_slider.max = min(low, self.lr_slider.min), max(high, self.lr_slider.max)
            self.lr_slider.value = fraction * self.problem.lr_max
            self.lr_slider.min, self.lr_slider.max = low, high
        finally:
            self._quiet = False
        self.update()

    def update(self) -> dict:
        """Run gradient descent with the current settings and redraw; returns ``result``."""
        result = run_gd(self.problem, self.lr, int(self.steps_slider.value), step=self.step)
        result["regime"], result["text"] = classify(self.problem, result)
        self.result = result
        self.n_runs += 1
        self.figure = self._draw(result)
        colour = _COLOURS[result["regime"]]
        self.status.value = f'<b style="color:{colour}">{result["text"]}</b>'
        self._show()
        return result

    # -------------------------------------------------------------------------------- drawing

    def _draw(self, result):
        from matplotlib.figure import Figure

        p = self.problem
        fig = Figure(figsize=(10, 3.8), layout="constrained")
        ax_loss, ax_path = fig.subplots(1, 2)
        colour = _COLOURS[result["regime"]]

        gap = np.maximum(result["losses"] - p.f_min, 1e-16)
        ax_loss.semilogy(np.arange(len(gap)), gap, "o-", ms=3, color=colour)
        ax_loss.set_xlim(0, max(int(self.steps_slider.value), 1))
        ax_loss.set_xlabel("step")
        ax_loss.set_ylabel(r"loss $-$ minimum (log scale)")
        ax_loss.set_title(f"lr = {result['lr']:.3g}  ({result['lr'] / p.lr_max:.2f} × 2/L):  {result['regime']}")
        ax_loss.grid(True, which="major", alpha=0.3)
        if result["diverged"]:
            ax_loss.annotate(
                f"diverged at step {result['diverged_at']}", xy=(0.5, 0.9), xycoords="axes fraction",
                ha="center", color=_COLOURS["divergent"], fontsize=12, fontweight="bold",
            )  # fmt: skip

        path = result["path"]
        if p.dim == 1:
            (lo, hi), = p.bounds
            grid = np.linspace(lo, hi, 200)
            ax_path.plot(grid, [p.value(np.array([v])) for v in grid], color="0.6")
            ys = [p.value(v) for v in path]
            ax_path.plot(path[:, 0], ys, "o-", ms=4, lw=1, color=colour)
            ax_path.set_xlim(lo, hi)
            ax_path.set_ylim(-0.5, p.value(np.array([hi])) * 1.05)
            ax_path.set_xlabel(p.names[0])
            ax_path.set_ylabel("loss")
        else:
            (x0, x1), (y0, y1) = p.bounds
            X, Y, Z = p.grid()
            levels = p.f_min + (Z.max() - p.f_min) * np.geomspace(1e-3, 1.0, 14)
            ax_path.contour(X, Y, Z, levels=levels, cmap="viridis", linewidths=0.8)
            ax_path.plot(path[:, 0], path[:, 1], "o-", ms=3, lw=1, color=colour)
            ax_path.set_xlim(x0, x1)
            ax_path.set_ylim(y0, y1)
            ax_path.set_xlabel(p.names[0])
            ax_path.set_ylabel(p.names[1])
        ax_path.plot(*([path[0, 0], p.value(path[0])] if p.dim == 1 else path[0]), "ks", ms=6, label="start")
        shown = len(path) - 1  # a run that blew up at step k shows steps 0 .. k-1: step k is off the chart
        ax_path.set_title(f"{p.title}: {shown} steps, blew up at step {result['diverged_at']}"
                          if result["diverged"] else f"{p.title}: {shown} steps")
        ax_path.legend(loc="lower right", fontsize=8)
        return fig

    def _png(self) -> bytes:
        buf = io.BytesIO()
        self.figure.savefig(buf, format="png", dpi=80)
        return buf.getvalue()

    def _show(self):
        """Put the figure into the Output widget (computed outside the ``with``, which would
        hide exceptions in a notebook)."""
        from IPython import get_ipython
        from IPython.display import Image, display

        if get_ipython() is None:  # plain Python (unit tests): nothing to display into
            return
        png = Image(data=self._png(), format="png")
        self.output.clear_output(wait=True)
        with self.output:
            display(png)

    def display(self):
        """Show the controls and the plot (the same as leaving the explorer as a cell's last value)."""
        from IPython.display import display

        display(self.widget)

    def _ipython_display_(self):
        self.display()

    def __repr__(self):
        return (
            f"LearningRateExplorer(problem={self.problem.name!r}, lr={self.lr:.3g}, "
            f"n_steps={int(self.steps_slider.value)}, runs={self.n_runs})"
        )
