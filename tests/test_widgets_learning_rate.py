"""The learning-rate explorer (course.widgets.learning_rate), driven by setting its controls."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("ipywidgets")

from course.widgets.learning_rate import (  # noqa: E402
    PROBLEMS,
    LearningRateExplorer,
    classify,
    make_problem,
    run_gd,
)


@pytest.mark.parametrize("name", list(PROBLEMS))
def test_threshold_two_over_L_separates_convergence_from_divergence(name):
    p = make_problem(name)
    below = run_gd(p, 0.95 * p.lr_max, 200)
    above = run_gd(p, 1.2 * p.lr_max, 200)
    assert not below["diverged"] and below["losses"][-1] < below["losses"][0]
    assert above["diverged"] and above["diverged_at"] <= 200
    # stopped before overflow: every recorded value is finite
    assert np.all(np.isfinite(above["losses"])) and np.all(np.isfinite(above["path"]))


def test_run_gd_matches_hand_computed_steps_on_the_parabola():
    p = make_problem("parabola")  # f = 2 w^2, f' = 4 w: w_{t+1} = (1 - 4 lr) w_t
    r = run_gd(p, 0.1, 3)
    np.testing.assert_allclose(r["path"][:, 0], 2.0 * 0.6 ** np.arange(4))
    np.testing.assert_allclose(r["losses"], 2 * (2.0 * 0.6 ** np.arange(4)) ** 2)


def test_curvatures_of_the_regression_problem_are_its_hessian_eigenvalues():
    p = make_problem("regression")
    h = 1e-5
    H = np.array([[(p.grad(p.w0 + h * e)[i] - p.grad(p.w0 - h * e)[i]) / (2 * h) for e in np.eye(2)]
                  for i in range(2)])
    np.testing.assert_allclose(np.linalg.eigvalsh(H), [p.mu, p.L], rtol=1e-6)
    X, Y, Z = p.grid(20)
    np.testing.assert_allclose(Z[3, 5], p.value(np.array([X[3, 5], Y[3, 5]])), rtol=1e-12)


@pytest.mark.parametrize(
    ("fraction", "regime"),
    [(0.001, "too small"), (0.4, "good"), (0.8, "zig-zag"), (1.0, "divergent"), (1.5, "divergent")],
)
def test_classify_names_the_regime(fraction, regime):
    p = make_problem("quadratic")
    r = run_gd(p, fraction * p.lr_max, 30)
    assert classify(p, r)[0] == regime


def test_moving_the_slider_reruns_and_replots():
    e = LearningRateExplorer("quadratic", lr=0.05, n_steps=25)
    assert e.n_runs == 1 and e.result["regime"] in ("good", "too small")
    old_losses = e.figure.axes[0].lines[0].get_ydata().copy()
    e.lr_slider.value = 0.3  # what a learner's drag does
    assert e.n_runs == 2
    assert e.result["lr"] == pytest.approx(0.3)
    assert e.result["diverged"] and e.result["regime"] == "divergent"
    assert "divergent" in e.status.value
    new_losses = e.figure.axes[0].lines[0].get_ydata()
    assert len(new_losses) != len(old_losses) or not np.allclose(new_losses, old_losses)
    assert any("diverged" in t.get_text() for t in e.figure.axes[0].texts)


def test_steps_slider_and_problem_dropdown_rerun_once():
    e = LearningRateExplorer("quadratic", lr=0.1)
    e.steps_slider.value = 12
    assert e.n_runs == 2 and len(e.result["path"]) == 13
    fraction = e.lr / e.problem.lr_max
    e.problem_dropdown.value = "parabola"
    assert e.n_runs == 3  # one run, not one per changed control
    assert e.problem.name == "parabola" and e.result["path"].shape[1] == 1
    assert e.lr / e.problem.lr_max == pytest.approx(fraction, rel=0.03)  # same fraction of 2/L
    e.problem_dropdown.value = "regression"
    assert e.result["path"].shape[1] == 2 and e.n_runs == 4


def test_update_and_png_render_without_a_notebook():
    e = LearningRateExplorer("parabola", lr=0.3)
    before = e.n_runs
    e.update()
    assert e.n_runs == before + 1
    assert e._png()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "LearningRateExplorer(problem='parabola'" in repr(e)


def test_a_learner_step_function_is_used():
    calls = []

    def my_step(w, g, state, *, lr):
        calls.append(lr)
        w -= lr * g
        return w

    e = LearningRateExplorer("quadratic", lr=0.05, n_steps=10, step=my_step)
    assert calls == [0.05] * 10
    np.testing.assert_allclose(e.result["path"], run_gd(make_problem("quadratic"), 0.05, 10)["path"])


def test_bad_arguments_are_rejected():
    with pytest.raises(ValueError, match="problem"):
        LearningRateExplorer("banana")
    with pytest.raises(ValueError, match="lr"):
        LearningRateExplorer("quadratic", lr=-1.0)
    with pytest.raises(ValueError, match="n_steps"):
        LearningRateExplorer("quadratic", n_steps=0)
    with pytest.raises(TypeError, match="step"):
        LearningRateExplorer("quadratic", step=3)


def test_a_divergent_run_tells_the_same_step_in_text_and_title():
    """The sentence says "blew up at step k": the path title says the same, and shows k - 1 steps."""
    e = LearningRateExplorer("quadratic", lr=0.6, n_steps=30)
    k = e.result["diverged_at"]
    assert e.result["diverged"] and f"blew up at step {k}" in e.result["text"]
    title = e.figure.axes[1].get_title()
    assert title.endswith(f"{k - 1} steps, blew up at step {k}"), title
    assert len(e.result["path"]) - 1 == k - 1
