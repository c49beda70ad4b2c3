"""The optimizer race: run_race against hand-computed paths, and the widget driven by its controls."""

from __future__ import annotations

import base64
import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402

from course.functions import FUNCTIONS, beale, quadratic, rosenbrock, saddle  # noqa: E402
from course.widgets.optimizer_race import DEFAULT_LR, OPTIMIZERS, OptimizerRace, run_race  # noqa: E402

pytest.importorskip("ipywidgets")


# ------------------------------------------------------------------ run_race


def test_gd_on_the_quadratic_matches_the_closed_form():
    # f = 0.5 (x^2 + 10 y^2): GD multiplies x by (1 - lr) and y by (1 - 10 lr) each step.
    lr, K = 0.05, 30
    r = run_race(quadratic, {"GD": (lr, None)}, K)["GD"]
    t = np.arange(K + 1)
    x0, y0 = quadratic.w0
    expected = np.stack([x0 * (1 - lr) ** t, y0 * (1 - 10 * lr) ** t], axis=1)
    np.testing.assert_allclose(r.path, expected, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(r.loss, 0.5 * (expected[:, 0] ** 2 + 10 * expected[:, 1] ** 2), rtol=1e-12)
    assert r.stopped_at is None and r.status == ""


def test_momentum_matches_the_heavy_ball_recursion():
    # PyTorch's SGD momentum from an empty state: b_1 = g_1, b_t = mu b_{t-1} + g_t, w -= lr b.
    lr, mu, K = 1e-3, 0.9, 25
    r = run_race(rosenbrock, {"Momentum": (lr, mu)}, K)["Momentum"]
    w = np.array(rosenbrock.w0, dtype=float)
    b = None
    for k in range(1, K + 1):
        g = rosenbrock.grad(w)
        b = g if b is None else mu * b + g
        w = w - lr * b
        np.testing.assert_allclose(r.path[k], w, rtol=1e-12)


def test_first_adam_step_is_lr_times_the_sign_of_the_gradient():
    # Bias correction makes the first Adam step exactly lr * g / (|g| + eps') per coordinate.
    lr = 0.1
    r = run_race(beale, {"Adam": (lr, 0.9)}, 1)["Adam"]
    g = beale.grad(np.array(beale.w0))
    np.testing.assert_allclose(r.path[1] - r.path[0], -lr * np.sign(g), rtol=1e-6)


def test_adagrad_first_steps_by_hand():
    # s_1 = g_1^2 so step 1 is lr * sign(g_1); step 2 divides by sqrt(g_1^2 + g_2^2).
    lr = 0.5
    r = run_race(quadratic, {"AdaGrad": (lr, None)}, 2)["AdaGrad"]
    w0 = np.array(quadratic.w0)
    g1 = quadratic.grad(w0)
    w1 = w0 - lr * np.sign(g1)
    g2 = quadratic.grad(w1)
    w2 = w1 - lr * g2 / np.sqrt(g1**2 + g2**2)
    np.testing.assert_allclose(r.path, np.stack([w0, w1, w2]), rtol=1e-9)


def test_every_optimizer_runs_on_every_function_with_its_default_lr():
    for fname, objective in FUNCTIONS.items():
        settings = {name: (DEFAULT_LR[fname][name], o.extra_default) for name, o in OPTIMIZERS.items()}
        results = run_race(objective, settings, 50)
        assert list(results) == list(OPTIMIZERS)
        for name, r in results.items():
            assert r.status == "", (fname, name, r.status)
            assert r.path.shape == (51, 2) and r.loss.shape == (51,)
            np.testing.assert_array_equal(r.path[0], objective.w0)
            if objective.minimum is not None:  # each makes progress downhill
                assert r.loss[-1] < r.loss[0], (fname, name)


def test_divergence_stops_the_run_and_keeps_only_finite_points():
    # lr = 0.5 on the quadratic: y is multiplied by 1 - 10 * 0.5 = -4 each step.
    r = run_race(quadratic, {"GD": (0.5, None)}, 500)["GD"]
    assert r.status == "diverged"
    assert 1 <= r.stopped_at < 500
    assert len(r.path) == r.stopped_at and len(r.loss) == r.stopped_at
    assert np.all(np.isfinite(r.path)) and np.all(np.isfinite(r.loss))
    assert r.loss[-1] > r.loss[0]


def test_running_down_the_saddle_is_an_escape_not_a_divergence():
    r = run_race(saddle, {"GD": (0.2, None)}, 500)["GD"]
    assert r.status == "escaped"
    assert r.loss[-1] < r.loss[0]


def test_run_race_takes_a_name_and_checks_its_arguments():
    a = run_race("beale", {"RMSProp": (0.01, 0.9)}, 5)["RMSProp"]
    b = run_race(beale, {"RMSProp": (0.01, 0.9)}, 5)["RMSProp"]
    np.testing.assert_array_equal(a.path, b.path)
    with pytest.raises(ValueError, match="objective"):
        run_race("himmelblau", {"GD": (0.1, None)}, 5)
    with pytest.raises(ValueError, match="unknown optimizer"):
        run_race("beale", {"LION": (0.1, None)}, 5)
    with pytest.raises(ValueError, match="steps"):
        run_race("beale", {"GD": (0.1, None)}, -1)


# ------------------------------------------------------------------ the widget


@pytest.fixture
def race():
    r = OptimizerRace(function="quadratic", steps=40)
    yield r
    assert plt.get_fignums() == [], "the widget must not leave pyplot figures open"


def test_constructing_runs_once_and_draws_two_panels(race):
    assert race.n_updates == 1
    assert set(race.results) == {"GD", "Momentum", "AdaGrad", "RMSProp", "Adam"}
    assert len(race.fig.axes) == 2
    assert "<table" in race.summary.value and "Adam" in race.summary.value


def test_every_title_fits_inside_the_figure(race):
    """Beale's title has a sum with a sub- and superscript: it must not be clipped at the top."""
    for name in FUNCTIONS:
        race.function.value = name
        canvas = FigureCanvasAgg(race.fig)
        canvas.draw()
        renderer = canvas.get_renderer()
        for ax in race.fig.axes:
            box = ax.title.get_window_extent(renderer)
            assert box.y1 <= race.fig.bbox.y1 and box.x0 >= 0 and box.x1 <= race.fig.bbox.x1, (name, ax.get_title())


def test_the_result_table_pads_its_cells(race):
    """Not "0.000447 3.7": every cell has horizontal padding, numbers right-aligned."""
    cells = re.findall(r"<t[dh] style=\"([^\"]*)\"", race.summary.value)
    assert len(cells) == 5 * (1 + len(race.results))
    assert all("padding: 2px 12px" in style for style in cells)
    assert re.search(r'text-align: right">0\.\d', race.summary.value)


def test_the_output_shows_one_png_that_changes_with_the_controls(race):
    (first,) = race.output.outputs
    assert first["output_type"] == "display_data"
    png = base64.b64decode(first["data"]["image/png"])
    assert png.startswith(b"\x89PNG")
    race.function.value = "beale"
    (second,) = race.output.outputs
    assert second["data"]["image/png"] != first["data"]["image/png"]


def test_moving_a_learning_rate_reruns_that_optimizer(race):
    before = race.results["Adam"].path.copy()
    race.lr["Adam"].value = 0.01
    assert race.n_updates == 2
    assert race.results["Adam"].path.shape == (41, 2)
    assert not np.allclose(race.results["Adam"].path, before)
    # The first Adam step is lr * sign(g): it follows the slider.
    np.testing.assert_allclose(np.abs(race.results["Adam"].path[1] - race.results["Adam"].path[0]), 0.01, rtol=1e-6)


def test_the_second_hyper_parameter_is_used(race):
    race.enabled["AdamW"].value = True
    path_wd = race.results["AdamW"].path.copy()
    race.extra["AdamW"].value = 0.0  # AdamW without decay is Adam with the same lr
    race.lr["AdamW"].value = race.lr["Adam"].value
    np.testing.assert_allclose(race.results["AdamW"].path, race.results["Adam"].path, rtol=1e-12)
    assert not np.allclose(path_wd, race.results["AdamW"].path)


def test_changing_the_function_resets_the_learning_rates_and_reruns_once(race):
    race.lr["GD"].value = 0.001
    n = race.n_updates
    race.function.value = "rosenbrock"
    assert race.n_updates == n + 1
    for name in OPTIMIZERS:
        assert race.lr[name].value == pytest.approx(DEFAULT_LR["rosenbrock"][name], rel=1e-9)
    for r in race.results.values():
        np.testing.assert_array_equal(r.path[0], rosenbrock.w0)
    assert race.fig.axes[0].get_xlim() == rosenbrock.bounds[0]


def test_selecting_optimizers_and_steps(race):
    race.enabled["GD"].value = False
    race.enabled["Nesterov"].value = True
    assert "GD" not in race.results and "Nesterov" in race.results
    race.steps.value = 100
    assert all(len(r.path) == 101 for r in race.results.values())
    for name in list(race.results):
        race.enabled[name].value = False
    assert race.results == {}
    assert "Select at least one optimizer" in race.summary.value


def test_a_diverging_optimizer_is_marked(race):
    race.lr["GD"].value = 1.0
    r = race.results["GD"]
    assert r.status == "diverged"
    labels = [line.get_label() for line in race.fig.axes[1].get_lines()]
    assert any(label.startswith("GD (diverged at step") for label in labels)
    assert "diverged at step" in race.summary.value
    # The view stays on the function's window although the run left it.
    assert race.fig.axes[0].get_xlim() == quadratic.bounds[0]


def test_the_saddle_uses_a_symmetric_log_scale(race):
    race.function.value = "saddle"
    assert race.fig.axes[1].get_yscale() == "symlog"
    race.function.value = "beale"
    assert race.fig.axes[1].get_yscale() == "log"


def test_bad_arguments():
    with pytest.raises(ValueError, match="function"):
        OptimizerRace(function="himmelblau")
    with pytest.raises(ValueError, match="unknown optimizer"):
        OptimizerRace(optimizers=("GD", "LION"))
