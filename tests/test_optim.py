"""Tests for course.optim: hand-computed steps, the classic published checks, PyTorch agreement,
momentum forms, state dicts, validation, convergence and the second-order methods."""

from __future__ import annotations

import math

import numpy as np
import pytest

from course import optim
from course.functions import beale, quadratic, rosenbrock, run_optimizer, saddle
from course.optim import SGD, Adagrad, Adam, AdamW, RMSprop

# ---------------------------------------------------------------------------------------------
# Hand-computed steps (numbers worked out on paper from the documented formulas)
# ---------------------------------------------------------------------------------------------


def _steps(rule, grads, w0=0.0, **kw):
    """Apply ``rule`` to a one-entry parameter for each gradient; return the w after each step."""
    w, state, out = np.array([w0]), {}, []
    for g in grads:
        rule(w, np.array([g]), state, **kw)
        out.append(float(w[0]))
    return out, state


def test_sgd_plain_one_step():
    w = np.array([1.0, -2.0])
    out = optim.sgd(w, np.array([0.5, 0.25]), {}, lr=0.1)
    assert out is w  # updated in place and returned
    np.testing.assert_allclose(w, [0.95, -2.025], rtol=0, atol=1e-15)


def test_sgd_momentum_hand_computed():
    # buf: 1, 0.9 + 1 = 1.9, 1.71 + 1 = 2.71;  w: -0.1, -0.29, -0.561
    ws, state = _steps(optim.sgd, [1.0, 1.0, 1.0], lr=0.1, momentum=0.9)
    np.testing.assert_allclose(ws, [-0.1, -0.29, -0.561], rtol=1e-14)
    np.testing.assert_allclose(state["momentum_buffer"], [2.71], rtol=1e-14)


def test_sgd_first_momentum_step_is_not_dampened():
    # First step copies g (buf = 1) whatever the dampening; then buf = 0.9 * 1 + 0.5 * 1 = 1.4
    ws, state = _steps(optim.sgd, [1.0, 1.0], lr=0.1, momentum=0.9, dampening=0.5)
    np.testing.assert_allclose(ws, [-0.1, -0.1 - 0.14], rtol=1e-14)
    np.testing.assert_allclose(state["momentum_buffer"], [1.4], rtol=1e-14)


def test_sgd_nesterov_hand_computed():
    # step 1: buf = 1, g' = 1 + 0.9 * 1 = 1.9;  step 2: buf = 1.9, g' = 1 + 0.9 * 1.9 = 2.71
    ws, _ = _steps(optim.sgd, [1.0, 1.0], lr=0.1, momentum=0.9, nesterov=True)
    np.testing.assert_allclose(ws, [-0.19, -0.19 - 0.271], rtol=1e-14)


def test_sgd_weight_decay_is_l2_gradient():
    # g' = 0 + 0.1 * 2 = 0.2;  w = 2 - 0.5 * 0.2 = 1.9
    ws, state = _steps(optim.sgd, [0.0], w0=2.0, lr=0.5, weight_decay=0.1)
    assert ws == pytest.approx([1.9], abs=1e-15)
    assert state == {}  # no momentum: no buffer


def test_adagrad_hand_computed():
    # sum = 4, w = -0.1 * 2 / 2 = -0.1;  sum = 8, w = -0.1 - 0.1 * 2 / sqrt(8)
    ws, state = _steps(optim.adagrad, [2.0, 2.0], lr=0.1, eps=0.0)
    np.testing.assert_allclose(ws, [-0.1, -0.1 - 0.2 / math.sqrt(8)], rtol=1e-14)
    assert state["step"] == 2 and state["sum"][0] == 8.0


def test_adagrad_lr_decay_and_initial_accumulator():
    # lr_decay = 1: step 2 uses lr / (1 + 1) = 0.05.  Accumulator starting at 5: sum = 9.
    ws, _ = _steps(optim.adagrad, [2.0, 2.0], lr=0.1, lr_decay=1.0, eps=0.0)
    np.testing.assert_allclose(ws, [-0.1, -0.1 - 0.05 * 2 / math.sqrt(8)], rtol=1e-14)
    opt = Adagrad({"w": np.array([0.0])}, lr=0.1, initial_accumulator_value=5.0, eps=0.0)
    assert opt.state["w"]["step"] == 0 and opt.state["w"]["sum"][0] == 5.0
    opt.step({"w": np.array([2.0])})
    np.testing.assert_allclose(opt.params["w"], [-0.1 * 2 / 3], rtol=1e-14)


