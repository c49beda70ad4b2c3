"""The shared plotting helpers: what they draw, checked on the Axes."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from course.functions import rosenbrock, saddle  # noqa: E402
from course.plots import plot_contour, plot_curves, plot_paths, plot_runs, smooth  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_contour_window_title_and_minimum():
    ax = plot_contour(rosenbrock)
    assert ax.get_xlim() == rosenbrock.bounds[0] and ax.get_ylim() == rosenbrock.bounds[1]
    stars = [line for line in ax.get_lines() if line.get_marker() == "*"]
    assert len(stars) == 1 and tuple(stars[0].get_xydata()[0]) == rosenbrock.minimum
    assert ax.get_title() == rosenbrock.formula


def test_contour_of_a_function_without_minimum():
    ax = plot_contour(saddle)
    assert not [line for line in ax.get_lines() if line.get_marker() == "*"]


def test_paths_drop_non_finite_points_and_keep_the_window():
    good = np.array([[-1.2, 1.0], [-1.0, 1.1], [0.0, 0.5]])
    bad = np.array([[-1.2, 1.0], [50.0, 60.0], [np.inf, np.nan]])
    ax = plot_paths(rosenbrock, {"GD": good, "Adam": bad})
    lines = {line.get_label(): line for line in ax.get_lines()}
    np.testing.assert_array_equal(lines["GD"].get_xydata(), good)
    np.testing.assert_array_equal(lines["Adam"].get_xydata(), bad[:2])
    assert ax.get_xlim() == rosenbrock.bounds[0]
    assert ax.get_legend() is not None


def test_paths_check_their_shape():
    with pytest.raises(ValueError, match="shape"):
        plot_paths(rosenbrock, {"GD": np.zeros((4, 3))})


def test_smooth_by_hand():
    np.testing.assert_allclose(smooth([1.0, 3.0, 5.0, 7.0], 2), [1.0, 2.0, 4.0, 6.0])
    np.testing.assert_allclose(smooth([2.0, 4.0], 1), [2.0, 4.0])
    with pytest.raises(ValueError, match="window"):
        smooth([1.0], 0)


def test_curves_on_a_log_scale_leave_out_non_positive_values():
    ax = plot_curves({"a": [1.0, 0.1, 0.0, 0.01], "b": np.array([2.0, 1.0])})
    assert ax.get_yscale() == "log"
    y = ax.get_lines()[0].get_ydata()
    assert np.isnan(y[2]) and y[3] == 0.01
    assert len(ax.get_lines()[1].get_ydata()) == 2


def test_runs_side_by_side():
    runs = {"constant": {"lr": [0.1] * 5, "loss": [1.0, 0.5, 0.3, 0.2, 0.1]},
            "step": {"lr": [0.1, 0.1, 0.01, 0.01, 0.01], "loss": [1.0, 0.6, 0.5, 0.45, 0.4]}}
    axes = plot_runs(runs)
    assert len(axes) == 2
    assert axes[0].get_yscale() == "linear" and axes[1].get_yscale() == "log"
    assert [line.get_label() for line in axes[0].get_lines()] == ["constant", "step"]
    np.testing.assert_allclose(axes[1].get_lines()[1].get_ydata(), runs["step"]["loss"])
    with pytest.raises(ValueError, match="keys"):
        plot_runs(runs, keys=())
    with pytest.raises(ValueError, match="Axes"):
        plot_runs(runs, axes=[axes[0]])
