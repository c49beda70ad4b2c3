"""Depth, initialisation and activation under widgets: the gradient norm per layer (lesson 09).

A deep MLP of equal-width hidden layers takes one forward and backward pass on a batch of
random inputs; the left plot shows the norm of each layer's weight gradient (log scale), the
right one the standard deviation of each layer's output. Change the depth, the initialisation,
the activation or the skip connections, and both are redrawn::

    from course.widgets.depth import DepthExplorer

    explorer = DepthExplorer(depth=20, init="small", activation="sigmoid")
    explorer                                  # in a notebook: the controls and the plots
    explorer.init.value = "he"                # what choosing "he" in the menu does
    explorer.profile["grad_norms"]            # (depth + 1,) norms, first layer first

:func:`gradient_profile` is the same computation without the widget.
"""

from __future__ import annotations

import io

import numpy as np

from ..gradients import layer_grad_norms
from ..model import MLP

__all__ = ["INITS", "ACTIVATIONS", "EXPLODING_ABOVE", "VANISHING_BELOW", "MAX_FIRST_TO_LAST", "gradient_profile",
           "verdict", "DepthExplorer"]

#: The initialisations offered: a name for the menu -> MLP's ``init`` argument.
INITS = {
    "small": 0.01,  # N(0, 0.01^2): activations and gradients vanish
    "large": 1.0,  # N(0, 1): they explode (ReLU) or saturate (tanh, sigmoid)
    "xavier": "xavier",
    "he": "he",
}
ACTIVATIONS = ("relu", "leaky_relu", "tanh", "sigmoid")


def gradient_profile(depth=10, init="he", activation="relu", residual=False, width=64, n=128, seed=0):
    """One forward and backward pass of an MLP with ``depth`` hidden layers of ``width`` units on
    ``n`` random inputs (standard normal, ``width`` features) with random labels (10 classes).

    Returns a dict: ``grad_norms`` (depth + 1,) the norm of each layer's weight gradient,
    ``act_std`` (depth + 1,) the std of each layer's output, ``loss``, and the settings.
    """
    if init not in INITS:
        raise ValueError(f"gradient_profile: init must be one of {tuple(INITS)}, got {init!r}")
    if residual and depth < 2:
        raise ValueError("gradient_profile: residual=True needs depth >= 2 (a skip around each hidden layer from "
                         f"the second on), got depth={depth!r}")
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, width))
    y = rng.integers(0, 10, size=n)
    model = MLP([width] + [width] * int(depth) + [10], activation=activation, init=INITS[init],
                residual=residual, seed=seed, track_stats=True)
    with np.errstate(all="ignore"):
        loss, grads = model.loss(X, y)
        norms = layer_grad_norms(grads)
    return {
        "grad_norms": norms,
        "act_std": np.array(model.stats["act_std"]),
        "loss": float(loss),
        "depth": int(depth),
        "init": init,
        "activation": activation,
        "residual": bool(residual),
    }


#: The thresholds of :func:`verdict`, stated in lesson 09's text (a test keeps them in step).
#: Largest norm above which the gradients explode, whatever their shape across the layers.
EXPLODING_ABOVE = 1e4
#: Largest norm below which they have vanished everywhere.
VANISHING_BELOW = 1e-6
#: How many times larger (or smaller) the first layer's norm may be than the last layer's: beyond
#: this factor the norm grows (or shrinks) geometrically on its way back through the layers.
MAX_FIRST_TO_LAST = 100.0


def verdict(norms) -> str:
    """A line saying whether the gradient norms per layer vanish, explode or stay healthy.

    Exploding: a norm is not finite, above :data:`EXPLODING_ABOVE`, or the first layer's is more than
    :data:`MAX_FIRST_TO_LAST` times the last layer's. Vanishing: every norm is below
    :data:`VANISHING_BELOW`, or the first layer's is less than 1 / :data:`MAX_FIRST_TO_LAST` of the
    last layer's. Healthy otherwise.
    """
    norms = np.asarray(norms, dtype=float)
    first, last, top = norms[0], norms[-1], np.max(norms)
    text = f"gradient norm: first layer {first:.2g}, last layer {last:.2g}"
    if not np.all(np.isfinite(norms)) or top > EXPLODING_ABOVE or first > MAX_FIRST_TO_LAST * last:
        return f"exploding: {text}"
    if top < VANISHING_BELOW or first * MAX_FIRST_TO_LAST < last:
        return f"vanishing: {text}"
    return f"healthy: {text}"