def test_rmsprop_hand_computed():
    # alpha = 0.5: v = 0.5 * 4 = 2, w = -0.1 * 2 / sqrt(2)
    ws, state = _steps(optim.rmsprop, [2.0], lr=0.1, alpha=0.5, eps=0.0)
    np.testing.assert_allclose(ws, [-0.2 / math.sqrt(2)], rtol=1e-14)
    assert set(state) == {"step", "square_avg"}
    # centred: m = 1, v - m^2 = 1, w = -0.1 * 2 / 1
    ws, state = _steps(optim.rmsprop, [2.0], lr=0.1, alpha=0.5, eps=0.0, centered=True)
    np.testing.assert_allclose(ws, [-0.2], rtol=1e-14)
    assert set(state) == {"step", "square_avg", "grad_avg"}
    # momentum 0.9, g = 2 then 2: v = 2 then 3; b = sqrt(2) then 0.9 sqrt(2) + 2 / sqrt(3)
    ws, state = _steps(optim.rmsprop, [2.0, 2.0], lr=0.1, alpha=0.5, eps=0.0, momentum=0.9)
    b2 = 0.9 * math.sqrt(2) + 2 / math.sqrt(3)
    np.testing.assert_allclose(ws, [-0.1 * math.sqrt(2), -0.1 * math.sqrt(2) - 0.1 * b2], rtol=1e-14)
    np.testing.assert_allclose(state["momentum_buffer"], [b2], rtol=1e-14)


def test_adam_first_steps_move_by_lr_for_a_constant_gradient():
    # eps = 0 and a constant g: m_hat = g and v_hat = g^2, so every step is exactly lr * sign(g)
    w = np.array([1.0, -1.0])
    state = {}
    for t in (1, 2, 3):
        optim.adam(w, np.array([3.0, -0.5]), state, lr=0.1, eps=0.0)
        np.testing.assert_allclose(w, [1.0 - 0.1 * t, -1.0 + 0.1 * t], rtol=1e-14)
    assert state["step"] == 3


def test_adam_two_steps_hand_computed():
    # betas (0.5, 0.5), g = 1 then -1: m = 0.5, v = 0.5; m = -0.25, v = 0.75
    # step 2: m_hat = -0.25 / 0.75 = -1/3, v_hat = 0.75 / 0.75 = 1 -> w += lr / 3
    ws, state = _steps(optim.adam, [1.0, -1.0], lr=0.3, betas=(0.5, 0.5), eps=0.0)
    np.testing.assert_allclose(ws, [-0.3, -0.2], rtol=1e-14)
    np.testing.assert_allclose([state["exp_avg"][0], state["exp_avg_sq"][0]], [-0.25, 0.75], rtol=1e-14)


def test_amsgrad_keeps_the_largest_second_moment():
    # betas (0.5, 0.5), g = 2 then 0: v = 2 then 1, but v_max stays 2; m = 1 then 0.5
    # step 2: m_hat = 0.5 / 0.75, v_hat = 2 / 0.75 (AMSGrad) or 1 / 0.75 (Adam)
    ws, state = _steps(optim.adam, [2.0, 0.0], lr=0.1, betas=(0.5, 0.5), eps=0.0, amsgrad=True)
    assert state["max_exp_avg_sq"][0] == 2.0 and state["exp_avg_sq"][0] == 1.0
    np.testing.assert_allclose(ws[1], -0.1 - 0.1 * (0.5 / 0.75) / math.sqrt(2 / 0.75), rtol=1e-14)
    ws, _ = _steps(optim.adam, [2.0, 0.0], lr=0.1, betas=(0.5, 0.5), eps=0.0)
    np.testing.assert_allclose(ws[1], -0.1 - 0.1 * (0.5 / 0.75) / math.sqrt(1 / 0.75), rtol=1e-14)


def test_adamw_decay_is_decoupled_from_the_gradient():
    # g = 0: Adam's step is 0, AdamW only shrinks w by (1 - lr * wd) = 0.95
    ws, _ = _steps(optim.adamw, [0.0], w0=1.0, lr=0.1, weight_decay=0.5)
    assert ws == pytest.approx([0.95], abs=1e-15)
    # Adam's L2 weight decay turns w into a gradient 0.5, and the first step moves by lr
    ws, _ = _steps(optim.adam, [0.0], w0=1.0, lr=0.1, weight_decay=0.5, eps=0.0)
    assert ws == pytest.approx([0.9], abs=1e-15)


def test_gradient_is_not_modified():
    g = np.array([1.0, 2.0])
    for rule, kw in [(optim.sgd, dict(lr=0.1, momentum=0.9, weight_decay=0.1)),
                     (optim.adagrad, dict(weight_decay=0.1)), (optim.rmsprop, dict(centered=True)),
                     (optim.adam, dict(weight_decay=0.1)), (optim.adamw, {})]:
        state = {}
        rule(np.array([0.5, -0.5]), g, state, **kw)
        rule(np.array([0.5, -0.5]), g, state, **kw)
        np.testing.assert_array_equal(g, [1.0, 2.0])


