"""Tests for course.schedules: hand-computed values, classes driving an optimizer, PyTorch agreement."""

from __future__ import annotations

import math

import numpy as np
import pytest

from course import schedules as S
from course.optim import SGD, Adam


def _opt(lr=0.1):
    return SGD({"w": np.zeros(3)}, lr=lr)


def _run(sched, n):
    """lrs seen by the optimizer at steps 0 .. n-1 (the constructor sets step 0)."""
    lrs = []
    for _ in range(n):
        lrs.append(sched.optimizer.lr)
        assert sched.get_last_lr() == sched.optimizer.lr
        sched.step()
    return lrs


# ---------------------------------------------------------------------------------------------
# Pure functions, hand-computed
# ---------------------------------------------------------------------------------------------


def test_step_lr_hand_computed():
    got = [S.step_lr(t, 1.0, step_size=3, gamma=0.5) for t in range(8)]
    assert got == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25]
    assert S.step_lr(10, 0.2, 10) == pytest.approx(0.02)  # default gamma 0.1


def test_exponential_lr_hand_computed():
    got = [S.exponential_lr(t, 2.0, gamma=0.5) for t in range(4)]
    assert got == [2.0, 1.0, 0.5, 0.25]


def test_cosine_annealing_hand_computed():
    # T_max = 4: cos(0), cos(pi/4), cos(pi/2), cos(3pi/4), cos(pi) -> (1 + c) / 2
    got = [S.cosine_annealing_lr(t, 1.0, T_max=4) for t in range(5)]
    r = math.sqrt(2) / 2
    np.testing.assert_allclose(got, [1.0, (1 + r) / 2, 0.5, (1 - r) / 2, 0.0], atol=1e-15)
    assert S.cosine_annealing_lr(2, 1.0, T_max=4, eta_min=0.2) == pytest.approx(0.6)
    # beyond T_max it climbs back along the cosine (period 2 T_max), as PyTorch's class does
    assert S.cosine_annealing_lr(6, 1.0, T_max=4) == pytest.approx(0.5)
    assert S.cosine_annealing_lr(8, 1.0, T_max=4) == pytest.approx(1.0)


def test_linear_warmup_hand_computed():
    got = [S.linear_warmup_lr(t, 0.3, start_factor=0.1, end_factor=1.0, total_iters=3) for t in range(6)]
    np.testing.assert_allclose(got, [0.03, 0.12, 0.21, 0.3, 0.3, 0.3], rtol=1e-14)
    # PyTorch's defaults: start_factor 1/3 over 5 steps
    assert S.linear_warmup_lr(0, 0.3) == pytest.approx(0.1)
    assert S.linear_warmup_lr(5, 0.3) == pytest.approx(0.3)


def test_cyclic_triangular_hand_computed():
    # up in 2 steps from 1 to 3, down in 2: 1, 2, 3, 2, 1, 2, ...
    got = [S.cyclic_lr(t, 1.0, 3.0, step_size_up=2) for t in range(7)]
    np.testing.assert_allclose(got, [1, 2, 3, 2, 1, 2, 3], rtol=1e-15)
    # asymmetric: up in 1 step, down in 3
    got = [S.cyclic_lr(t, 0.0, 1.0, step_size_up=1, step_size_down=3) for t in range(5)]
    np.testing.assert_allclose(got, [0, 1, 2 / 3, 1 / 3, 0], atol=1e-15)


