"""The depth explorer (course.widgets.depth), driven by setting its controls."""

import numpy as np
import pytest

pytest.importorskip("ipywidgets")

from course.widgets.depth import DepthExplorer, gradient_profile, verdict  # noqa: E402


def test_profiles_vanish_explode_and_stay_healthy():
    assert verdict(gradient_profile(20, "small", "sigmoid")["grad_norms"]).startswith("vanishing")
    assert verdict(gradient_profile(20, "large", "relu")["grad_norms"]).startswith("exploding")
    healthy = gradient_profile(20, "he", "relu")
    assert verdict(healthy["grad_norms"]).startswith("healthy")
    assert healthy["grad_norms"].shape == healthy["act_std"].shape == (21,)


def test_skip_connections_rescue_a_vanishing_stack():
    plain = gradient_profile(30, "small", "tanh")["grad_norms"]
    skip = gradient_profile(30, "small", "tanh", residual=True)["grad_norms"]
    assert plain[0] < 1e-20 < 1e-3 < skip[0]


def test_controls_redraw():
    explorer = DepthExplorer(depth=5, init="he", activation="relu")
    runs = explorer.n_runs
    explorer.depth.value = 12
    explorer.init.value = "small"
    assert explorer.n_runs == runs + 2
    assert explorer.profile["depth"] == 12 and explorer.profile["init"] == "small"
    assert len(explorer.figure.axes) == 2
    assert "vanishing" in explorer.status.value
    assert np.all(np.isfinite(explorer.profile["grad_norms"]))


def test_set_changes_several_controls_with_one_run():
    explorer = DepthExplorer(depth=5)
    runs = explorer.n_runs
    profile = explorer.set(depth=8, activation="tanh", init="xavier", residual=True)
    assert explorer.n_runs == runs + 1
    assert (profile["depth"], profile["activation"], profile["init"], profile["residual"]) == (8, "tanh", "xavier", True)
    with pytest.raises(ValueError, match="no control 'width'"):
        explorer.set(width=3)


def test_bad_settings():
    with pytest.raises(ValueError, match="init"):
        gradient_profile(5, "zeros", "relu")


def test_geometric_growth_is_never_healthy():
    # a norm that doubles at every layer on its way back: 2**20 times larger at the first layer
    growing = 2.0 ** np.arange(20, -1, -1) * 1e-3
    assert growing.max() < 1e4  # small enough in absolute terms: only its shape says "exploding"
    assert verdict(growing).startswith("exploding")
    assert verdict(growing[::-1]).startswith("vanishing")
    assert verdict(np.ones(21)).startswith("healthy")


def test_tanh_with_large_weights_explodes_layer_after_layer():
    # tanh with s = 1 at depth 10: the norm grows about 2x per layer back, to 2.5e3 at the first layer
    norms = gradient_profile(10, "large", "tanh")["grad_norms"]
    assert norms.max() < 1e4 and norms[0] > 100 * norms[-1]
    assert verdict(norms).startswith("exploding")