def test_first_momentum_buffer_is_a_copy_of_the_gradient():
    g = np.array([1.0, 2.0])
    state = {}
    optim.sgd(np.zeros(2), g, state, lr=0.1, momentum=0.9)
    g[0] = 100.0  # the caller reuses its gradient array
    assert state["momentum_buffer"][0] == 1.0


# ---------------------------------------------------------------------------------------------
# The classic published check (N, D = 4, 5), expected values from the documented formulas,
# reproduced through the state-dict API
# ---------------------------------------------------------------------------------------------

N, D = 4, 5


def _classic():
    w = np.linspace(-0.4, 0.6, num=N * D).reshape(N, D)
    dw = np.linspace(-0.6, 0.4, num=N * D).reshape(N, D)
    s1 = np.linspace(0.6, 0.9, num=N * D).reshape(N, D)
    s2 = np.linspace(0.7, 0.5, num=N * D).reshape(N, D)
    return w, dw, s1, s2


def _load(opt, name="w", **state):
    saved = opt.state_dict()
    saved["state"][name].update(state)
    opt.load_state_dict(saved)


def test_classic_check_sgd_momentum():
    w, dw, v, _ = _classic()
    lr, mu = 1e-3, 0.9
    v_next = mu * v - lr * dw  # classic velocity form
    w_next = w + v_next
    # hand-computed corners: w=-0.4, dw=-0.6, v=0.6 and w=0.6, dw=0.4, v=0.9
    assert w_next[0, 0] == pytest.approx(-0.4 + 0.54 + 0.0006, abs=1e-15)  # 0.1406
    assert w_next[-1, -1] == pytest.approx(0.6 + 0.81 - 0.0004, abs=1e-15)  # 1.4096
    # through SGD's state dict: the velocity is -lr * momentum_buffer
    params = {"w": w.copy()}
    opt = SGD(params, lr=lr, momentum=mu)
    _load(opt, momentum_buffer=-v / lr)
    opt.step({"w": dw})
    np.testing.assert_allclose(params["w"], w_next, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(-lr * opt.state_dict()["state"]["w"]["momentum_buffer"], v_next,
                               rtol=1e-12, atol=1e-14)
    # and through the classic form itself
    w2, state = w.copy(), {"velocity": v.copy()}
    optim.momentum_classic(w2, dw, state, lr=lr, mu=mu)
    np.testing.assert_allclose(w2, w_next, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(state["velocity"], v_next, rtol=1e-14, atol=1e-15)


def test_classic_check_rmsprop():
    w, dw, cache, _ = _classic()
    lr, alpha, eps = 1e-2, 0.99, 1e-8
    cache_next = alpha * cache + (1 - alpha) * dw**2
    w_next = w - lr * dw / (np.sqrt(cache_next) + eps)
    assert cache_next[0, 0] == pytest.approx(0.594 + 0.0036, abs=1e-15)  # 0.5976
    assert w_next[0, 0] == pytest.approx(-0.4 + 0.006 / (math.sqrt(0.5976) + 1e-8), abs=1e-14)
    params = {"w": w.copy()}
    opt = RMSprop(params, lr=lr, alpha=alpha, eps=eps)
    _load(opt, step=0, square_avg=cache)
    opt.step({"w": dw})
    np.testing.assert_allclose(params["w"], w_next, rtol=1e-12)
    np.testing.assert_allclose(opt.state["w"]["square_avg"], cache_next, rtol=1e-12)
    assert opt.state["w"]["step"] == 1


@pytest.mark.parametrize("cls", [Adam, AdamW])
def test_classic_check_adam(cls):
    w, dw, m, v = _classic()
    lr, (b1, b2), eps, t = 1e-2, (0.9, 0.999), 1e-8, 5
    wd = 0.0 if cls is Adam else 0.01
    t_next = t + 1  # incremented before the bias correction
    m_next = b1 * m + (1 - b1) * dw
    v_next = b2 * v + (1 - b2) * dw**2
    m_hat, v_hat = m_next / (1 - b1**t_next), v_next / (1 - b2**t_next)
    w_next = w * (1 - lr * wd) - lr * m_hat / (np.sqrt(v_hat) + eps)
    assert m_next[0, 0] == pytest.approx(0.54 - 0.06, abs=1e-15)  # 0.48
    assert v_next[0, 0] == pytest.approx(0.6993 + 0.00036, abs=1e-15)  # 0.69966
    params = {"w": w.copy()}
    opt = cls(params, lr=lr, weight_decay=wd)
    _load(opt, step=t, exp_avg=m, exp_avg_sq=v)
    opt.step({"w": dw})
    np.testing.assert_allclose(params["w"], w_next, rtol=1e-12)
    np.testing.assert_allclose(opt.state["w"]["exp_avg"], m_next, rtol=1e-12)
    np.testing.assert_allclose(opt.state["w"]["exp_avg_sq"], v_next, rtol=1e-12)
    assert opt.state["w"]["step"] == t_next


def test_classic_check_adagrad():
    w, dw, acc, _ = _classic()
    lr, lr_decay, eps, t = 1e-2, 0.1, 1e-10, 5
    acc_next = acc + dw**2
    w_next = w - lr / (1 + t * lr_decay) * dw / (np.sqrt(acc_next) + eps)  # step t + 1 = 6
    params = {"w": w.copy()}
    opt = Adagrad(params, lr=lr, lr_decay=lr_decay)
    _load(opt, step=t, sum=acc)
    opt.step({"w": dw})
    np.testing.assert_allclose(params["w"], w_next, rtol=1e-12)
    np.testing.assert_allclose(opt.state["w"]["sum"], acc_next, rtol=1e-12)


# ---------------------------------------------------------------------------------------------
# Agreement with PyTorch: 50 random steps in float64, every option
# ---------------------------------------------------------------------------------------------

TORCH_CASES = [
    (SGD, "SGD", dict(lr=0.1)),
    (SGD, "SGD", dict(lr=0.05, momentum=0.9)),
    (SGD, "SGD", dict(lr=0.05, momentum=0.9, dampening=0.3)),
    (SGD, "SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    (SGD, "SGD", dict(lr=0.05, momentum=0.8, weight_decay=0.01)),
    (SGD, "SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.05)),
    (SGD, "SGD", dict(lr=0.1, weight_decay=0.1)),
    (Adagrad, "Adagrad", dict()),
    (Adagrad, "Adagrad", dict(lr=0.1, lr_decay=0.05)),
    (Adagrad, "Adagrad", dict(lr=0.1, initial_accumulator_value=0.3, weight_decay=0.02)),
    (Adagrad, "Adagrad", dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1,
                              weight_decay=0.1, eps=1e-3)),
    (RMSprop, "RMSprop", dict()),
    (RMSprop, "RMSprop", dict(lr=0.01, alpha=0.9, eps=1e-6)),
    (RMSprop, "RMSprop", dict(centered=True)),
    (RMSprop, "RMSprop", dict(momentum=0.9)),
    (RMSprop, "RMSprop", dict(lr=0.01, centered=True, momentum=0.5, weight_decay=0.01)),
    (Adam, "Adam", dict()),
    (Adam, "Adam", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6)),
    (Adam, "Adam", dict(lr=0.01, amsgrad=True)),
    (Adam, "Adam", dict(lr=0.01, weight_decay=0.1)),
    (Adam, "Adam", dict(lr=0.05, amsgrad=True, weight_decay=0.1)),
    (AdamW, "AdamW", dict()),
    (AdamW, "AdamW", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    (AdamW, "AdamW", dict(lr=0.05, betas=(0.5, 0.9), weight_decay=0.0)),
]


def _case_id(case):
    cls, _, kw = case
    return cls.__name__ + "-" + "-".join(f"{k}={v}" for k, v in kw.items())


@pytest.mark.torch
@pytest.mark.parametrize("case", TORCH_CASES, ids=[_case_id(c) for c in TORCH_CASES])
def test_matches_pytorch_over_50_steps(case):
    torch = pytest.importorskip("torch")
    cls, torch_name, kw = case
    rng = np.random.default_rng(sum(map(ord, _case_id(case))))
    params = {"W": rng.standard_normal((4, 5)), "b": rng.standard_normal(5)}
    tparams = {k: torch.tensor(v.copy(), dtype=torch.float64, requires_grad=True)
               for k, v in params.items()}
    opt = cls(params, **kw)
    topt = getattr(torch.optim, torch_name)(list(tparams.values()), **kw)
    for t in range(50):
        if t == 25:  # a learning-rate change halfway (what a schedule does)
            opt.lr = opt.lr * 0.5
            topt.param_groups[0]["lr"] *= 0.5
        scale = 10.0 ** rng.uniform(-2, 1)
        grads = {k: scale * rng.standard_normal(v.shape) for k, v in params.items()}
        opt.step(grads)
        for k, p in tparams.items():
            p.grad = torch.tensor(grads[k])
        topt.step()
        for k, p in tparams.items():
            np.testing.assert_allclose(params[k], p.detach().numpy(), rtol=1e-10, atol=1e-10,
                                       err_msg=f"parameter {k} after step {t + 1}")
    for k, p in tparams.items():
        tstate = topt.state[p]
        assert set(opt.state[k]) == set(tstate), "state names must be PyTorch's"
        for name, value in tstate.items():
            if name == "step":
                assert opt.state[k]["step"] == int(value)
            else:
                np.testing.assert_allclose(opt.state[k][name], value.numpy(), rtol=1e-10, atol=1e-12,
                                           err_msg=f"state[{k!r}][{name!r}]")


# ---------------------------------------------------------------------------------------------
# The other ways of writing momentum, and how they map onto SGD
# ---------------------------------------------------------------------------------------------


def _random_grads(seed, n=30, shape=(3, 2)):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(shape), [rng.standard_normal(shape) for _ in range(n)]


def test_momentum_classic_equals_sgd():
    w0, grads = _random_grads(0)
    lr, mu = 0.05, 0.9
    w_classic, state = w0.copy(), {}
    params = {"w": w0.copy()}
    opt = SGD(params, lr=lr, momentum=mu)
    for g in grads:
        optim.momentum_classic(w_classic, g, state, lr=lr, mu=mu)
        opt.step({"w": g})
        np.testing.assert_allclose(w_classic, params["w"], rtol=1e-12, atol=1e-13)
        np.testing.assert_allclose(state["velocity"], -lr * opt.state["w"]["momentum_buffer"],
                                   rtol=1e-12, atol=1e-13)


def test_momentum_ema_equals_sgd_with_rescaled_lr():
    w0, grads = _random_grads(1)
    lr, beta = 0.1, 0.9
    w_ema, state = w0.copy(), {}
    params = {"w": w0.copy()}
    opt = SGD(params, lr=lr * (1 - beta), momentum=beta, dampening=0.0)
    for g in grads:
        optim.momentum_ema(w_ema, g, state, lr=lr, beta=beta)
        opt.step({"w": g})
        np.testing.assert_allclose(w_ema, params["w"], rtol=1e-12, atol=1e-13)
        np.testing.assert_allclose(state["velocity"], (1 - beta) * opt.state["w"]["momentum_buffer"],
                                   rtol=1e-12, atol=1e-13)


def test_momentum_ema_equals_dampened_sgd_from_a_zero_buffer():
    w0, grads = _random_grads(2)
    lr, beta = 0.1, 0.8
    w_ema, state = w0.copy(), {}
    params = {"w": w0.copy()}
    opt = SGD(params, lr=lr, momentum=beta, dampening=beta)
    _load(opt, momentum_buffer=np.zeros_like(w0))  # skip SGD's undamped first step
    for g in grads:
        optim.momentum_ema(w_ema, g, state, lr=lr, beta=beta)
        opt.step({"w": g})
        np.testing.assert_allclose(w_ema, params["w"], rtol=1e-12, atol=1e-13)
        np.testing.assert_allclose(state["velocity"], opt.state["w"]["momentum_buffer"],
                                   rtol=1e-12, atol=1e-13)


def test_dampened_sgd_from_empty_state_carries_a_fading_first_gradient():
    # From SGD's usual start the buffer is v_t + beta**t * g_1 (v_t the EMA).
    w0, grads = _random_grads(3, n=10)
    beta = 0.7
    state_ema, state_sgd = {}, {}
    for t, g in enumerate(grads, start=1):
        optim.momentum_ema(w0.copy(), g, state_ema, lr=0.1, beta=beta)
        optim.sgd(w0.copy(), g, state_sgd, lr=0.1, momentum=beta, dampening=beta)
        np.testing.assert_allclose(state_sgd["momentum_buffer"],
                                   state_ema["velocity"] + beta**t * grads[0], rtol=1e-12, atol=1e-13)


# ---------------------------------------------------------------------------------------------
# Classes: state dicts, lr, validation
# ---------------------------------------------------------------------------------------------

ALL_CLASSES = [
    (SGD, dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
    (Adagrad, dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1)),
    (RMSprop, dict(centered=True, momentum=0.5)),
    (Adam, dict(amsgrad=True, weight_decay=0.01)),
    (AdamW, dict(lr=0.01)),
]


@pytest.mark.parametrize("cls, kw", ALL_CLASSES, ids=[c.__name__ for c, _ in ALL_CLASSES])
def test_state_dict_round_trip_is_exact(cls, kw):
    rng = np.random.default_rng(7)
    params = {"W": rng.standard_normal((3, 4)), "b": rng.standard_normal(4)}
    grads = [{k: rng.standard_normal(v.shape) for k, v in params.items()} for _ in range(20)]
    opt = cls(params, **kw)
    for g in grads[:10]:
        opt.step(g)
    saved = opt.state_dict()
    params_copy = {k: v.copy() for k, v in params.items()}
    for g in grads[10:]:
        opt.step(g)
    # the saved copy is deep: later steps did not change it
    assert saved["state"]["W"] != {} and saved["hyperparams"]["lr"] == opt.lr
    other = cls(params_copy, **{**kw, "lr": 0.123})
    other.load_state_dict(saved)
    assert other.lr == saved["hyperparams"]["lr"]
    reloaded = other.state_dict()
    for k in saved["state"]:
        assert set(reloaded["state"][k]) == set(saved["state"][k])
        for name, value in saved["state"][k].items():
            np.testing.assert_array_equal(reloaded["state"][k][name], value)
    for g in grads[10:]:
        other.step(g)
    for k in params:
        np.testing.assert_array_equal(params_copy[k], params[k])  # bit for bit


def test_state_dict_arrays_are_copies():
    params = {"w": np.ones(3)}
    opt = Adam(params)
    opt.step({"w": np.ones(3)})
    saved = opt.state_dict()
    saved["state"]["w"]["exp_avg"][0] = 99.0
    assert opt.state["w"]["exp_avg"][0] != 99.0
    opt.load_state_dict(saved)
    saved["state"]["w"]["exp_avg"][1] = 42.0
    assert opt.state["w"]["exp_avg"][0] == 99.0 and opt.state["w"]["exp_avg"][1] != 42.0


def test_params_updated_in_place_and_lr_writable():
    W = np.ones((2, 2))
    params = {"W": W}
    opt = SGD(params, lr=0.5)
    opt.step({"W": np.ones((2, 2))})
    assert params["W"] is W
    np.testing.assert_array_equal(W, 0.5)
    opt.lr = 0.25
    assert opt.lr == 0.25 and opt.hyperparams["lr"] == 0.25 and opt.defaults["lr"] == 0.5
    opt.step({"W": np.ones((2, 2))})
    np.testing.assert_array_equal(W, 0.25)
    assert "SGD" in repr(opt)


def test_float32_parameters_stay_float32():
    params = {"w": np.ones(3, dtype=np.float32)}
    opt = Adam(params, lr=0.1)
    opt.step({"w": np.ones(3, dtype=np.float32)})
    assert params["w"].dtype == np.float32 and opt.state["w"]["exp_avg"].dtype == np.float32


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda p: SGD(p, lr=-0.1), "lr must be >= 0"),
        (lambda p: SGD(p, lr=0.1, momentum=-0.5), "momentum"),
        (lambda p: SGD(p, lr=0.1, nesterov=True), "nesterov"),
        (lambda p: SGD(p, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), "dampening"),
        (lambda p: SGD(p, lr=0.1, weight_decay=-1e-3), "weight_decay"),
        (lambda p: Adam(p, betas=(1.0, 0.999)), r"betas\[0\]"),
        (lambda p: Adam(p, betas=(0.9, -0.1)), r"betas\[1\]"),
        (lambda p: AdamW(p, betas=(0.9,)), "betas must be a pair"),
        (lambda p: Adam(p, eps=-1e-8), "eps"),
        (lambda p: Adam(p, lr=float("nan")), "lr"),
        (lambda p: Adagrad(p, lr_decay=-0.1), "lr_decay"),
        (lambda p: Adagrad(p, initial_accumulator_value=-1.0), "initial_accumulator_value"),
        (lambda p: RMSprop(p, alpha=1.5), "alpha"),
        (lambda p: RMSprop(p, momentum=-0.1), "momentum"),
        (lambda p: SGD({}, lr=0.1), "params is empty"),
    ],
)
def test_invalid_hyperparameters_raise_value_error(make, match):
    with pytest.raises(ValueError, match=match):
        make({"w": np.zeros(2)})