def test_cyclic_other_modes_hand_computed():
    got = [S.cyclic_lr(t, 0.0, 1.0, step_size_up=1, mode="triangular2") for t in range(6)]
    np.testing.assert_allclose(got, [0, 1, 0, 0.5, 0, 0.25], atol=1e-15)
    got = [S.cyclic_lr(t, 0.0, 1.0, step_size_up=1, mode="exp_range", gamma=0.5) for t in range(4)]
    np.testing.assert_allclose(got, [0, 0.5, 0, 0.125], atol=1e-15)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: S.step_lr(-1, 0.1, 3), "step must be an int >= 0"),
        (lambda: S.step_lr(1.5, 0.1, 3), "step must be an int >= 0"),
        (lambda: S.step_lr(1, 0.1, 0), "step_size"),
        (lambda: S.exponential_lr(1, -0.1, 0.9), "base_lr"),
        (lambda: S.exponential_lr(1, 0.1, 0.0), "gamma"),
        (lambda: S.cosine_annealing_lr(1, 0.1, 0), "T_max"),
        (lambda: S.linear_warmup_lr(1, 0.1, start_factor=0.0), "start_factor"),
        (lambda: S.linear_warmup_lr(1, 0.1, end_factor=1.5), "end_factor"),
        (lambda: S.cyclic_lr(1, 0.1, 1.0, mode="sawtooth"), "mode"),
        (lambda: S.cyclic_lr(1, 0.1, 1.0, step_size_down=0), "step_size_down"),
    ],
)
def test_invalid_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_numpy_integer_steps_are_accepted():
    assert S.step_lr(np.int64(3), 1.0, 3, 0.5) == 0.5


# ---------------------------------------------------------------------------------------------
# Classes: they set the optimizer's lr from the pure functions
# ---------------------------------------------------------------------------------------------


def test_step_lr_class_drives_the_optimizer():
    opt = _opt(1.0)
    sched = S.StepLR(opt, step_size=2, gamma=0.5)
    assert _run(sched, 6) == [1.0, 1.0, 0.5, 0.5, 0.25, 0.25]
    assert sched.last_epoch == 6 and sched.base_lr == 1.0


def test_classes_use_the_pure_functions():
    cases = [
        (lambda o: S.StepLR(o, 3, 0.3), lambda t: S.step_lr(t, 0.1, 3, 0.3)),
        (lambda o: S.ExponentialLR(o, 0.9), lambda t: S.exponential_lr(t, 0.1, 0.9)),
        (lambda o: S.CosineAnnealingLR(o, 7, 0.01), lambda t: S.cosine_annealing_lr(t, 0.1, 7, 0.01)),
        (lambda o: S.LinearLR(o, 0.2, 0.9, 4), lambda t: S.linear_warmup_lr(t, 0.1, 0.2, 0.9, 4)),
        (lambda o: S.CyclicLR(o, 0.01, 0.2, 3, 5), lambda t: S.cyclic_lr(t, 0.01, 0.2, 3, 5)),
    ]
    for make, fn in cases:
        sched = make(_opt(0.1))
        assert _run(sched, 20) == [fn(t) for t in range(20)]
        assert [sched.lr_at(t) for t in range(20)] == [fn(t) for t in range(20)]


def test_cyclic_lr_replaces_the_optimizers_lr_and_works_with_adam():
    opt = Adam({"w": np.zeros(2)}, lr=0.5)
    sched = S.CyclicLR(opt, base_lr=0.001, max_lr=0.01, step_size_up=5)
    assert opt.lr == 0.001 and sched.base_lr == 0.001
    for _ in range(5):
        sched.step()
    assert opt.lr == pytest.approx(0.01)


def test_scheduler_state_dict_round_trip():
    sched = S.CosineAnnealingLR(_opt(0.1), T_max=10)
    for _ in range(4):
        sched.step()
    saved = sched.state_dict()
    other = S.CosineAnnealingLR(_opt(0.1), T_max=10)
    other.load_state_dict(saved)
    assert other.last_epoch == 4 and other.get_last_lr() == sched.get_last_lr()
    sched.step()
    other.step()
    assert other.get_last_lr() == sched.get_last_lr()


def test_scheduler_needs_an_optimizer():
    with pytest.raises(TypeError, match="optimizer"):
        S.StepLR(object(), 3)
    with pytest.raises(ValueError, match="step_size"):
        S.StepLR(_opt(), 0)


