"""Optimizer and schedule diagnoses from probes (course.grader.run.probes, candidates, faults): each
test plants one fault in a fresh update or schedule and checks the message names the term."""

import math

import numpy as np
import pytest

from course.grader import cases, check, get, grade_outcomes, run


@pytest.fixture(autouse=True)
def _progress_off(monkeypatch):
    monkeypatch.setenv("COURSE_PROGRESS_FILE", "off")
    monkeypatch.delenv("COURSE_CHECK_STRICT", raising=False)


def said(result, name):
    assert name in result.diagnosis_names, str(result)
    return " ".join(d.message for c in result.cases for d in c.diagnoses if d.name == name)


def adam_like(*, m_hat=True, power=0, square=True, eps_in_denominator=True, decay_lr=True, decoupled=False):
    def update(w, g, state, *, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False):
        b1, b2 = betas
        t = state["step"] = state.get("step", 0) + 1
        if decoupled:
            w *= 1 - (lr if decay_lr else 1.0) * weight_decay
        elif weight_decay:
            g = g + weight_decay * w
        state["m"] = m = b1 * state.get("m", 0) + (1 - b1) * g
        state["v"] = v = b2 * state.get("v", 0) + (1 - b2) * (g * g if square else g)
        if amsgrad:
            state["vm"] = v = np.maximum(state.get("vm", 0), v)
        mh = m / (1 - b1 ** (t + power)) if m_hat else m
        vh = v / (1 - b2 ** (t + power))
        with np.errstate(all="ignore"):
            w -= lr * mh / (np.sqrt(vh) + eps) if eps_in_denominator else lr * mh / np.sqrt(vh) + eps
        return w

    return update


def test_adam_first_moment_not_corrected():
    msg = said(check("optim.adam", adam_like(m_hat=False)), "m_not_corrected")
    assert "you used m, not m_hat" in msg and "first step moves w by" in msg


def test_adam_bias_correction_power():
    assert "t + 1" in said(check("optim.adam", adam_like(power=1)), "power_plus_one")


def test_adam_g_instead_of_g_squared():
    r = check("optim.adam", adam_like(square=False))
    assert "g * g" in said(r, "v_of_g")
    assert "step_after_bias_correction" not in r.diagnosis_names  # a NaN path alone names no variant


def test_adam_eps_added_to_the_step():
    assert "eps belongs in the denominator" in said(check("optim.adam", adam_like(eps_in_denominator=False)),
                                                    "eps_outside_division")


def test_adamw_decay_without_lr():
    upd = adam_like(decoupled=True, decay_lr=False)

    def adamw(w, g, state, *, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False):
        return upd(w, g, state, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad)

    assert "1 - lr * weight_decay" in said(check("optim.adamw", adamw), "wd_no_lr")


def test_sgd_weight_decay_outside_the_learning_rate():
    def sgd(w, g, state, *, lr, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0):
        w -= lr * g + weight_decay * w
        return w

    assert "through the learning rate" in said(check("optim.sgd", sgd), "wd_no_lr")


def test_momentum_velocity_updated_after_the_position():
    def classic(w, g, state, *, lr, mu):
        v = state.get("velocity", np.zeros_like(w))
        w += v
        state["velocity"] = mu * v - lr * g
        return w

    assert "does not move w at all" in said(check("optim.momentum_classic", classic), "position_first")


def test_adagrad_lr_decay_off_by_one():
    def adagrad(w, g, state, *, lr=1e-2, lr_decay=0.0, weight_decay=0.0, eps=1e-10):
        t = state["step"] = state.get("step", 0) + 1
        g = g + weight_decay * w
        s = state["sum"] = state.get("sum", 0.0) + g * g
        w -= lr / (1 + t * lr_decay) * g / (np.sqrt(s) + eps)
        return w

    assert "(t - 1) * lr_decay" in said(check("optim.adagrad", adagrad), "decay_off_by_one")


def test_probe_results_travel_as_plain_data(tmp_path):
    """Run phase here, wire format (as from the sandbox), compare phase there: the probes survive."""
    from course.instructor.sandbox.inside import wire

    ex = get("optim.adam")
    case_list = cases(ex, 0)
    outcomes = run(ex, adam_like(m_hat=False), case_list)
    wire.dump(outcomes, tmp_path / "o")
    back, _ = wire.load(tmp_path / "o")
    assert "m_not_corrected" in grade_outcomes(ex, 0, case_list, back).diagnosis_names


def test_schedule_argument_off_by_one():
    def cosine(step, base_lr, T_max, eta_min=0.0):
        return eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * step / (T_max + 1))) / 2

    assert "as if T_max were" in said(check("schedules.cosine_annealing_lr", cosine), "T_max_off_by_one")


def test_schedule_argument_ignored():
    def warmup(step, base_lr, start_factor=1 / 3, end_factor=1.0, total_iters=5):
        f = start_factor + (end_factor - start_factor) * min(step, 5) / 5
        return base_lr * f

    r = check("schedules.linear_warmup_lr", warmup)
    assert "ignores total_iters" in said(r, "total_iters_ignored")


def test_schedule_rounding_and_base():
    def step_lr(step, base_lr, step_size, gamma=0.1):
        return base_lr * gamma ** math.ceil(step / step_size)

    assert "ceil" in said(check("schedules.step_lr", step_lr), "rounding")

    def exponential(step, base_lr, gamma):
        return base_lr * math.exp(-gamma * step)

    assert "base e" in said(check("schedules.exponential_lr", exponential), "base")


def test_a_fault_the_test_function_hides_is_caught_by_the_probes():
    """Adagrad normalises the gradient: on a quadratic bowl, weight decay only rescales it and
    the path is the same with or without it. The designed gradients are not proportional to w."""

    def adagrad(w, g, state, *, lr=1e-2, lr_decay=0.0, weight_decay=0.0, eps=1e-10):
        state["step"] = state.get("step", 0) + 1
        state["sum"] = state.get("sum", np.zeros_like(w)) + g**2
        clr = lr / (1 + (state["step"] - 1) * lr_decay)
        w -= clr * g / (np.sqrt(state["sum"]) + eps)  # weight_decay never used
        return w

    r = check("optim.adagrad", adagrad)
    assert not r.passed
    assert "weight_decay" in said(r, "wd_ignored")