def test_bad_params_raise_type_error():
    with pytest.raises(TypeError, match="params must be a dict"):
        SGD([np.zeros(2)], lr=0.1)
    with pytest.raises(TypeError, match=r"params\['w'\] must be an array"):
        SGD({"w": [0.0, 1.0]}, lr=0.1)
    with pytest.raises(TypeError, match=r"params\['w'\] must be a floating-point array"):
        SGD({"w": np.zeros(2, dtype=np.int64)}, lr=0.1)


def test_bad_grads_raise_value_error_naming_the_key():
    params = {"W": np.zeros((2, 3)), "b": np.zeros(3)}
    opt = Adam(params)
    with pytest.raises(ValueError, match=r"missing key\(s\) 'b'"):
        opt.step({"W": np.zeros((2, 3))})
    with pytest.raises(ValueError, match=r"unexpected key\(s\) 'c'"):
        opt.step({"W": np.zeros((2, 3)), "b": np.zeros(3), "c": np.zeros(1)})
    with pytest.raises(ValueError, match=r"grads\['W'\]"):
        opt.step({"W": np.zeros((3, 2)), "b": np.zeros(3)})
    with pytest.raises(ValueError, match="lr must be >= 0"):
        opt.lr = -1.0
    # nothing was changed by the failed calls
    assert opt.state == {"W": {}, "b": {}} and not params["W"].any()