class DepthExplorer:
    """Gradient norms per layer, redrawn when a control changes.

    Controls: ``depth`` (IntSlider, 2 .. 30 hidden layers), ``init`` (Dropdown of :data:`INITS`),
    ``activation`` (Dropdown of :data:`ACTIVATIONS`), ``residual`` (Checkbox). Attributes:
    ``profile`` (the last :func:`gradient_profile`), ``figure``, ``status`` (HTML), ``widget``,
    ``n_runs``.
    """

    def __init__(self, depth=10, init="he", activation="relu", residual=False):
        import ipywidgets as w

        self.depth = w.IntSlider(value=depth, min=2, max=30, description="depth", continuous_update=False)
        self.init = w.Dropdown(options=list(INITS), value=init, description="init")
        self.activation = w.Dropdown(options=list(ACTIVATIONS), value=activation, description="activation")
        self.residual = w.Checkbox(value=residual, description="skip connections")
        self.status = w.HTML()
        self.output = w.Output()
        self.widget = w.VBox([w.HBox([self.depth, self.init]), w.HBox([self.activation, self.residual]),
                              self.status, self.output])
        self._quiet = False  # set while several controls change at once: one run at the end
        for control in (self.depth, self.init, self.activation, self.residual):
            control.observe(self._on_change, names="value")
        self.n_runs = 0
        self.profile: dict = {}
        self.figure = None
        self.update()

    def _on_change(self, change):
        if not self._quiet:
            self.update()

    def set(self, **values) -> dict:
        """Change several controls at once (``depth=``, ``init=``, ``activation=``, ``residual=``),
        as if chosen with the mouse, and recompute once; returns ``profile``."""
        unknown = [name for name in values if name not in ("depth", "init", "activation", "residual")]
        if unknown:
            raise ValueError(f"DepthExplorer.set: no control {unknown[0]!r}; the controls are depth, init, "
                             "activation and residual")
        self._quiet = True
        try:
            for name, value in values.items():
                getattr(self, name).value = value
        finally:
            self._quiet = False
        return self.update()

    def update(self) -> dict:
        """Recompute the profile with the current settings and redraw it; returns ``profile``."""
        p = gradient_profile(int(self.depth.value), self.init.value, self.activation.value, bool(self.residual.value))
        self.profile, self.n_runs = p, self.n_runs + 1
        self.status.value = f"<b>{verdict(p['grad_norms'])}</b>"
        self.figure = self._draw(p)
        self._show()
        return p

    def _draw(self, p):
        from matplotlib.figure import Figure

        fig = Figure(figsize=(10, 3.6), layout="constrained")
        ax_g, ax_a = fig.subplots(1, 2)
        layers = np.arange(1, len(p["grad_norms"]) + 1)
        with np.errstate(all="ignore"):
            ax_g.semilogy(layers, np.where(p["grad_norms"] > 0, p["grad_norms"], np.nan), "o-", ms=3)
            ax_a.semilogy(layers, np.where(p["act_std"] > 0, p["act_std"], np.nan), "o-", ms=3, color="tab:orange")
        skip = ", skip connections" if p["residual"] else ""
        ax_g.set(xlabel="layer (input side on the left)", ylabel="norm of dL/dW (log)",
                 title=f"{p['depth']} hidden layers, {p['activation']}, init {p['init']}{skip}")
        ax_a.set(xlabel="layer", ylabel="std of the layer's output (log)", title="activations")
        for ax in (ax_g, ax_a):
            ax.grid(True, alpha=0.3)
        return fig

    def _show(self):
        from IPython import get_ipython
        from IPython.display import Image, display

        if get_ipython() is None:
            return
        buf = io.BytesIO()
        self.figure.savefig(buf, format="png", dpi=80)
        self.output.clear_output(wait=True)
        with self.output:
            display(Image(data=buf.getvalue(), format="png"))

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)

    def __repr__(self):
        return (f"DepthExplorer(depth={self.depth.value}, init={self.init.value!r}, "
                f"activation={self.activation.value!r}, residual={self.residual.value}, runs={self.n_runs})")