# ---------------------------------------------------------------------------------------------
# Agreement with PyTorch's schedulers (same arguments, same sequence of learning rates)
# ---------------------------------------------------------------------------------------------

TORCH_SCHEDULES = [
    ("StepLR", dict(step_size=7, gamma=0.5)),
    ("StepLR", dict(step_size=1)),
    ("ExponentialLR", dict(gamma=0.97)),
    ("CosineAnnealingLR", dict(T_max=17, eta_min=0.001)),
    ("CosineAnnealingLR", dict(T_max=10)),
    ("LinearLR", dict(start_factor=0.1, end_factor=0.9, total_iters=13)),
    ("LinearLR", dict()),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=7, step_size_down=3)),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=4)),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=5, mode="triangular2")),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=5, mode="exp_range", gamma=0.99)),
]


@pytest.mark.torch
@pytest.mark.parametrize("name, kw", TORCH_SCHEDULES,
                         ids=[f"{n}-{kw}" for n, kw in TORCH_SCHEDULES])
def test_matches_pytorch(name, kw):
    torch = pytest.importorskip("torch")
    n_steps = 120  # past T_max, total_iters and several cycles
    opt = _opt(0.1)
    ours = getattr(S, name)(opt, **kw)
    tparam = torch.zeros(3, requires_grad=True)
    topt = torch.optim.SGD([tparam], lr=0.1)
    tkw = dict(kw, cycle_momentum=False) if name == "CyclicLR" else kw
    theirs = getattr(torch.optim.lr_scheduler, name)(topt, **tkw)
    for t in range(n_steps):
        assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr()[0], rel=1e-12, abs=1e-14), t
        assert opt.lr == pytest.approx(topt.param_groups[0]["lr"], rel=1e-12, abs=1e-14), t
        topt.step()
        ours.step()
        theirs.step()


@pytest.mark.torch
def test_cosine_closed_form_agrees_with_pytorch_recursion_well_past_t_max():
    torch = pytest.importorskip("torch")
    tparam = torch.zeros(1, requires_grad=True)
    topt = torch.optim.SGD([tparam], lr=0.5)
    theirs = torch.optim.lr_scheduler.CosineAnnealingLR(topt, T_max=25, eta_min=0.05)
    worst = 0.0
    for t in range(200):  # four periods
        worst = max(worst, abs(theirs.get_last_lr()[0] - S.cosine_annealing_lr(t, 0.5, 25, 0.05)))
        topt.step()
        theirs.step()
    assert worst < 1e-12


# ---------------------------------------------------------------------------------------------
# Plotting
# ---------------------------------------------------------------------------------------------


def test_plot_schedule_with_a_scheduler_and_a_function():
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    ax = Figure().add_subplot()
    opt = _opt(0.1)
    sched = S.StepLR(opt, step_size=2, gamma=0.5)
    assert S.plot_schedule(sched, 6, ax=ax) is ax
    x, y = ax.lines[0].get_data()
    assert list(x) == list(range(6))
    np.testing.assert_allclose(y, [0.1, 0.1, 0.05, 0.05, 0.025, 0.025])
    assert sched.last_epoch == 0 and opt.lr == 0.1  # plotting does not step the scheduler
    S.plot_schedule(lambda t: S.cosine_annealing_lr(t, 0.1, 10), 11, ax=ax, color="k")
    np.testing.assert_allclose(ax.lines[1].get_data()[1][[0, 10]], [0.1, 0.0], atol=1e-15)
    assert ax.get_xlabel() == "step"
    with pytest.raises(TypeError, match="schedule_or_fn"):
        S.plot_schedule(3.0, 5, ax=ax)


def test_plot_schedule_makes_its_own_axes():
    plt = pytest.importorskip("matplotlib.pyplot")
    ax = S.plot_schedule(lambda t: 0.1, 3)
    assert len(ax.lines) == 1
    plt.close(ax.figure)