def test_load_state_dict_rejects_mismatches():
    params = {"w": np.zeros(2)}
    adam = Adam(params)
    adam.step({"w": np.ones(2)})
    with pytest.raises(ValueError, match="saved by Adam"):
        SGD({"w": np.zeros(2)}, lr=0.1).load_state_dict(adam.state_dict())
    with pytest.raises(ValueError, match=r"missing key\(s\) 'v'"):
        Adam({"v": np.zeros(2)}).load_state_dict(adam.state_dict())
    with pytest.raises(ValueError, match="exp_avg"):
        Adam({"w": np.zeros(3)}).load_state_dict(adam.state_dict())
    saved = adam.state_dict()
    saved["hyperparams"]["betas"] = (1.5, 0.9)
    with pytest.raises(ValueError, match=r"betas\[0\]"):
        Adam({"w": np.zeros(2)}).load_state_dict(saved)


def test_pure_function_argument_errors():
    with pytest.raises(TypeError, match="state must be a dict"):
        optim.adam(np.zeros(2), np.zeros(2), None)
    with pytest.raises(ValueError, match="w and g must have the same shape"):
        optim.sgd(np.zeros(2), np.zeros(3), {}, lr=0.1)
    with pytest.raises(TypeError, match="w must be an array"):
        optim.sgd([0.0, 1.0], np.zeros(2), {}, lr=0.1)
    with pytest.raises(ValueError, match="beta"):
        optim.momentum_ema(np.zeros(2), np.zeros(2), {}, lr=0.1, beta=1.0)


def test_pure_functions_run_under_the_strict_array_api():
    xs = pytest.importorskip("array_api_strict")
    cases = [
        (optim.sgd, dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1)),
        (optim.momentum_classic, dict(lr=0.1, mu=0.9)),
        (optim.momentum_ema, dict(lr=0.1, beta=0.9)),
        (optim.adagrad, dict(lr=0.1, lr_decay=0.1)),
        (optim.rmsprop, dict(centered=True, momentum=0.5)),
        (optim.adam, dict(amsgrad=True, weight_decay=0.1)),
        (optim.adamw, dict()),
    ]
    for rule, kw in cases:
        w_np, w_xs, s_np, s_xs = np.array([1.0, -2.0]), xs.asarray([1.0, -2.0]), {}, {}
        for g in ([0.5, -1.0], [0.2, 0.3]):
            rule(w_np, np.asarray(g), s_np, **kw)
            rule(w_xs, xs.asarray(g), s_xs, **kw)
        np.testing.assert_allclose(np.asarray(w_xs), w_np, rtol=1e-15, err_msg=rule.__name__)


# ---------------------------------------------------------------------------------------------
# Convergence from the functions' default starts within a stated number of steps
# ---------------------------------------------------------------------------------------------

QUADRATIC_RUNS = [  # (rule, hyper-parameters, steps): |w - (0, 0)| < 1e-6 within `steps`
    (optim.sgd, dict(lr=0.15), 100),
    (optim.sgd, dict(lr=0.05, momentum=0.7), 100),
    (optim.sgd, dict(lr=0.05, momentum=0.7, nesterov=True), 100),
    (optim.momentum_ema, dict(lr=0.15, beta=0.7), 150),
    (optim.adagrad, dict(lr=1.0), 100),
    (optim.rmsprop, dict(lr=0.01), 1000),
    (optim.adam, dict(lr=0.1), 300),
    (optim.adamw, dict(lr=0.1, weight_decay=0.01), 300),
]

ROSENBROCK_RUNS = [  # |w - (1, 1)| < 1e-4 within `steps`, from (-1.2, 1)
    (optim.sgd, dict(lr=1.9e-3), 15000),
    (optim.sgd, dict(lr=1.5e-3, momentum=0.9), 1500),
    (optim.sgd, dict(lr=1e-3, momentum=0.9, nesterov=True), 2500),
    (optim.adagrad, dict(lr=1.0), 15000),
    (optim.rmsprop, dict(lr=2e-4, momentum=0.9), 2500),
    (optim.adam, dict(lr=0.05), 2500),
    (optim.adam, dict(lr=0.05, amsgrad=True), 4000),
]


def _steps_to_converge(fn, rule, kw, tol, max_steps):
    state = {}
    path = run_optimizer(lambda w, g: rule(w, g, state, **kw), fn.w0, max_steps, grad=fn)
    err = np.max(np.abs(path - np.array(fn.minimum)), axis=1)
    hits = np.flatnonzero(err < tol)
    return int(hits[0]) if hits.size else None


@pytest.mark.parametrize("rule, kw, steps", QUADRATIC_RUNS,
                         ids=[f"{r.__name__}-{kw}" for r, kw, _ in QUADRATIC_RUNS])
def test_converges_on_the_quadratic(rule, kw, steps):
    n = _steps_to_converge(quadratic, rule, kw, 1e-6, steps)
    assert n is not None, f"{rule.__name__} did not reach the minimum within {steps} steps"


@pytest.mark.parametrize("rule, kw, steps", ROSENBROCK_RUNS,
                         ids=[f"{r.__name__}-{kw}" for r, kw, _ in ROSENBROCK_RUNS])
def test_converges_on_rosenbrock(rule, kw, steps):
    n = _steps_to_converge(rosenbrock, rule, kw, 1e-4, steps)
    assert n is not None, f"{rule.__name__} did not reach (1, 1) within {steps} steps"


def test_too_large_a_learning_rate_diverges_on_the_quadratic():
    # lr above 2 / 10 (10 = the largest curvature) makes y grow: a test that can fail
    path = run_optimizer(lambda w, g: optim.sgd(w, g, {}, lr=0.21), quadratic.w0, 50, grad=quadratic)
    assert abs(path[-1, 1]) > abs(path[0, 1])


# ---------------------------------------------------------------------------------------------
# Second-order methods
# ---------------------------------------------------------------------------------------------


def test_newton_solves_a_quadratic_in_one_step():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((4, 4))
    H = A @ A.T + 0.5 * np.eye(4)
    b = rng.standard_normal(4)
    w = rng.standard_normal(4)
    # f = 0.5 w^T H w - b^T w: grad = H w - b, minimum where H w = b
    w_new = optim.newton_step(w, H @ w - b, H)
    np.testing.assert_allclose(H @ w_new, b, rtol=1e-10, atol=1e-12)
    w_star = optim.newton_step(np.array(quadratic.w0), quadratic.grad(np.array(quadratic.w0)),
                               quadratic.hessian(np.array(quadratic.w0)))
    np.testing.assert_allclose(w_star, [0.0, 0.0], atol=1e-15)


def test_newton_goes_to_the_saddle_point():
    w = np.array(saddle.w0)
    np.testing.assert_allclose(optim.newton_step(w, saddle.grad(w), saddle.hessian(w)), [0.0, 0.0],
                               atol=1e-15)


def test_newton_converges_on_rosenbrock():
    w = np.array(rosenbrock.w0)
    for _ in range(10):
        w = optim.newton_step(w, rosenbrock.grad(w), rosenbrock.hessian(w))
    np.testing.assert_allclose(w, [1.0, 1.0], atol=1e-10)


def test_newton_singular_hessian_raises():
    with pytest.raises(ValueError, match="hessian is singular"):
        optim.newton_step(np.zeros(2), np.ones(2), np.array([[1.0, 2.0], [2.0, 4.0]]))
    with pytest.raises(ValueError, match=r"hessian must have shape \(D, D\)"):
        optim.newton_step(np.zeros(2), np.ones(2), np.eye(3))


def _fg(fn):
    return lambda w: (fn.value(w), fn.grad(w))


def test_lbfgs_minimises_rosenbrock_within_50_iterations():
    w0 = np.array(rosenbrock.w0)
    w, trace = optim.lbfgs(_fg(rosenbrock), w0, max_iter=50)
    assert trace["converged"] and trace["n_iter"] <= 50
    np.testing.assert_allclose(w, [1.0, 1.0], atol=1e-6)
    np.testing.assert_array_equal(w0, rosenbrock.w0)  # the start is not modified
    assert trace["w"].shape == (trace["n_iter"] + 1, 2)
    np.testing.assert_array_equal(trace["w"][0], w0)
    assert np.all(np.diff(trace["f"]) <= 0)  # the line search only accepts decreases
    assert trace["grad_norm"][-1] <= 1e-8


def test_lbfgs_other_functions_and_unit_steps():
    for fn in (quadratic, beale):
        w, trace = optim.lbfgs(_fg(fn), np.array(fn.w0), max_iter=50)
        assert trace["converged"], fn.name
        np.testing.assert_allclose(w, fn.minimum, atol=1e-6)
    w, trace = optim.lbfgs(_fg(rosenbrock), np.array(rosenbrock.w0), max_iter=200, line_search=None)
    np.testing.assert_allclose(w, [1.0, 1.0], atol=1e-6)
    assert trace["n_evals"] == trace["n_iter"] + 1


def test_lbfgs_history_one_and_stops_at_max_iter():
    w, trace = optim.lbfgs(_fg(rosenbrock), np.array(rosenbrock.w0), history=1, max_iter=3)
    assert trace["n_iter"] == 3 and not trace["converged"]
    with pytest.raises(ValueError, match="history"):
        optim.lbfgs(_fg(rosenbrock), np.zeros(2), history=0)
    with pytest.raises(ValueError, match="line_search"):
        optim.lbfgs(_fg(rosenbrock), np.zeros(2), line_search="exact")
